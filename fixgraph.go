package fixgraph

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"
)

// DocKind says what a document is; it decides which parser reads it.
type DocKind string

// Document kinds.
const (
	KindManual DocKind = "manual"
	KindFAQ    DocKind = "faq"
	KindPolicy DocKind = "policy"
	KindStock  DocKind = "stock"
)

// Visibility says who may read a document's knowledge.
type Visibility string

// Visibilities.
const (
	VisibilityPublic     Visibility = "public"
	VisibilityInternal   Visibility = "internal"
	VisibilityDepartment Visibility = "department"
)

// Status is a document's place in the publishing workflow. Bots see published knowledge only.
type Status string

// Statuses.
const (
	StatusDraft     Status = "draft"
	StatusReview    Status = "review"
	StatusPublished Status = "published"
	StatusArchived  Status = "archived"
)

// Rel names a relation between two nodes of the graph.
type Rel string

// Relations. Each edge goes From → To in the direction the name reads.
const (
	RelHasError  Rel = "HAS_ERROR"  // product → error code
	RelFixedBy   Rel = "FIXED_BY"   // error code → repair guide
	RelNeedsPart Rel = "NEEDS_PART" // repair guide → part
	RelStockedAt Rel = "STOCKED_AT" // part → warehouse
	RelHasVideo  Rel = "HAS_VIDEO"  // repair guide → video
	RelPartOf    Rel = "PART_OF"    // section → document
	RelMentions  Rel = "MENTIONS"   // section → error code, part or product
	RelAbout     Rel = "ABOUT"      // FAQ → product
	RelFitsIn    Rel = "FITS"       // part → product it is compatible with
	RelDescribes Rel = "DESCRIBES"  // section → FAQ, policy clause or repair guide drawn from it
	RelManualFor Rel = "MANUAL_FOR" // document → product
	RelHasClause Rel = "HAS_CLAUSE" // document → policy clause
)

// Text is a short text in one or more languages, keyed by BCP 47 language ("zh", "en").
type Text map[string]string

// In returns the text in lang, else in Chinese, else in English, else any.
func (t Text) In(lang string) string {
	if v, ok := t[lang]; ok && v != "" {
		return v
	}
	for _, l := range []string{"zh", "en"} {
		if v := t[l]; v != "" {
			return v
		}
	}
	for _, l := range slices.Sorted(maps.Keys(t)) {
		if t[l] != "" {
			return t[l]
		}
	}
	return ""
}

// Merge returns t with the languages of o added where t has none.
func (t Text) Merge(o Text) Text {
	if len(o) == 0 {
		return t
	}
	out := make(Text, len(t)+len(o))
	for k, v := range o {
		out[k] = v
	}
	for k, v := range t {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// Document is one source file or page: a manual, a FAQ page, a policy or a stock feed.
type Document struct {
	ID          string     `json:"id"`
	Source      string     `json:"source"` // path or URL it came from
	Title       string     `json:"title"`
	Kind        DocKind    `json:"kind"`
	KindReason  string     `json:"kindReason,omitempty"` // why ingest read it as Kind, for the department to check
	Language    string     `json:"language"`
	ContentHash string     `json:"contentHash"` // sha256 of the raw bytes
	Department  string     `json:"department"`
	Visibility  Visibility `json:"visibility"`
	Status      Status     `json:"status"`
	Version     int        `json:"version"`
	Pages       int        `json:"pages,omitempty"`
	IngestedAt  time.Time  `json:"ingestedAt"`

	// FirstIngestedAt is when the document's first version was written. The graph store sets it
	// and keeps it across versions: it ranks a department's contributions to a shared node by
	// who published first, so a newer version keeps its place and a later upload cannot take it.
	FirstIngestedAt time.Time `json:"firstIngestedAt,omitzero"`

	// Detached lists edges that other documents made and that this one, an editorial document,
	// says are wrong. While it is published, queries do not follow them (graph.Guarded); the
	// documents that made them keep them, so removing or re-publishing it restores them.
	Detached []Edge `json:"detached,omitempty"`
}

// Section is one headed part of a document: the unit that search returns and answers cite.
type Section struct {
	ID          string   `json:"id"`
	DocumentID  string   `json:"documentId"`
	Heading     string   `json:"heading"`     // its own heading, as written in the source
	HeadingPath []string `json:"headingPath"` // headings from the top of the document down to this one
	Text        string   `json:"text"`
	Anchor      string   `json:"anchor,omitempty"` // HTML id to link to
	Page        int      `json:"page,omitempty"`   // 1-based PDF page
	Order       int      `json:"order"`            // position in the document
	Language    string   `json:"language"`
	Products    []string `json:"products,omitempty"` // models it is about; none: it applies to all
	// OCRConfidence is the mean confidence, 0 to 1, of the words it was read from when they were
	// read by OCR from a scanned page; 0 for text read from a text layer.
	OCRConfidence float64 `json:"ocrConfidence,omitempty"`
}

// Product is an appliance model.
type Product struct {
	ID       string `json:"id"`
	Model    string `json:"model"`
	Name     Text   `json:"name"`
	Category Text   `json:"category"`
	Brand    string `json:"brand,omitempty"`
}

// ErrorCode is a fault code that a product shows.
type ErrorCode struct {
	ID       string `json:"id"`
	Code     string `json:"code"`    // canonical form, e.g. E102
	Product  string `json:"product"` // product model
	Symptom  Text   `json:"symptom"`
	Cause    Text   `json:"cause"`
	Severity string `json:"severity"`          // low, medium, high, or danger (see SeverityDanger)
	FixedIn  string `json:"fixedIn,omitempty"` // the firmware version from which the fault is fixed
}

// Severities of error codes. Low, medium and high are how a manual's table grades a fault;
// danger is a fault whose own wording (its meaning, cause, remedy or warnings) says it is a hazard
// — a risk of fire or electric shock, "立即断电", "do not attempt to repair" — so that an ask about
// it goes to a person with the safety step first.
const (
	SeverityLow    = "low"
	SeverityMedium = "medium"
	SeverityHigh   = "high"
	SeverityDanger = "danger"
)

// Severities lists the severities an error code may have, least first.
var Severities = []string{SeverityLow, SeverityMedium, SeverityHigh, SeverityDanger}

// RepairGuide is an ordered procedure that fixes an error code.
type RepairGuide struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Code       string   `json:"code"`
	Product    string   `json:"product"`
	Steps      []string `json:"steps"`
	Warnings   []string `json:"warnings,omitempty"`
	SectionID  string   `json:"sectionId"`
	DocumentID string   `json:"documentId"`
	Language   string   `json:"language"`
}

// Video is a tutorial video.
type Video struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	Title Text   `json:"title"`
}

// Part is a spare part.
type Part struct {
	ID         string   `json:"id"`
	SKU        string   `json:"sku"`
	Name       Text     `json:"name"`
	Compatible []string `json:"compatible,omitempty"` // product models
}

// Warehouse holds spare parts.
type Warehouse struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// StockLevel is how many of a part a warehouse had at a time.
type StockLevel struct {
	ID        string    `json:"id"`
	SKU       string    `json:"sku"`
	Warehouse string    `json:"warehouse"` // warehouse code
	Quantity  int       `json:"quantity"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// DefaultStockMaxAge is how old a stock count may be before answers call it stale.
const DefaultStockMaxAge = 24 * time.Hour

// Stale reports whether the count is older than maxAge at now.
func (s *StockLevel) Stale(now time.Time, maxAge time.Duration) bool {
	return now.Sub(s.UpdatedAt) > maxAge
}

// FAQ is a question with its answer.
type FAQ struct {
	ID         string   `json:"id"`
	Question   string   `json:"question"`
	Variants   []string `json:"variants,omitempty"`
	Answer     string   `json:"answer"`
	Product    string   `json:"product,omitempty"` // product model, when the FAQ is about one
	SectionID  string   `json:"sectionId"`
	DocumentID string   `json:"documentId"`
	Language   string   `json:"language"`
}

// PolicyClause is one numbered clause of a policy document.
type PolicyClause struct {
	ID         string `json:"id"`
	Number     string `json:"number"` // e.g. 第二条 or 2.1
	Title      string `json:"title"`
	Text       string `json:"text"`
	Page       int    `json:"page"`
	SectionID  string `json:"sectionId"`
	DocumentID string `json:"documentId"`
}

// Edge is a directed relation between two nodes, by id.
type Edge struct {
	From string `json:"from"`
	Rel  Rel    `json:"rel"`
	To   string `json:"to"`
}

// Node is anything stored in the graph. Its id's prefix (up to the first colon) names its kind.
type Node interface {
	NodeID() string
}

// NodeID returns the document's id.
func (d *Document) NodeID() string { return d.ID }

// NodeID returns the section's id.
func (s *Section) NodeID() string { return s.ID }

// NodeID returns the product's id.
func (p *Product) NodeID() string { return p.ID }

// NodeID returns the error code's id.
func (e *ErrorCode) NodeID() string { return e.ID }

// NodeID returns the guide's id.
func (g *RepairGuide) NodeID() string { return g.ID }

// NodeID returns the video's id.
func (v *Video) NodeID() string { return v.ID }

// NodeID returns the part's id.
func (p *Part) NodeID() string { return p.ID }

// NodeID returns the warehouse's id.
func (w *Warehouse) NodeID() string { return w.ID }

// NodeID returns the stock level's id.
func (s *StockLevel) NodeID() string { return s.ID }

// NodeID returns the FAQ's id.
func (f *FAQ) NodeID() string { return f.ID }

// NodeID returns the clause's id.
func (c *PolicyClause) NodeID() string { return c.ID }

// Id prefixes, one per node kind.
const (
	PrefixDocument  = "doc"
	PrefixSection   = "sec"
	PrefixProduct   = "product"
	PrefixErrorCode = "code"
	PrefixGuide     = "guide"
	PrefixVideo     = "video"
	PrefixPart      = "part"
	PrefixWarehouse = "wh"
	PrefixStock     = "stock"
	PrefixFAQ       = "faq"
	PrefixClause    = "clause"
)

// KindOf returns the kind prefix of a node id.
func KindOf(id string) string {
	k, _, _ := strings.Cut(id, ":")
	return k
}

// HashID returns prefix:h where h is derived from parts, so the same content always gets the same id.
func HashID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return prefix + ":" + hex.EncodeToString(h.Sum(nil)[:10])
}

// DocumentID returns the id of the document read from source. An editorial source keeps its
// entity id readable ("doc:editor:code:WF-8012D:E102"), so the editor and the graph can find an
// entity's editorial document without a lookup; any other source is hashed.
func DocumentID(source string) string {
	if strings.HasPrefix(source, EditorialPrefix) {
		return PrefixDocument + ":" + source
	}
	return HashID(PrefixDocument, source)
}

// EditorialPrefix starts the source of an editorial document: the editor's version of one
// entity (an FAQ, an error code, a repair guide…), written through the ingest pipeline like any
// other document. Its contribution to a node wins over what ingested documents contributed.
const EditorialPrefix = "editor:"

// EditorialDocPrefix starts the id of every editorial document: scanning it lists them all.
const EditorialDocPrefix = PrefixDocument + ":" + EditorialPrefix

// EditorialSource returns the source of the editorial document of the entity with entityID.
func EditorialSource(entityID string) string { return EditorialPrefix + entityID }

// IsEditorial reports whether docID is the id of an editorial document.
func IsEditorial(docID string) bool { return strings.HasPrefix(docID, EditorialDocPrefix) }

// EditorialEntity returns the id of the entity whose editorial document is docID, or "" when
// docID is not an editorial document's.
func EditorialEntity(docID string) string {
	if !IsEditorial(docID) {
		return ""
	}
	return docID[len(EditorialDocPrefix):]
}

// ProductID returns the id of a product model.
func ProductID(model string) string { return PrefixProduct + ":" + strings.ToUpper(model) }

// ErrorCodeID returns the id of code as shown by the product model. Codes that differ only in case
// or separators (E-01, e01, E.01) share an id: see CodeKey.
func ErrorCodeID(model, code string) string {
	return PrefixErrorCode + ":" + strings.ToUpper(model) + ":" + CodeKey(code)
}

// CodeKey returns the lookup key of an error code as printed: upper case, without the spaces,
// dashes, dots, underscores and footnote marks that manuals write inside or after codes, so E-01,
// e01, E.01 and E01* are one code. Callers normalise width first (full-width Ｅ０１).
func CodeKey(code string) string {
	var b strings.Builder
	for _, r := range code {
		switch r {
		case ' ', '-', '.', '_', '*', '\t', '\u2010', '\u2011', '\u2013', '\u2014', '\u00b7':
			continue
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// PartID returns the id of a part number.
func PartID(sku string) string { return PrefixPart + ":" + strings.ToUpper(sku) }

// WarehouseID returns the id of a warehouse code.
func WarehouseID(code string) string { return PrefixWarehouse + ":" + strings.ToUpper(code) }

// StockID returns the id of the stock level of a part in a warehouse.
func StockID(sku, warehouse string) string {
	return PrefixStock + ":" + strings.ToUpper(sku) + "@" + strings.ToUpper(warehouse)
}

// VideoID returns the id of a video URL.
func VideoID(url string) string { return HashID(PrefixVideo, url) }

// Batch is everything read from one document: the document, its nodes and its edges.
// The graph store writes a batch in one transaction and replaces what an earlier version of the
// same document contributed.
type Batch struct {
	Document *Document
	Nodes    []Node
	Edges    []Edge
}

// Add appends nodes to the batch.
func (b *Batch) Add(nodes ...Node) { b.Nodes = append(b.Nodes, nodes...) }

// Link appends the edge from → to.
func (b *Batch) Link(from string, rel Rel, to string) {
	b.Edges = append(b.Edges, Edge{From: from, Rel: rel, To: to})
}

// Sections returns the batch's sections in document order.
func (b *Batch) Sections() []*Section {
	var out []*Section
	for _, n := range b.Nodes {
		if s, ok := n.(*Section); ok {
			out = append(out, s)
		}
	}
	return out
}

// MergeNodes folds two versions of the same node contributed by different documents into one:
// texts in different languages are united, lists of compatible products joined, and the newer stock
// level wins. For other kinds b, the later contribution, replaces a.
func MergeNodes(a, b Node) Node {
	switch b := b.(type) {
	case *Product:
		if a, ok := a.(*Product); ok {
			m := *b
			m.Name, m.Category = b.Name.Merge(a.Name), b.Category.Merge(a.Category)
			m.Brand = firstNonEmpty(b.Brand, a.Brand)
			return &m
		}
	case *ErrorCode:
		if a, ok := a.(*ErrorCode); ok {
			m := *b
			m.Symptom, m.Cause = b.Symptom.Merge(a.Symptom), b.Cause.Merge(a.Cause)
			m.Severity = firstNonEmpty(b.Severity, a.Severity)
			m.FixedIn = firstNonEmpty(b.FixedIn, a.FixedIn)
			return &m
		}
	case *Video:
		if a, ok := a.(*Video); ok {
			m := *b
			m.Title = b.Title.Merge(a.Title)
			return &m
		}
	case *Part:
		if a, ok := a.(*Part); ok {
			m := *b
			m.Name = b.Name.Merge(a.Name)
			m.Compatible = union(a.Compatible, b.Compatible)
			return &m
		}
	case *Warehouse:
		if a, ok := a.(*Warehouse); ok {
			m := *b
			m.Name = firstNonEmpty(b.Name, a.Name)
			return &m
		}
	case *StockLevel:
		if a, ok := a.(*StockLevel); ok && a.UpdatedAt.After(b.UpdatedAt) {
			return a
		}
	}
	return b
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, v := range b {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// Revision is a version of a document that a newer one superseded, or that was retired when its
// source disappeared: its record and its sections as they were. Revisions are kept, not served.
type Revision struct {
	Document  *Document  `json:"document"`
	Sections  []*Section `json:"sections"`
	EndedAt   time.Time  `json:"endedAt"`   // when it stopped being served
	EndReason string     `json:"endReason"` // "superseded" or "removed"
}

// Reasons a revision ended.
const (
	Superseded = "superseded"
	Retired    = "removed"
)

// ApplyResult says what writing a document's batch changed.
type ApplyResult struct {
	Unchanged       bool     // the same content was stored already; nothing was written
	Version         int      // the document's version after the write
	RemovedSections []string // ids of sections the write took out of the graph
}

// Direction says which way to follow edges.
type Direction int

// Directions.
const (
	Out Direction = iota // from the node along the edge
	In                   // to the node against the edge
)
