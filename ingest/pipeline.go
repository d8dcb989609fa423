package ingest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// Graph is the store the pipeline writes documents to.
type Graph interface {
	Apply(ctx context.Context, b *fixgraph.Batch) (fixgraph.ApplyResult, error)
}

// Remover is a graph store that can take a document out (a page that disappeared).
type Remover interface {
	Remove(ctx context.Context, docID string) (fixgraph.ApplyResult, error)
}

// Index is the search index the pipeline keeps in step with the graph.
type Index interface {
	Update(ctx context.Context, doc *fixgraph.Document, sections []*fixgraph.Section, removed []string) error
	Remove(ctx context.Context, docID string, sections []string) error
}

// holder is an index that can tell whether it holds a document's current version.
type holder interface {
	Holds(doc *fixgraph.Document) (bool, error)
}

// DefaultMaxFileSize is the largest file the pipeline reads unless told otherwise.
const DefaultMaxFileSize = 64 << 20

// Pipeline reads files, parses them into batches, writes them to the graph and then to the index.
// It is the one write path: uploads, crawls and the editor all go through it.
type Pipeline struct {
	Graph       Graph
	Index       Index
	PDF         PDFOptions
	MaxFileSize int64 // 0 means DefaultMaxFileSize; also the limit for each entry of an archive

	// Archive limits; 0 means the defaults.
	MaxZipEntries int
	MaxZipRatio   int
	MaxZipBytes   int64

	// PII says which personal data is masked before anything is stored; the zero value masks
	// phone numbers, e-mail addresses, resident ID numbers and bank card numbers.
	PII extract.PIIOptions

	// Defaults for new documents.
	Department string
	Visibility fixgraph.Visibility // "" means public
	Status     fixgraph.Status     // "" means published

	Now func() time.Time // nil means time.Now

	// Kinds, when set, holds the kinds departments set documents to (see State.SetKind); such a
	// document is read as that kind, whatever ingest would make of it.
	Kinds KindOverrides
}

// File outcomes.
const (
	Added     = fixgraph.FileAdded
	Updated   = fixgraph.FileUpdated
	Unchanged = fixgraph.FileUnchanged
	Removed   = fixgraph.FileRemoved
	Failed    = fixgraph.FileFailed
)

// FileResult is what happened to one file.
type FileResult = fixgraph.FileResult

// IngestFile parses data read from source and writes it. Failures are in the result, never partial
// writes: a file is written whole in one transaction or not at all.
func (p *Pipeline) IngestFile(ctx context.Context, source string, data []byte) FileResult {
	b, err := p.Parse(ctx, source, data)
	if err != nil {
		return FileResult{Source: source, Outcome: Failed, Err: err, Error: fixgraph.MessageOf(err)}
	}
	return p.Write(ctx, source, b)
}

// Write writes a batch read or made from source: it masks personal data (PII), applies the batch
// to the graph in one transaction and then brings the index in step. It is how a parsed file is
// stored, and how the editor stores an editorial document (fixgraph.EditorialSource), so both
// go the same way. When the graph has the batch's version already, the index is still checked
// and repaired if it missed that version. Failures are in the result.
func (p *Pipeline) Write(ctx context.Context, source string, b *fixgraph.Batch) FileResult {
	res := FileResult{Source: source}
	fail := func(err error) FileResult {
		res.Outcome, res.Err, res.Error = Failed, err, fixgraph.MessageOf(err)
		return res
	}
	if b == nil || b.Document == nil {
		return fail(fixgraph.Errorf(fixgraph.EINVALID, "nothing to write for %q: the batch has no document", source))
	}
	MaskBatch(b, p.PII)
	p.review(ctx, b, &res)
	res.DocumentID, res.Kind, res.KindReason = b.Document.ID, b.Document.Kind, b.Document.KindReason
	applied, err := p.Graph.Apply(ctx, b)
	if err != nil {
		return fail(err)
	}
	res.Version = applied.Version
	res.Sections = len(b.Sections())
	switch {
	case applied.Unchanged:
		res.Outcome = Unchanged
		// The graph has this version; the index may not, when writing to it failed after the
		// graph's write (a search server that was down). Writing the batch again repairs it.
		if h, ok := p.Index.(holder); ok {
			b.Document.Version = applied.Version
			current, err := h.Holds(b.Document)
			if err != nil {
				return fail(fmt.Errorf("checking the index for %q: %w", source, err))
			}
			if !current {
				if err := p.Index.Update(ctx, b.Document, b.Sections(), nil); err != nil {
					return fail(fmt.Errorf("indexing %q: %w", source, err))
				}
			}
		}
		return res
	case applied.Version > 1:
		res.Outcome = Updated
	default:
		res.Outcome = Added
	}
	if p.Index != nil {
		if err := p.Index.Update(ctx, b.Document, b.Sections(), applied.RemovedSections); err != nil {
			return fail(fmt.Errorf("indexing %q: %w", source, err))
		}
	}
	return res
}

// Remove takes the document read from source out of the graph and the index, keeping its last
// version in the graph's history: what a crawl does when a page is gone, and what the editor
// does to withdraw an editorial document (its source is fixgraph.EditorialSource), which lets
// what ingested documents say of the entity show again.
func (p *Pipeline) Remove(ctx context.Context, source string) FileResult {
	res := FileResult{Source: source, DocumentID: fixgraph.DocumentID(source)}
	fail := func(err error) FileResult {
		res.Outcome, res.Err, res.Error = Failed, err, fixgraph.MessageOf(err)
		return res
	}
	r, ok := p.Graph.(Remover)
	if !ok {
		return fail(fixgraph.Errorf(fixgraph.EINTERNAL, "the graph store cannot remove documents"))
	}
	applied, err := r.Remove(ctx, res.DocumentID)
	if err != nil {
		return fail(err)
	}
	res.Outcome = Removed
	if p.Index != nil {
		if err := p.Index.Remove(ctx, res.DocumentID, applied.RemovedSections); err != nil {
			return fail(fmt.Errorf("removing %q from the index: %w", source, err))
		}
	}
	return res
}

// Parse reads data into a batch without writing it. The kind of document comes from the file's
// extension and content.
func (p *Pipeline) Parse(ctx context.Context, source string, data []byte) (*fixgraph.Batch, error) {
	max := p.MaxFileSize
	if max <= 0 {
		max = DefaultMaxFileSize
	}
	if int64(len(data)) > max {
		return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "file is %d bytes, over the limit of %d bytes", len(data), max)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "file is empty")
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	sum := sha256.Sum256(data)
	doc := &fixgraph.Document{
		ID:          fixgraph.DocumentID(source),
		Source:      source,
		ContentHash: hex.EncodeToString(sum[:]),
		Department:  p.Department,
		Visibility:  cmp.Or(p.Visibility, fixgraph.VisibilityPublic),
		Status:      cmp.Or(p.Status, fixgraph.StatusPublished),
		IngestedAt:  now().UTC(),
	}
	var set KindOverride
	if p.Kinds != nil {
		o, ok, err := p.Kinds.KindOverride(doc.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			set, doc.Kind = o, o.Kind
		}
	}
	b, err := p.parse(ctx, doc, source, data)
	if err != nil || set.Kind == "" {
		return b, err
	}
	if b.Document.Kind == set.Kind {
		b.Document.KindReason = fmt.Sprintf("set to %s by %s on %s", set.Kind, set.By, set.At.Format("2006-01-02"))
	}
	return b, nil
}

// parse reads data by its type. A doc.Kind set before (a kind someone chose) decides between a
// manual and a policy or FAQ where the parser would otherwise decide by content.
func (p *Pipeline) parse(ctx context.Context, doc *fixgraph.Document, source string, data []byte) (*fixgraph.Batch, error) {
	ext := extOf(source)
	switch {
	case ext == ".pdf" || bytes.HasPrefix(data, []byte("%PDF-")):
		return parsePolicy(ctx, doc, data, p.PDF)
	case ext == ".html" || ext == ".htm" || ext == ".xhtml" || ext == "" && looksLikeHTML(data):
		data, err := htmlToUTF8(data, "")
		if err != nil {
			return nil, err
		}
		page, err := parseHTMLPage(data)
		if err != nil {
			return nil, err
		}
		if doc.Kind == fixgraph.KindFAQ || doc.Kind == "" && isFAQPage(page) {
			return parseFAQ(doc, page)
		}
		return parseManual(doc, page)
	case ext == ".csv":
		data, err := csvToUTF8(data)
		if err != nil {
			return nil, err
		}
		return parseStock(doc, data)
	case ext == ".docx":
		return p.parseDOCX(doc, data)
	case ext == ".xlsx":
		return p.parseXLSX(doc, data)
	case ext == ".md" || ext == ".markdown":
		return parseMarkdown(doc, data)
	case ext == ".txt":
		return parseText(doc, data)
	}
	return nil, fixgraph.Errorf(fixgraph.EUNSUPPORTED, "unsupported file type %q (fixgraph reads .html, .htm, .pdf, .csv, .docx, .xlsx, .md, .markdown and .txt)", ext)
}

// extOf returns the lower-cased extension of a file name or of a URL's path.
func extOf(source string) string {
	if u, err := url.Parse(source); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		source = u.Path
	}
	return strings.ToLower(path.Ext(source))
}

// looksLikeHTML reports whether data starts, after white space and a byte-order mark, with markup.
func looksLikeHTML(data []byte) bool {
	data = bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	return bytes.HasPrefix(data, []byte("<"))
}

// IngestPaths ingests files and the files under directories, in lexical order, skipping hidden
// files. It calls progress, when not nil, after each file. Per-file failures are in the results;
// the error is for a path that cannot be walked at all or a cancelled context.
func (p *Pipeline) IngestPaths(ctx context.Context, paths []string, progress func(FileResult)) ([]FileResult, error) {
	var files []string
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && path != root {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "cannot read %s", root)
		}
	}
	var out []FileResult
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			abs = f
		}
		r := p.ingestOSFile(ctx, abs)
		out = append(out, r)
		if progress != nil {
			progress(r)
		}
	}
	return out, nil
}

func (p *Pipeline) ingestOSFile(ctx context.Context, name string) FileResult {
	data, err := readFileLimited(p, name)
	if err != nil {
		return FileResult{Source: name, Outcome: Failed, Err: err, Error: fixgraph.MessageOf(err)}
	}
	return p.IngestFile(ctx, name, data)
}

// IngestFS ingests every regular file of fsys under root, with sources named by their path in fsys.
func (p *Pipeline) IngestFS(ctx context.Context, fsys fs.FS, root string) ([]FileResult, error) {
	var names []string
	err := fs.WalkDir(fsys, root, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []FileResult
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return out, err
		}
		out = append(out, p.IngestFile(ctx, name, data))
	}
	return out, nil
}
