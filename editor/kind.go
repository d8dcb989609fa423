package editor

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/ingest"
)

// Kinds keeps the kinds departments set documents to, which ingest applies to every later version
// of a document (ingest.State).
type Kinds interface {
	SetKind(docID string, kind fixgraph.DocKind, by string, at time.Time) error
	KindOverride(docID string) (ingest.KindOverride, bool, error)
}

// kindForm is what a document's page shows of its kind: what ingest read it as and why, and the
// kind someone set, with the form to set it when the viewer may.
type kindForm struct {
	Kind    fixgraph.DocKind
	Reason  string
	Set     *ingest.KindOverride
	CanSet  bool
	Choices []fixgraph.DocKind
}

func (h *Handler) kindRoutes(m *http.ServeMux) {
	m.Handle("POST /editor/kind", h.session(h.setKind))
}

// kindOf returns the kind form for a document node, or nil for any other node or without Kinds.
func (h *Handler) kindOf(n fixgraph.Node, p *fixgraph.Principal) (*kindForm, error) {
	d, ok := n.(*fixgraph.Document)
	if !ok || h.Kinds == nil || fixgraph.IsEditorial(d.ID) || d.Kind == fixgraph.KindStock {
		return nil, nil
	}
	f := &kindForm{Kind: d.Kind, Reason: d.KindReason, CanSet: maySetKind(p, d),
		Choices: []fixgraph.DocKind{fixgraph.KindManual, fixgraph.KindPolicy, fixgraph.KindFAQ}}
	o, ok, err := h.Kinds.KindOverride(d.ID)
	if err != nil {
		return nil, err
	}
	if ok {
		f.Set = &o
	}
	return f, nil
}

// maySetKind reports whether p may set d's kind: a reviewer or admin of d's department, or, for a
// document of no department, one of no department either (not another department's reviewer).
func maySetKind(p *fixgraph.Principal, d *fixgraph.Document) bool {
	return p.Can("publish", d.Department) && (d.Department != "" || p.Department == "")
}

// setKind sets the kind of a document for its later versions (or clears it with kind ""). Only a
// reviewer or admin of the document's department may; the next upload or crawl of the document
// reads it so.
func (h *Handler) setKind(w http.ResponseWriter, r *http.Request, pg *page) {
	ctx := r.Context()
	id := r.PostFormValue("id")
	if h.Kinds == nil {
		h.fail(w, r, pg, fixgraph.Errorf(fixgraph.ENOTFOUND, "this server keeps no document kinds"))
		return
	}
	d, err := h.document(ctx, id)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	if !maySetKind(pg.User, d) {
		h.fail(w, r, pg, fixgraph.Errorf(fixgraph.EFORBIDDEN, "only a reviewer or admin of the document's department may set its kind"))
		return
	}
	kind := fixgraph.DocKind(r.PostFormValue("kind"))
	if err := h.Kinds.SetKind(d.ID, kind, pg.User.Name, time.Now()); err != nil {
		h.fail(w, r, pg, err)
		return
	}
	if h.Log != nil {
		h.Log.Info("document kind set", "document", d.ID, "kind", kind, "by", pg.User.Name)
	}
	http.Redirect(w, r, "/editor/entity?id="+url.QueryEscape(d.ID), http.StatusSeeOther)
}

// document reads a document the principal in ctx may see.
func (h *Handler) document(ctx context.Context, id string) (*fixgraph.Document, error) {
	if fixgraph.KindOf(id) != fixgraph.PrefixDocument {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "%q is not a document", id)
	}
	n, err := h.Service.Graph.Node(ctx, id)
	if err != nil {
		return nil, err
	}
	d, ok := n.(*fixgraph.Document)
	if !ok {
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no document %q", id)
	}
	return d, nil
}
