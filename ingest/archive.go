package ingest

import (
	"archive/zip"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/fixgraph/fixgraph"
)

// Archive limits, unless the pipeline sets its own.
const (
	DefaultMaxZipEntries = 10_000  // files in one archive
	DefaultMaxZipRatio   = 200     // expanded size over compressed size, per entry
	DefaultMaxZipBytes   = 4 << 30 // expanded size of a whole archive
)

// ratioFloor is the entry size under which the expansion ratio is not checked: a small file of
// repeated text can compress 1000:1 and still be harmless.
const ratioFloor = 1 << 20

// archiveExts are the names of archives that an archive may not contain.
var archiveExts = map[string]bool{".zip": true, ".jar": true, ".tar": true, ".gz": true, ".tgz": true, ".bz2": true, ".xz": true, ".7z": true, ".rar": true, ".zst": true}

// IsZip reports whether a file, by its name or its first bytes, is a zip archive.
func IsZip(name string, head []byte) bool {
	return strings.EqualFold(path.Ext(name), ".zip") || bytes.HasPrefix(head, []byte("PK\x03\x04"))
}

// ZipEntry is one file of an archive, with the reason it will not be read when it will not.
type ZipEntry struct {
	Name string    // the entry's path in the archive, cleaned
	file *zip.File // nil when refused
	Err  *fixgraph.Error
}

// Zip is an opened archive whose entries are read one at a time under the pipeline's limits:
// never more than one entry in memory, and never more expanded bytes than the limits allow.
type Zip struct {
	p       *Pipeline
	Entries []ZipEntry
	budget  int64 // expanded bytes the archive may still yield
}

// OpenZip reads the directory of the archive in r. An archive that is not a zip, or has more
// entries than allowed, is refused whole; an entry that is unsafe (a path that leaves the
// archive, a nested archive, a declared size over the file limit) is refused alone, with its
// reason in Entries. Directories and hidden files are left out.
func (p *Pipeline) OpenZip(r io.ReaderAt, size int64) (*Zip, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "not a readable zip archive")
	}
	maxEntries := cmp.Or(p.MaxZipEntries, DefaultMaxZipEntries)
	if len(zr.File) > maxEntries {
		return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "zip archive has %d entries, over the limit of %d entries", len(zr.File), maxEntries)
	}
	z := &Zip{p: p, budget: cmp.Or(p.MaxZipBytes, DefaultMaxZipBytes)}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		e := ZipEntry{Name: f.Name, file: f}
		if err := p.checkZipEntry(f); err != nil {
			e.file, e.Err = nil, err
		} else {
			e.Name = path.Clean(f.Name)
			if strings.HasPrefix(path.Base(e.Name), ".") || strings.HasPrefix(e.Name, "__MACOSX/") {
				continue
			}
		}
		z.Entries = append(z.Entries, e)
	}
	return z, nil
}

func (p *Pipeline) checkZipEntry(f *zip.File) *fixgraph.Error {
	name := f.Name
	if strings.Contains(name, "\\") || path.IsAbs(name) || slices.Contains(strings.Split(name, "/"), "..") || len(name) > 1 && name[1] == ':' {
		return fixgraph.Errorf(fixgraph.EINVALID, "entry name %q leaves the archive (path traversal); refused", name)
	}
	if f.Mode().Type() != 0 {
		return fixgraph.Errorf(fixgraph.EUNSUPPORTED, "entry %q is not a regular file (%s); refused", name, f.Mode().Type())
	}
	if archiveExts[strings.ToLower(path.Ext(name))] {
		return fixgraph.Errorf(fixgraph.EUNSUPPORTED, "entry %q is an archive inside the archive; nested archives are not accepted", name)
	}
	if max := cmp.Or(p.MaxFileSize, DefaultMaxFileSize); f.UncompressedSize64 > uint64(max) {
		return fixgraph.Errorf(fixgraph.ETOOLARGE, "entry %q expands to %d bytes, over the file limit of %d bytes", name, f.UncompressedSize64, max)
	}
	if p.overRatio(f.UncompressedSize64, f.CompressedSize64) {
		return fixgraph.Errorf(fixgraph.ETOOLARGE, "entry %q expands %d times (%d to %d bytes), over the limit of %d times: refused as a zip bomb",
			name, f.UncompressedSize64/max(f.CompressedSize64, 1), f.CompressedSize64, f.UncompressedSize64, cmp.Or(p.MaxZipRatio, DefaultMaxZipRatio))
	}
	return nil
}

func (p *Pipeline) overRatio(expanded, compressed uint64) bool {
	return expanded > ratioFloor && expanded > uint64(cmp.Or(p.MaxZipRatio, DefaultMaxZipRatio))*max(compressed, 1)
}

// Read returns the bytes of entry e. The sizes the archive declares are not trusted: reading
// stops at the file limit, the ratio limit and the archive's remaining budget, whichever is first.
func (z *Zip) Read(e ZipEntry) ([]byte, error) {
	if e.Err != nil {
		return nil, e.Err
	}
	if z.budget <= 0 {
		return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "archive expanded past the limit of %d bytes before entry %q", cmp.Or(z.p.MaxZipBytes, DefaultMaxZipBytes), e.Name)
	}
	rc, err := e.file.Open()
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "cannot open entry %q", e.Name)
	}
	defer rc.Close()
	limit := int64(cmp.Or(z.p.MaxFileSize, DefaultMaxFileSize))
	budgetFirst := z.budget < limit // the archive's budget runs out before the file limit
	limit = min(limit, z.budget)
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	z.budget -= int64(len(data))
	switch {
	case errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "entry %q is corrupt", e.Name)
	case err != nil:
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "cannot read entry %q", e.Name)
	case int64(len(data)) > limit && budgetFirst:
		return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "archive expanded past the limit of %d bytes in entry %q", cmp.Or(z.p.MaxZipBytes, DefaultMaxZipBytes), e.Name)
	case int64(len(data)) > limit:
		return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "entry %q expands past %d bytes, more than it declared; refused as a zip bomb", e.Name, limit)
	case z.p.overRatio(uint64(len(data)), e.file.CompressedSize64):
		return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "entry %q expands %d times, over the limit of %d times: refused as a zip bomb",
			e.Name, uint64(len(data))/max(e.file.CompressedSize64, 1), cmp.Or(z.p.MaxZipRatio, DefaultMaxZipRatio))
	}
	return data, nil
}

// zipSource names an entry's document: the archive's own source, a slash, the entry's path.
func zipSource(archive, entry string) string {
	return fmt.Sprintf("%s/%s", strings.TrimSuffix(archive, "/"), entry)
}
