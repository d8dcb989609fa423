package ingest

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"golang.org/x/net/html/charset"

	"github.com/fixgraph/fixgraph"
)

// Office files (.docx, .xlsx) are zip packages of XML parts. They are read under limits that
// mirror the archive's (archive.go): the number of parts, each part's expansion ratio, and the
// expanded size of the whole package, all checked on the package's directory before a part is
// read. archive/zip refuses to yield more bytes than a part declares, so the declared sizes
// that are checked bound what is read.
const (
	// DefaultMaxOfficeBytes is the most a .docx or .xlsx may expand to, all parts together,
	// unless the pipeline's MaxZipBytes is lower. Spreadsheets are read in memory, but for
	// sheets and string tables over 16 MiB, which excelize streams from a temporary file.
	DefaultMaxOfficeBytes = 256 << 20
	// MaxSheetRows is the most rows with data read from a spreadsheet, all sheets together.
	MaxSheetRows = 100_000
	// MaxSheetCells is the most cells read from a spreadsheet, empty cells inside a row included.
	MaxSheetCells = 2_000_000
	// maxSheetScan is the most rows a spreadsheet's sheets may span together, empty rows
	// included: the row iterator visits every row number up to the last, so a tiny file whose
	// sheets each have one cell at row 1,048,576 would otherwise cost billions of steps.
	maxSheetScan = 4 << 20
	// maxXMLDepth bounds the nesting of tables, content controls and the like that the DOCX
	// reader descends into (it recurses once per level).
	maxXMLDepth = 64
)

// cfbSignature starts a Compound File Binary container: an encrypted OOXML package, or a
// Word/Excel 97–2003 file.
var cfbSignature = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}

// officePackage is an opened .docx or .xlsx whose directory passed the limits.
type officePackage struct {
	kind  string               // "Word" or "Excel", for messages
	parts map[string]*zip.File // by name, lower-cased
	limit int64                // expanded bytes allowed, all parts together
}

// openOffice checks data as an Office package of kind ("Word" or "Excel") and opens it. A
// password-protected or legacy binary file, a broken zip, too many parts, a part that expands
// past the ratio limit, a package over the size limit, or an XML part with a DOCTYPE (which
// Office never writes; it is how entity bombs start) is refused with a message that says so.
func (p *Pipeline) openOffice(data []byte, kind string) (*officePackage, error) {
	if bytes.HasPrefix(data, cfbSignature) {
		if bytes.Contains(data, utf16Name("EncryptedPackage")) || bytes.Contains(data, utf16Name("EncryptionInfo")) {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "encrypted/password-protected Office file: remove the password in %s and upload it again", kind)
		}
		return nil, fixgraph.Errorf(fixgraph.EUNSUPPORTED, "this is a %s 97–2003 binary file, not Office Open XML: save it as %s in %s and upload that", kind, officeExt(kind), kind)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "not a readable %s file: the file is damaged or was cut off (it is not a complete zip package)", officeExt(kind))
	}
	maxParts := cmp.Or(p.MaxZipEntries, DefaultMaxZipEntries)
	if len(zr.File) > maxParts {
		return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "%s file has %d parts, over the limit of %d parts", officeExt(kind), len(zr.File), maxParts)
	}
	pkg := &officePackage{kind: kind, parts: make(map[string]*zip.File, len(zr.File)),
		limit: min(cmp.Or(p.MaxZipBytes, DefaultMaxZipBytes), DefaultMaxOfficeBytes)}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(pkg.limit) || f.UncompressedSize64 > uint64(pkg.limit) {
			return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "%s file expands to more than %d bytes; refused as a zip bomb", officeExt(kind), pkg.limit)
		}
		if p.overRatio(f.UncompressedSize64, f.CompressedSize64) {
			return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "part %q of the %s file expands %d times, over the limit of %d times: refused as a zip bomb",
				f.Name, officeExt(kind), f.UncompressedSize64/max(f.CompressedSize64, 1), cmp.Or(p.MaxZipRatio, DefaultMaxZipRatio))
		}
		pkg.parts[strings.ToLower(strings.TrimPrefix(f.Name, "/"))] = f
	}
	for _, f := range zr.File {
		name := strings.ToLower(f.Name)
		if strings.HasSuffix(name, ".xml") || strings.HasSuffix(name, ".rels") {
			if err := pkg.checkProlog(f); err != nil {
				return nil, err
			}
		}
	}
	return pkg, nil
}

func officeExt(kind string) string {
	if kind == "Excel" {
		return ".xlsx"
	}
	return ".docx"
}

// utf16Name is a stream name as a CFB directory holds it: UTF-16 little-endian.
func utf16Name(s string) []byte {
	out := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, s[i], 0)
	}
	return out
}

// prologSize is how much of an XML part is read to look for a DOCTYPE, which must come before
// the root element.
const prologSize = 1 << 10

// checkProlog refuses an XML part whose prolog declares a DOCTYPE.
func (pkg *officePackage) checkProlog(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return pkg.partError(f.Name, err)
	}
	defer rc.Close()
	head, err := io.ReadAll(io.LimitReader(rc, prologSize))
	if err != nil {
		return pkg.partError(f.Name, err)
	}
	if bytes.Contains(bytes.ToUpper(head), []byte("<!DOCTYPE")) {
		return errDoctype(pkg, f.Name)
	}
	return nil
}

func errDoctype(pkg *officePackage, part string) error {
	return fixgraph.Errorf(fixgraph.EUNREADABLE, "part %q of the %s file declares a DOCTYPE, which Office never writes (XML entities can expand without bound); refused",
		part, officeExt(pkg.kind))
}

// partError reports a part that cannot be read: a corrupt or cut-off package.
func (pkg *officePackage) partError(part string, err error) error {
	var syntax *xml.SyntaxError
	if errors.As(err, &syntax) {
		return fixgraph.WrapError(fixgraph.EUNREADABLE, err, "part %q of the %s file is not well-formed XML", part, officeExt(pkg.kind))
	}
	var fe *fixgraph.Error
	if errors.As(err, &fe) {
		return err
	}
	return fixgraph.WrapError(fixgraph.EUNREADABLE, err, "part %q of the %s file is damaged", part, officeExt(pkg.kind))
}

// part returns the part named name (case-insensitive), or nil when the package has none.
func (pkg *officePackage) part(name string) *zip.File {
	return pkg.parts[strings.ToLower(strings.TrimPrefix(name, "/"))]
}

// decodePart decodes the XML part name into v; a missing part leaves v as it is.
func (pkg *officePackage) decodePart(name string, v any) error {
	f := pkg.part(name)
	if f == nil {
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return pkg.partError(name, err)
	}
	defer rc.Close()
	if err := newXMLDecoder(rc, pkg, name).Decode(v); err != nil && err != io.EOF {
		return pkg.partError(name, err)
	}
	return nil
}

// newXMLDecoder returns a strict decoder over an Office part that refuses a DOCTYPE wherever it
// stands. encoding/xml never expands entities a DOCTYPE defines (an undefined entity is a syntax
// error in strict mode), so this only makes the refusal clear.
func newXMLDecoder(r io.Reader, pkg *officePackage, part string) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.CharsetReader = charset.NewReaderLabel
	return xml.NewTokenDecoder(doctypeGuard{d: d, pkg: pkg, part: part})
}

type doctypeGuard struct {
	d    *xml.Decoder
	pkg  *officePackage
	part string
}

func (g doctypeGuard) Token() (xml.Token, error) {
	t, err := g.d.Token()
	if d, ok := t.(xml.Directive); ok && bytes.HasPrefix(bytes.ToUpper(bytes.TrimSpace(d)), []byte("DOCTYPE")) {
		return nil, errDoctype(g.pkg, g.part)
	}
	return t, err
}
