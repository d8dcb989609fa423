package editor

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
	"github.com/fixgraph/fixgraph/extract"
)

// Graph is what the editor reads of the knowledge graph: the store as the signed-in editor may
// see it (graph.Guarded), so a department's editor never sees another department's knowledge.
type Graph interface {
	answer.Graph
	Node(ctx context.Context, id string) (fixgraph.Node, error)
}

// Owners tells which documents contributed each node; the editor uses it to give an entity the
// audience of the documents it came from.
type Owners interface {
	Owners(ctx context.Context, ids []string) (map[string][]string, error)
}

// Writer writes editorial documents: the ingest pipeline, the one write path. When it is also a
// Masker (the pipeline is), the editor masks what it keeps with it.
type Writer interface {
	Write(ctx context.Context, source string, b *fixgraph.Batch) fixgraph.FileResult
	Remove(ctx context.Context, source string) fixgraph.FileResult
}

// Masker masks personal data as the write path does before it stores anything. The editor masks
// every revision it stores with it (the node as edited and the revision's note), so drafts and the
// history and its diffs keep no more personal data than publishing puts in the graph; and it
// masks what it reads back, for revisions stored before it masked.
type Masker interface {
	// MaskNode masks the free text of n in place and reports whether it changed anything.
	MaskNode(n fixgraph.Node) bool
	// MaskText returns s with its personal data masked.
	MaskText(s string) string
}

// AuditFunc records what an editor did.
type AuditFunc func(ctx context.Context, action, target string, detail map[string]string)

// Service is the editor's logic, apart from its pages: working copies, the workflow, publishing
// through the pipeline, rollback and the preview.
type Service struct {
	Store   *Store
	Graph   Graph
	Owners  Owners
	Writer  Writer
	Answers *answer.Service
	Audit   AuditFunc // nil records nothing
	Now     func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) audit(ctx context.Context, action, target string, detail map[string]string) {
	if s.Audit != nil {
		s.Audit(ctx, action, target, detail)
	}
}

// masker returns the Writer as a Masker, or nil when it does not mask.
func (s *Service) masker() Masker {
	m, _ := s.Writer.(Masker)
	return m
}

// maskEntity masks personal data in the node of e, in place.
func (s *Service) maskEntity(e *Entity) error {
	m := s.masker()
	if m == nil || e == nil || len(e.Node) == 0 {
		return nil
	}
	n, err := e.Decode()
	if err != nil {
		return err
	}
	if !m.MaskNode(n) {
		return nil
	}
	raw, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encoding the masked working copy of %q: %w", e.ID, err)
	}
	e.Node = raw
	return nil
}

func (s *Service) maskText(t string) string {
	if m := s.masker(); m != nil && t != "" {
		return m.MaskText(t)
	}
	return t
}

// commit is Store.Commit with personal data masked in the seed and in the revision change makes,
// its note included.
func (s *Service) commit(id string, base int, by string, seed *Entity, change func(cur *Entity) (*Entity, string, string, error)) (*Entity, error) {
	if err := s.maskEntity(seed); err != nil {
		return nil, err
	}
	return s.Store.Commit(id, base, by, s.now(), seed, func(cur *Entity) (*Entity, string, string, error) {
		next, action, note, err := change(cur)
		if err != nil {
			return nil, "", "", err
		}
		next.ID = id
		if err := s.maskEntity(next); err != nil {
			return nil, "", "", err
		}
		return next, action, s.maskText(note), nil
	})
}

// History returns an entity's revisions, newest first, with personal data masked in their nodes
// and notes (revisions stored before the editor masked may hold it).
func (s *Service) History(id string) ([]Revision, error) {
	revs, err := s.Store.History(id)
	if err != nil {
		return nil, err
	}
	for i := range revs {
		if err := s.maskEntity(&revs[i].Entity); err != nil {
			return nil, err
		}
		revs[i].Note = s.maskText(revs[i].Note)
	}
	return revs, nil
}

// Editable reports whether the editor edits nodes of id's kind.
func Editable(id string) bool {
	switch fixgraph.KindOf(id) {
	case fixgraph.PrefixFAQ, fixgraph.PrefixErrorCode, fixgraph.PrefixGuide:
		return true
	}
	return false
}

// Current returns the working copy of an editable entity: the stored one, or one made from the
// graph when no editor has touched it yet (Rev 0).
func (s *Service) Current(ctx context.Context, id string) (*Entity, error) {
	if !Editable(id) {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "%s cannot be edited: the editor edits FAQs, error codes and repair guides", id)
	}
	e, err := s.Store.Get(id)
	if err != nil || e != nil {
		if e != nil && !readable(fixgraph.PrincipalFrom(ctx), e) {
			return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no node %q", id)
		}
		if err == nil {
			err = s.maskEntity(e) // stored before the editor masked
		}
		return e, err
	}
	return s.seed(ctx, id)
}

// readable reports whether p may read the working copy e: its audience is what publishing it
// would give its editorial document.
func readable(p *fixgraph.Principal, e *Entity) bool {
	return p.CanRead(&fixgraph.Document{Visibility: e.Visibility, Department: e.Department, Status: fixgraph.StatusPublished})
}

// seed makes the working copy of an ingested node, with the audience of the documents that
// contributed it.
func (s *Service) seed(ctx context.Context, id string) (*Entity, error) {
	n, err := s.Graph.Node(ctx, id)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	e := &Entity{ID: id, Node: raw, Visibility: fixgraph.VisibilityPublic, Status: fixgraph.StatusPublished}
	owners, err := s.Owners.Owners(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	docs, err := s.Graph.Nodes(ctx, owners[id])
	if err != nil {
		return nil, err
	}
	// The node as the editor sees it may hold text of documents of several audiences: the
	// working copy gets the narrowest of them, so publishing it as it stands gives no reader
	// text from a document that reader may not read.
	narrowest := -1
	for _, d := range docs {
		if d, ok := d.(*fixgraph.Document); ok && !fixgraph.IsEditorial(d.ID) {
			if r := narrowness(d.Visibility); r > narrowest {
				narrowest, e.Visibility, e.Department = r, cmp.Or(d.Visibility, fixgraph.VisibilityPublic), d.Department
			}
		}
	}
	return e, nil
}

// narrowness ranks audiences from public (0) through internal to a department's (2).
func narrowness(v fixgraph.Visibility) int {
	switch v {
	case fixgraph.VisibilityDepartment:
		return 2
	case fixgraph.VisibilityInternal:
		return 1
	}
	return 0
}

// Change is an editor's edit of an entity's content.
type Change struct {
	Node       fixgraph.Node
	Links      []fixgraph.Edge
	Detached   []fixgraph.Edge
	Visibility fixgraph.Visibility
	Department string
	Note       string
	Answers    []string // analytics asks (event ids) the entity is written to answer, from the unanswered queue
}

// Save stores a change as a draft. base is the revision the editor opened; when someone else
// saved since, the error is ECONFLICT and nothing is written.
func (s *Service) Save(ctx context.Context, id string, base int, c Change) (*Entity, error) {
	p := fixgraph.PrincipalFrom(ctx)
	if !p.Can("edit", c.Department) {
		return nil, fixgraph.Errorf(fixgraph.EFORBIDDEN, "%s may not edit knowledge", p.Name)
	}
	if c.Node == nil || c.Node.NodeID() != id {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "the change is not for %s", id)
	}
	if err := validate(c.Node); err != nil {
		return nil, err
	}
	prev, err := s.Store.Get(id)
	if err != nil {
		return nil, err
	}
	if prev != nil && !readable(p, prev) {
		// Not even a conflict's details (who changed it, when) for someone who may not read it.
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no node %q", id)
	}
	// New links must lead somewhere; ones saved before are kept even if their target has gone
	// since, so that the rest of the entity stays editable.
	fresh := slices.DeleteFunc(slices.Clone(c.Links), func(e fixgraph.Edge) bool { return prev != nil && slices.Contains(prev.Links, e) })
	if err := s.checkLinks(ctx, id, fresh); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(c.Node)
	if err != nil {
		return nil, err
	}
	var seed *Entity
	if base == 0 && prev == nil {
		if seed, err = s.seed(ctx, id); err != nil && fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
			return nil, err
		}
		if seed == nil {
			// Not in the graph as p sees it: new, unless the store holds it out of p's sight.
			owners, err := s.Owners.Owners(ctx, []string{id})
			if err != nil {
				return nil, err
			}
			if len(owners[id]) > 0 {
				return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no node %q", id)
			}
		}
	}
	e, err := s.commit(id, base, p.ID, seed, func(cur *Entity) (*Entity, string, string, error) {
		if cur != nil && !readable(p, cur) {
			return nil, "", "", fixgraph.Errorf(fixgraph.ENOTFOUND, "no node %q", id)
		}
		next := &Entity{Node: raw, Links: dedupEdges(c.Links), Detached: dedupEdges(c.Detached),
			Visibility: cmp.Or(c.Visibility, fixgraph.VisibilityPublic), Department: c.Department, Status: fixgraph.StatusDraft}
		next.Answers = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(c.Answers), cur.answers()...))))
		action := ActCreated
		if cur != nil {
			next.Live, next.Created, action = cur.Live, cur.Created, ActSaved
		} else {
			next.Created = true
		}
		return next, action, c.Note, nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "editor.save", id, map[string]string{"rev": fmt.Sprint(e.Rev)})
	return e, nil
}

// Transition moves an entity along the workflow: submit (draft → review), reject (review →
// draft), publish (→ published, written to the graph), archive (→ archived, hidden from bots).
// Publishing and archiving need a reviewer or an admin. base, when not -1, must be the entity's
// revision, so a reviewer never publishes a version they have not seen.
func (s *Service) Transition(ctx context.Context, id string, base int, action string) (*Entity, error) {
	p := fixgraph.PrincipalFrom(ctx)
	cur, err := s.Current(ctx, id)
	if err != nil {
		return nil, err
	}
	var to fixgraph.Status
	var act string
	switch action {
	case "submit":
		to, act = fixgraph.StatusReview, ActSubmitted
	case "reject":
		to, act = fixgraph.StatusDraft, ActRejected
	case "publish":
		to, act = fixgraph.StatusPublished, ActPublished
	case "archive":
		to, act = fixgraph.StatusArchived, ActArchived
	default:
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "unknown workflow action %q", action)
	}
	if !p.Can("edit", cur.Department) || (to == fixgraph.StatusPublished || to == fixgraph.StatusArchived || act == ActRejected) && !p.Can("publish", cur.Department) {
		return nil, fixgraph.Errorf(fixgraph.EFORBIDDEN, "%s (%s) may not %s: publishing, rejecting and archiving need a reviewer or an admin", p.Name, p.Role, action)
	}
	switch {
	case act == ActSubmitted && cur.Status != fixgraph.StatusDraft,
		act == ActRejected && cur.Status != fixgraph.StatusReview:
		return nil, fixgraph.Errorf(fixgraph.ECONFLICT, "%s is %s; only a draft can be submitted and only an entity in review rejected", id, cur.Status)
	case act == ActPublished && cur.Status == fixgraph.StatusPublished && cur.Live == cur.Rev:
		return nil, fixgraph.Errorf(fixgraph.ECONFLICT, "%s is published already", id)
	}
	seed := (*Entity)(nil)
	if cur.Rev == 0 {
		seed = cur
	}
	e, err := s.commit(id, base, p.ID, seed, func(c *Entity) (*Entity, string, string, error) {
		next := *c
		next.Status = to
		if to == fixgraph.StatusPublished || to == fixgraph.StatusArchived {
			next.Live = c.Rev + 1
			if err := s.write(ctx, &next); err != nil {
				return nil, "", "", err
			}
		}
		return &next, act, "", nil
	})
	if err != nil {
		return nil, err
	}
	if act == ActPublished && len(e.Answers) > 0 {
		// The asks it answers leave the unanswered queue now that bots get the answer.
		if err := s.Store.MarkHandled(e.Answers, id); err != nil {
			return nil, err
		}
	}
	s.audit(ctx, "editor."+action, id, map[string]string{"rev": fmt.Sprint(e.Rev)})
	return e, nil
}

// Rollback makes revision rev the entity's content again, as a new revision, and publishes it:
// one step, for when a published change turns out wrong. Rolling back to the ingested revision
// takes the editorial document out of the graph, so the entity is what ingest made it.
func (s *Service) Rollback(ctx context.Context, id string, base, rev int) (*Entity, error) {
	p := fixgraph.PrincipalFrom(ctx)
	cur, err := s.Current(ctx, id)
	if err != nil {
		return nil, err
	}
	if !p.Can("publish", cur.Department) {
		return nil, fixgraph.Errorf(fixgraph.EFORBIDDEN, "%s (%s) may not roll back: it publishes, which needs a reviewer or an admin", p.Name, p.Role)
	}
	old, err := s.Store.Revision(id, rev)
	if err != nil {
		return nil, err
	}
	e, err := s.commit(id, base, p.ID, nil, func(c *Entity) (*Entity, string, string, error) {
		next := old.Entity
		next.Created = c.Created
		next.Status, next.Live = fixgraph.StatusPublished, c.Rev+1
		if old.Action == ActIngested {
			next.Links, next.Detached = nil, nil
			if r := s.Writer.Remove(ctx, fixgraph.EditorialSource(id)); r.Err != nil && fixgraph.CodeOf(r.Err) != fixgraph.ENOTFOUND {
				return nil, "", "", r.Err
			}
		} else if err := s.write(ctx, &next); err != nil {
			return nil, "", "", err
		}
		return &next, ActRolledBack, fmt.Sprintf("to revision %d", rev), nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "editor.rollback", id, map[string]string{"rev": fmt.Sprint(e.Rev), "to": fmt.Sprint(rev)})
	return e, nil
}

// write publishes e into the graph and the index as its editorial document.
func (s *Service) write(ctx context.Context, e *Entity) error {
	b, err := Batch(e, s.now())
	if err != nil {
		return err
	}
	r := s.Writer.Write(ctx, b.Document.Source, b)
	if r.Err != nil {
		return fmt.Errorf("publishing %s: %w", e.ID, r.Err)
	}
	return nil
}

// Batch is the editorial document of an entity: the node as edited, a section that carries its
// text to search, the links the editor added and the ones detached. Its status is the entity's
// (published or archived; an archived editorial document hides the entity).
func Batch(e *Entity, now time.Time) (*fixgraph.Batch, error) {
	n, err := e.Decode()
	if err != nil {
		return nil, err
	}
	src := fixgraph.EditorialSource(e.ID)
	doc := &fixgraph.Document{
		ID: fixgraph.DocumentID(src), Source: src, Visibility: e.Visibility, Department: e.Department,
		Status: fixgraph.StatusPublished, Detached: slices.Clone(e.Detached), IngestedAt: now.UTC(),
	}
	if e.Status == fixgraph.StatusArchived {
		doc.Status = fixgraph.StatusArchived
	}
	sec := &fixgraph.Section{ID: fixgraph.HashID(fixgraph.PrefixSection, doc.ID), DocumentID: doc.ID}
	b := &fixgraph.Batch{Document: doc}
	b.Link(sec.ID, fixgraph.RelPartOf, doc.ID)
	switch n := n.(type) {
	case *fixgraph.FAQ:
		doc.Kind, doc.Title, doc.Language = fixgraph.KindFAQ, n.Question, n.Language
		sec.Heading, sec.Text = n.Question, strings.Join(append(slices.Clone(n.Variants), n.Answer), "\n")
		if n.SectionID == "" {
			n.SectionID, n.DocumentID = sec.ID, doc.ID
		}
		b.Link(sec.ID, fixgraph.RelDescribes, n.ID)
		if n.Product != "" {
			sec.Products = []string{n.Product}
			b.Link(n.ID, fixgraph.RelAbout, fixgraph.ProductID(n.Product))
		}
	case *fixgraph.RepairGuide:
		doc.Kind, doc.Title, doc.Language = fixgraph.KindManual, n.Title, n.Language
		sec.Heading, sec.Text = n.Title, strings.Join(append(slices.Clone(n.Steps), n.Warnings...), "\n")
		if n.SectionID == "" {
			n.SectionID, n.DocumentID = sec.ID, doc.ID
		}
		b.Link(sec.ID, fixgraph.RelDescribes, n.ID)
		if n.Product != "" {
			sec.Products = []string{n.Product}
			if n.Code != "" {
				b.Link(fixgraph.ErrorCodeID(n.Product, n.Code), fixgraph.RelFixedBy, n.ID)
			}
		}
	case *fixgraph.ErrorCode:
		doc.Kind, doc.Title = fixgraph.KindManual, n.Product+" "+n.Code
		lang := "zh"
		if n.Symptom["zh"] == "" && n.Symptom["en"] != "" {
			lang = "en"
		}
		doc.Language = lang
		sec.Heading = n.Code + " " + n.Symptom.In(lang)
		sec.Text = strings.TrimSpace(n.Symptom.In(lang) + "\n" + n.Cause.In(lang))
		sec.Products = []string{n.Product}
		b.Link(fixgraph.ProductID(n.Product), fixgraph.RelHasError, n.ID)
		b.Link(sec.ID, fixgraph.RelMentions, n.ID)
	default:
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "%s cannot be edited", e.ID)
	}
	if doc.Language == "" {
		doc.Language = extract.DetectLanguage(sec.Heading + " " + sec.Text)
	}
	sec.Language, sec.HeadingPath = doc.Language, []string{sec.Heading}
	b.Add(sec, n)
	b.Edges = append(b.Edges, e.Links...)
	content, err := json.Marshal(struct {
		N        fixgraph.Node
		L, D     []fixgraph.Edge
		V        fixgraph.Visibility
		Dept, St string
	}{n, e.Links, e.Detached, e.Visibility, e.Department, string(doc.Status)})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(content)
	doc.ContentHash = hex.EncodeToString(sum[:])
	return b, nil
}

// checkLinks refuses links that do not touch the entity, or whose other end the editor cannot
// see in the graph (a mistyped id would make an edge to nothing).
func (s *Service) checkLinks(ctx context.Context, id string, links []fixgraph.Edge) error {
	var others []string
	for _, e := range links {
		switch id {
		case e.From:
			others = append(others, e.To)
		case e.To:
			others = append(others, e.From)
		default:
			return fixgraph.Errorf(fixgraph.EINVALID, "the link %s %s %s does not touch %s", e.From, e.Rel, e.To, id)
		}
	}
	if len(others) == 0 {
		return nil
	}
	nodes, err := s.Graph.Nodes(ctx, others)
	if err != nil {
		return err
	}
	for i, n := range nodes {
		if n == nil {
			return fixgraph.Errorf(fixgraph.EINVALID, "cannot link to %q: there is no such node", others[i])
		}
	}
	return nil
}

// validate refuses content that would make a useless or broken node.
func validate(n fixgraph.Node) error {
	switch n := n.(type) {
	case *fixgraph.FAQ:
		if strings.TrimSpace(n.Question) == "" || strings.TrimSpace(n.Answer) == "" {
			return fixgraph.Errorf(fixgraph.EINVALID, "an FAQ needs a question and an answer")
		}
	case *fixgraph.RepairGuide:
		if strings.TrimSpace(n.Title) == "" || len(n.Steps) == 0 {
			return fixgraph.Errorf(fixgraph.EINVALID, "a repair guide needs a title and at least one step")
		}
	case *fixgraph.ErrorCode:
		if n.Code == "" || n.Product == "" {
			return fixgraph.Errorf(fixgraph.EINVALID, "an error code needs a code and a product model")
		}
		if n.Severity != "" && !slices.Contains(fixgraph.Severities, n.Severity) {
			return fixgraph.Errorf(fixgraph.EINVALID, "severity must be low, medium, high or danger, not %q", n.Severity)
		}
	default:
		return fixgraph.Errorf(fixgraph.EINVALID, "%s cannot be edited", n.NodeID())
	}
	return nil
}

func (e *Entity) answers() []string {
	if e == nil {
		return nil
	}
	return e.Answers
}

func dedupEdges(l []fixgraph.Edge) []fixgraph.Edge {
	var out []fixgraph.Edge
	for _, e := range l {
		if e.From != "" && e.To != "" && e.Rel != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}
