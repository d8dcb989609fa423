package editor

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/analytics"
	"github.com/fixgraph/fixgraph/auth"
	"github.com/fixgraph/fixgraph/extract"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Unanswered is the analytics query behind the unanswered queue.
type Unanswered interface {
	Unanswered(from, to time.Time, limit int) ([]analytics.Group, error)
}

// Jobs is what the uploads page shows of the ingest jobs.
type Jobs interface {
	List(ctx context.Context, department string, limit int) ([]*fixgraph.Job, error)
	Files(ctx context.Context, id, outcome string, offset, limit int) ([]fixgraph.JobFile, error)
}

// Handler serves the editor's pages under /editor/. Pages are rendered on the server with
// html/template, which escapes everything it is given; the little JavaScript there is (uploads
// and confirmations) is in static/editor.js.
type Handler struct {
	Service    *Service
	Accounts   *auth.Store
	Unanswered Unanswered // nil: the queue is empty
	Jobs       Jobs       // nil: no uploads page
	Secure     bool       // cookies only over HTTPS
	Log        *slog.Logger

	// Reviews and Departments serve review before publish (review.go); nil: not here.
	Reviews     Reviews
	Departments Departments

	// Kinds keeps the kinds set for documents (kind.go); nil: kinds cannot be set here.
	Kinds Kinds

	pages map[string]*template.Template
	mux   *http.ServeMux
}

// Prefix is where the editor is served.
const Prefix = "/editor/"

const langCookie = "fixgraph_lang"

// Init parses the templates and sets up the routes; call it once before serving.
func (h *Handler) Init() error {
	h.pages = map[string]*template.Template{}
	funcs := template.FuncMap{
		"t":      func(lang, msg string) string { return translate(lang, msg) },
		"text":   func(t fixgraph.Text, lang string) string { return t.In(lang) },
		"join":   strings.Join,
		"lines":  func(l []string) string { return strings.Join(l, "\n") },
		"q":      url.QueryEscape,
		"kindOf": fixgraph.KindOf,
		"when":   func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
		"add":    func(a, b int) int { return a + b },
		"pct": func(a, b int) int {
			if b == 0 {
				return 0
			}
			return 100 * a / b
		},
		"editable": Editable,
		"can":      func(p *fixgraph.Principal, action, dept string) bool { return p != nil && p.Can(action, dept) },
		"rels":     func() []fixgraph.Rel { return allRels },
		"list":     func(s ...string) []string { return s },
		"edge":     edgeValue,
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return err
	}
	for _, name := range names {
		if name == "templates/layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(assets, name)
		if err != nil {
			return err
		}
		h.pages[strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")] = t
	}
	static, _ := fs.Sub(assets, "static")
	m := http.NewServeMux()
	m.Handle("GET /editor/static/", http.StripPrefix("/editor/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /editor/signin", h.signInPage)
	m.HandleFunc("POST /editor/signin", h.signIn)
	m.HandleFunc("GET /editor/lang/{lang}", h.setLang)
	m.Handle("POST /editor/signout", h.session(h.signOut))
	m.Handle("GET /editor/{$}", h.session(h.home))
	m.Handle("GET /editor/search", h.session(h.search))
	m.Handle("GET /editor/entity", h.session(h.entity))
	m.Handle("GET /editor/edit", h.session(h.editPage))
	m.Handle("POST /editor/edit", h.session(h.save))
	m.Handle("GET /editor/new", h.session(h.newPage))
	m.Handle("POST /editor/new", h.session(h.create))
	m.Handle("POST /editor/workflow", h.session(h.workflow))
	m.Handle("GET /editor/history", h.session(h.history))
	m.Handle("POST /editor/rollback", h.session(h.rollback))
	m.Handle("GET /editor/preview", h.session(h.preview))
	m.Handle("GET /editor/unanswered", h.session(h.unanswered))
	m.Handle("GET /editor/uploads", h.session(h.uploads))
	h.reviewRoutes(m)
	h.kindRoutes(m)
	h.mfaRoutes(m)
	h.mux = m
	return nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	Lang  string
	User  *fixgraph.Principal
	CSRF  string
	Title string
	Path  string
	Error string
	Data  any
}

type sessionKey struct{}

type sessionInfo struct {
	p    *fixgraph.Principal
	csrf string
}

// session admits signed-in editors: GET pages need a session, anything else also the session's
// CSRF token, in the form field csrf or the X-CSRF-Token header.
func (h *Handler) session(next func(http.ResponseWriter, *http.Request, *page)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(auth.SessionCookie)
		var p *fixgraph.Principal
		var csrf string
		if err == nil && c.Value != "" {
			p, csrf, err = h.Accounts.SessionPrincipal(c.Value)
		}
		if p == nil || err != nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/editor/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.fail(w, r, &page{Lang: lang(r)}, fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "%s", translate(lang(r), "Not signed in or session expired.")))
			return
		}
		pg := &page{Lang: lang(r), User: p, CSRF: csrf, Path: r.URL.RequestURI()}
		if r.Method != http.MethodGet {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			got := r.Header.Get(auth.CSRFHeader)
			if got == "" {
				got = r.PostFormValue("csrf")
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(csrf)) != 1 {
				h.fail(w, r, pg, fixgraph.Errorf(fixgraph.EFORBIDDEN, "the form's CSRF token is missing or stale; reload the page and try again"))
				return
			}
		}
		if !p.Can("edit", p.Department) {
			h.fail(w, r, pg, fixgraph.Errorf(fixgraph.EFORBIDDEN, "%s (%s) may not use the editor: it needs an editor, reviewer or admin account", p.Name, p.Role))
			return
		}
		next(w, r.WithContext(fixgraph.WithPrincipal(r.Context(), p)), pg)
	})
}

func lang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == "en" {
		return "en"
	}
	return "zh"
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, pg *page) {
	t, ok := h.pages[name]
	if !ok {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", pg); err != nil {
		h.log().Error("rendering an editor page", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// fail shows an error page with the error's HTTP status; internal errors are logged, not shown.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, pg *page, err error) {
	code := fixgraph.CodeOf(err)
	msg := fixgraph.MessageOf(err)
	if code == fixgraph.EINTERNAL {
		h.log().Error("editor request failed", "path", r.URL.Path, "err", err)
		msg = "internal error; it has been logged"
	}
	pg.Error = msg
	pg.Title = translate(pg.Lang, "Error")
	h.render(w, fixgraph.HTTPStatus(code), "error", pg)
}

func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "signin", &page{Lang: lang(r), Title: translate(lang(r), "Sign in"), Data: safeNext(r.URL.Query().Get("next"))})
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	pg := &page{Lang: lang(r), Title: translate(lang(r), "Sign in")}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	next := safeNext(r.PostFormValue("next"))
	pg.Data = next
	done, err := auth.AllowSignIn(r, r.PostFormValue("name"))
	if err != nil {
		w.Header().Set("Retry-After", "60")
		pg.Error = fixgraph.MessageOf(err)
		h.render(w, http.StatusTooManyRequests, "signin", pg)
		return
	}
	a, err := h.Accounts.Password(r.PostFormValue("name"), r.PostFormValue("password"))
	done(err == nil)
	if err != nil {
		h.auditAttempt(r, a, err)
		pg.Error = fixgraph.MessageOf(err)
		h.render(w, fixgraph.HTTPStatus(fixgraph.CodeOf(err)), "signin", pg)
		return
	}
	if a.Challenge != auth.ChallengeNone {
		h.secondStep(w, r, a, next)
		return
	}
	h.signedIn(w, r, a)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// safeNext keeps a redirect after sign-in inside the editor.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return Prefix
	}
	return next
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, pg *page) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		h.Accounts.SignOut(c.Value)
	}
	auth.SetSessionCookie(w, "", h.Secure)
	http.Redirect(w, r, "/editor/signin", http.StatusSeeOther)
}

func (h *Handler) setLang(w http.ResponseWriter, r *http.Request) {
	l := r.PathValue("lang")
	if l != "en" {
		l = "zh"
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: Prefix, MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("back")), http.StatusSeeOther)
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request, pg *page) {
	review, err := h.Service.Store.List(50, fixgraph.StatusReview)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	drafts, err := h.Service.Store.List(50, fixgraph.StatusDraft)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	recent, err := h.Service.Store.List(20)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	pg.Title = translate(pg.Lang, "fixgraph editor")
	pg.Data = map[string]any{"Review": h.summaries(r.Context(), review, pg.Lang), "Drafts": h.summaries(r.Context(), drafts, pg.Lang), "Recent": h.summaries(r.Context(), recent, pg.Lang)}
	h.render(w, http.StatusOK, "home", pg)
}

// summary is one line about an entity in a list.
type summary struct {
	ID, Kind, Label string
	Status          fixgraph.Status
	By              string
	At              time.Time
}

func (h *Handler) summaries(ctx context.Context, l []*Entity, lang string) []summary {
	var out []summary
	for _, e := range l {
		if !fixgraph.PrincipalFrom(ctx).CanRead(&fixgraph.Document{Visibility: e.Visibility, Department: e.Department, Status: fixgraph.StatusPublished}) {
			continue
		}
		n, err := e.Decode()
		if err != nil {
			continue
		}
		out = append(out, summary{ID: e.ID, Kind: fixgraph.KindOf(e.ID), Label: label(n, lang), Status: e.Status, By: e.UpdatedBy, At: e.UpdatedAt})
	}
	return out
}

// searchResult is a hit of the editor's search, with the knowledge the section describes.
type searchResult struct {
	Hit    fixgraph.Hit
	Linked []summary
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request, pg *page) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	pg.Title = translate(pg.Lang, "Search")
	data := map[string]any{"Q": q}
	pg.Data = data
	if q == "" {
		h.render(w, http.StatusOK, "search", pg)
		return
	}
	ctx := r.Context()
	g := h.Service.Graph
	// Exact matches first: error codes, parts and products named in the query.
	var exact []summary
	seen := map[string]bool{}
	addNode := func(n fixgraph.Node) {
		if n != nil && !seen[n.NodeID()] {
			seen[n.NodeID()] = true
			exact = append(exact, summary{ID: n.NodeID(), Kind: fixgraph.KindOf(n.NodeID()), Label: label(n, pg.Lang)})
		}
	}
	for _, code := range extract.ErrorCodes(q) {
		ecs, err := g.ErrorCodes(ctx, code)
		if err != nil {
			h.fail(w, r, pg, err)
			return
		}
		for _, ec := range ecs {
			addNode(ec)
		}
	}
	var ids []string
	for _, m := range extract.ProductModels(q) {
		ids = append(ids, fixgraph.ProductID(m))
	}
	for _, f := range strings.Fields(q) {
		ids = append(ids, fixgraph.PartID(f))
	}
	nodes, err := g.Nodes(ctx, ids)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	for _, n := range nodes {
		addNode(n)
	}
	hits, err := h.Service.Answers.Search(ctx, q, 20, fixgraph.SearchFilter{})
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	secIDs := make([]string, len(hits))
	for i, hit := range hits {
		secIDs[i] = hit.Section.ID
	}
	described, err := g.Neighbors(ctx, secIDs, fixgraph.RelDescribes, fixgraph.Out)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	results := make([]searchResult, len(hits))
	for i, hit := range hits {
		results[i].Hit = hit
		linked, err := g.Nodes(ctx, described[hit.Section.ID])
		if err != nil {
			h.fail(w, r, pg, err)
			return
		}
		for _, n := range linked {
			if n != nil {
				results[i].Linked = append(results[i].Linked, summary{ID: n.NodeID(), Kind: fixgraph.KindOf(n.NodeID()), Label: label(n, pg.Lang)})
			}
		}
	}
	data["Exact"], data["Results"] = exact, results
	h.render(w, http.StatusOK, "search", pg)
}

// link is an edge at an entity, as its page lists it.
type link struct {
	Edge     fixgraph.Edge
	Other    summary
	Out      bool
	Editable bool // the entity's working copy may detach it
	Detached bool // detached in the working copy
	Added    bool // added by the editor
}

func (h *Handler) entity(w http.ResponseWriter, r *http.Request, pg *page) {
	ctx := r.Context()
	id := r.URL.Query().Get("id")
	var wc *Entity
	if Editable(id) {
		e, err := h.Service.Store.Get(id)
		if err != nil {
			h.fail(w, r, pg, err)
			return
		}
		if e != nil && readable(pg.User, e) {
			wc = e // another department's working copy is not shown, as Current does not give it
		}
	}
	n, err := h.Service.Graph.Node(ctx, id)
	if err != nil && (fixgraph.CodeOf(err) != fixgraph.ENOTFOUND || wc == nil) {
		h.fail(w, r, pg, err)
		return
	}
	if n == nil {
		// Only in the editor so far: a draft never published, or archived.
		if n, err = wc.Decode(); err != nil {
			h.fail(w, r, pg, err)
			return
		}
	}
	links, err := h.links(ctx, id, wc, pg.Lang)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	src, err := h.source(ctx, n)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	pic, err := h.neighbourhood(ctx, id, pg.Lang)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	conflicts, err := h.Service.Conflicts(ctx, id)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	var pending bool
	if wc != nil {
		pending = wc.Rev != wc.Live
	}
	docKind, err := h.kindOf(n, pg.User)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	pg.Title = label(n, pg.Lang)
	pg.Data = map[string]any{"ID": id, "Kind": fixgraph.KindOf(id), "Fields": fields(n, pg.Lang), "Links": links,
		"Source": src, "Picture": pic, "Working": wc, "Pending": pending, "Editable": Editable(id), "Conflicts": conflicts, "DocKind": docKind}
	h.render(w, http.StatusOK, "entity", pg)
}

// source is where a node came from: its document and the place in it.
type source struct {
	Title, URL, Origin string
	Editorial          bool
}

func (h *Handler) source(ctx context.Context, n fixgraph.Node) (*source, error) {
	var docID, secID string
	switch n := n.(type) {
	case *fixgraph.Section:
		docID, secID = n.DocumentID, n.ID
	case *fixgraph.FAQ:
		docID, secID = n.DocumentID, n.SectionID
	case *fixgraph.RepairGuide:
		docID, secID = n.DocumentID, n.SectionID
	case *fixgraph.PolicyClause:
		docID, secID = n.DocumentID, n.SectionID
	case *fixgraph.Document:
		return &source{Title: n.Title, URL: n.Source, Origin: n.Source, Editorial: fixgraph.IsEditorial(n.ID)}, nil
	default:
		return nil, nil
	}
	nodes, err := h.Service.Graph.Nodes(ctx, []string{docID, secID})
	if err != nil {
		return nil, err
	}
	doc, _ := nodes[0].(*fixgraph.Document)
	sec, _ := nodes[1].(*fixgraph.Section)
	if doc == nil {
		return nil, nil
	}
	s := &source{Title: doc.Title, Origin: doc.Source, Editorial: fixgraph.IsEditorial(doc.ID)}
	if !s.Editorial {
		s.URL = doc.Source
		if sec != nil {
			s.URL = citeURL(doc, sec)
		}
	}
	return s, nil
}

// citeURL links to a section in its source: the anchor of an HTML page, the page of a PDF.
func citeURL(doc *fixgraph.Document, sec *fixgraph.Section) string {
	switch {
	case sec.Anchor != "":
		return doc.Source + "#" + sec.Anchor
	case sec.Page > 0:
		return doc.Source + "#page=" + strconv.Itoa(sec.Page)
	}
	return doc.Source
}

// allRels are the relations an entity page lists.
var allRels = []fixgraph.Rel{fixgraph.RelHasError, fixgraph.RelFixedBy, fixgraph.RelNeedsPart, fixgraph.RelHasVideo,
	fixgraph.RelStockedAt, fixgraph.RelAbout, fixgraph.RelFitsIn, fixgraph.RelDescribes, fixgraph.RelMentions,
	fixgraph.RelPartOf, fixgraph.RelManualFor, fixgraph.RelHasClause}

// links returns the edges at id as the graph serves them, and those the working copy adds or
// detaches.
func (h *Handler) links(ctx context.Context, id string, wc *Entity, lang string) ([]link, error) {
	g := h.Service.Graph
	var out []link
	seen := map[fixgraph.Edge]bool{}
	for _, rel := range allRels {
		for _, dir := range []fixgraph.Direction{fixgraph.Out, fixgraph.In} {
			m, err := g.Neighbors(ctx, []string{id}, rel, dir)
			if err != nil {
				return nil, err
			}
			for _, other := range m[id] {
				e := fixgraph.Edge{From: id, Rel: rel, To: other}
				if dir == fixgraph.In {
					e = fixgraph.Edge{From: other, Rel: rel, To: id}
				}
				if !seen[e] {
					seen[e] = true
					out = append(out, link{Edge: e, Out: dir == fixgraph.Out})
				}
			}
		}
	}
	if wc != nil {
		for _, e := range wc.Links {
			if !seen[e] {
				seen[e] = true
				out = append(out, link{Edge: e, Out: e.From == id, Added: true})
			}
		}
		for _, e := range wc.Detached {
			if !seen[e] {
				seen[e] = true
				out = append(out, link{Edge: e, Out: e.From == id})
			}
		}
	}
	ids := make([]string, len(out))
	for i, l := range out {
		ids[i] = l.Edge.To
		if !l.Out {
			ids[i] = l.Edge.From
		}
	}
	nodes, err := g.Nodes(ctx, ids)
	if err != nil {
		return nil, err
	}
	kept := out[:0]
	for i, l := range out {
		if nodes[i] == nil {
			continue // hidden from this editor, or gone
		}
		l.Other = summary{ID: ids[i], Kind: fixgraph.KindOf(ids[i]), Label: label(nodes[i], lang)}
		if wc != nil {
			l.Detached = slices.Contains(wc.Detached, l.Edge)
			l.Added = l.Added || slices.Contains(wc.Links, l.Edge)
		}
		l.Editable = Editable(id) && l.Edge.Rel != fixgraph.RelPartOf && l.Edge.Rel != fixgraph.RelDescribes
		kept = append(kept, l)
	}
	slices.SortStableFunc(kept, func(a, b link) int { return strings.Compare(string(a.Edge.Rel), string(b.Edge.Rel)) })
	return kept, nil
}

// form is an edit form's content, as shown and as posted.
type form struct {
	ID, Kind   string
	Base       int
	Node       fixgraph.Node
	Visibility fixgraph.Visibility
	Department string
	Links      []link
	Events     string // analytics events the new FAQ answers (from the unanswered queue)
	Conflict   string
	Targets    []summary // what a new link may point to, offered as the form's suggestions
}

// current returns the working copy of an editable entity and its node.
func (h *Handler) current(ctx context.Context, id string) (*Entity, fixgraph.Node, error) {
	e, err := h.Service.Current(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	n, err := e.Decode()
	return e, n, err
}

func (h *Handler) editPage(w http.ResponseWriter, r *http.Request, pg *page) {
	ctx := r.Context()
	id := r.URL.Query().Get("id")
	e, n, err := h.current(ctx, id)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	links, err := h.links(ctx, id, e, pg.Lang)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	pg.Title = translate(pg.Lang, "Edit") + " · " + label(n, pg.Lang)
	targets, err := h.targets(ctx, pg.Lang)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	pg.Data = &form{ID: id, Kind: fixgraph.KindOf(id), Base: e.Rev, Node: n, Visibility: e.Visibility, Department: e.Department, Links: links, Targets: targets}
	h.render(w, http.StatusOK, "edit", pg)
}

// maxTargets bounds the suggestions of each kind in a form.
const maxTargets = 300

// targets lists what links usually point to (products, parts, videos, guides), so the editor
// picks a target by name rather than typing its id.
func (h *Handler) targets(ctx context.Context, lang string) ([]summary, error) {
	var out []summary
	for _, prefix := range []string{fixgraph.PrefixProduct, fixgraph.PrefixPart, fixgraph.PrefixVideo, fixgraph.PrefixGuide} {
		n := 0
		err := h.Service.Graph.Scan(ctx, prefix+":", func(node fixgraph.Node) error {
			if n++; n > maxTargets {
				return errEnough
			}
			out = append(out, summary{ID: node.NodeID(), Kind: prefix, Label: label(node, lang)})
			return nil
		})
		if err != nil && !errors.Is(err, errEnough) {
			return nil, err
		}
	}
	return out, nil
}

var errEnough = errors.New("enough")

// readForm reads the posted edit form of an entity of kind into a node.
func readForm(r *http.Request, id, kind string) (fixgraph.Node, error) {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	lines := func(k string) []string {
		var out []string
		for _, l := range strings.Split(r.PostFormValue(k), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	langOf := func(s string) string {
		if l := v("language"); l == "zh" || l == "en" {
			return l
		}
		return extract.DetectLanguage(s)
	}
	switch kind {
	case fixgraph.PrefixFAQ:
		f := &fixgraph.FAQ{ID: id, Question: v("question"), Variants: lines("variants"), Answer: v("answer"), Product: strings.ToUpper(v("product")),
			SectionID: v("sectionId"), DocumentID: v("documentId")}
		f.Language = langOf(f.Question)
		if f.ID == "" {
			f.ID = fixgraph.HashID(fixgraph.PrefixFAQ, "editor", f.Question)
		}
		return f, nil
	case fixgraph.PrefixGuide:
		g := &fixgraph.RepairGuide{ID: id, Title: v("title"), Product: strings.ToUpper(v("product")), Code: strings.ToUpper(v("code")),
			Steps: lines("steps"), Warnings: lines("warnings"), SectionID: v("sectionId"), DocumentID: v("documentId")}
		g.Language = langOf(g.Title + " " + strings.Join(g.Steps, " "))
		if g.ID == "" {
			g.ID = fixgraph.HashID(fixgraph.PrefixGuide, "editor", g.Product, g.Code, g.Title)
		}
		return g, nil
	case fixgraph.PrefixErrorCode:
		c := &fixgraph.ErrorCode{ID: id, Code: strings.ToUpper(v("code")), Product: strings.ToUpper(v("product")), Severity: v("severity"), FixedIn: v("fixedIn"),
			Symptom: texts(v("symptomZh"), v("symptomEn")), Cause: texts(v("causeZh"), v("causeEn"))}
		if c.Code == "" || c.Product == "" {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "an error code needs a code and a product model")
		}
		if want := fixgraph.ErrorCodeID(c.Product, c.Code); c.ID == "" {
			c.ID = want
		} else if c.ID != want {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "the code and product of %s cannot change; create a new error code instead", id)
		}
		return c, nil
	}
	return nil, fixgraph.Errorf(fixgraph.EINVALID, "the editor creates FAQs, repair guides and error codes, not %q", kind)
}

func texts(zhText, en string) fixgraph.Text {
	t := fixgraph.Text{}
	if zhText != "" {
		t["zh"] = zhText
	}
	if en != "" {
		t["en"] = en
	}
	return t
}

// readLinks reads the links part of an edit form: edges ticked to detach, and one new link.
func readLinks(r *http.Request, id string, cur *Entity) (added, detached []fixgraph.Edge, err error) {
	if cur != nil {
		added = slices.Clone(cur.Links)
	}
	for _, s := range r.PostForm["detach"] {
		e, ok := parseEdge(s)
		if !ok || e.From != id && e.To != id {
			return nil, nil, fixgraph.Errorf(fixgraph.EINVALID, "malformed link %q", s)
		}
		if i := slices.Index(added, e); i >= 0 {
			added = slices.Delete(added, i, i+1) // the editor's own link: just drop it
			continue
		}
		detached = append(detached, e)
	}
	// A detached link left unticked is attached again.
	if rel, to := fixgraph.Rel(strings.TrimSpace(r.PostFormValue("linkRel"))), strings.TrimSpace(r.PostFormValue("linkTo")); rel != "" && to != "" {
		if !slices.Contains(allRels, rel) {
			return nil, nil, fixgraph.Errorf(fixgraph.EINVALID, "unknown relation %q", rel)
		}
		e := fixgraph.Edge{From: id, Rel: rel, To: to}
		if r.PostFormValue("linkDir") == "in" {
			e = fixgraph.Edge{From: to, Rel: rel, To: id}
		}
		added = append(added, e)
	}
	return added, detached, nil
}

func parseEdge(s string) (fixgraph.Edge, bool) {
	parts := strings.Split(s, "\x1f")
	if len(parts) != 3 {
		return fixgraph.Edge{}, false
	}
	return fixgraph.Edge{From: parts[0], Rel: fixgraph.Rel(parts[1]), To: parts[2]}, true
}

func (h *Handler) save(w http.ResponseWriter, r *http.Request, pg *page) {
	h.saveForm(w, r, pg, r.URL.Query().Get("id"), "")
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request, pg *page) {
	h.saveForm(w, r, pg, "", r.URL.Query().Get("kind"))
}

// saveForm saves an edit (id set) or a new entity (kind set) as a draft, then takes the
// workflow step the button asked for. A conflicting save shows the form again with the
// editor's text and what happened.
func (h *Handler) saveForm(w http.ResponseWriter, r *http.Request, pg *page, id, kind string) {
	ctx := r.Context()
	if id != "" {
		kind = fixgraph.KindOf(id)
	}
	base, _ := strconv.Atoi(r.PostFormValue("base"))
	n, err := readForm(r, id, kind)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	id = n.NodeID()
	cur, err := h.Service.Store.Get(id)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	if cur == nil && base == 0 && r.URL.Path == "/editor/new" {
		if existing, err := h.Service.Graph.Node(ctx, id); err == nil && existing != nil {
			h.fail(w, r, pg, fixgraph.Errorf(fixgraph.ECONFLICT, "%s exists already; edit it instead", id))
			return
		}
	}
	added, detached, err := readLinks(r, id, cur)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	vis := fixgraph.Visibility(r.PostFormValue("visibility"))
	if !slices.Contains([]fixgraph.Visibility{fixgraph.VisibilityPublic, fixgraph.VisibilityInternal, fixgraph.VisibilityDepartment}, vis) {
		vis = fixgraph.VisibilityPublic
	}
	dept := strings.TrimSpace(r.PostFormValue("department"))
	e, err := h.Service.Save(ctx, id, base, Change{Node: n, Links: added, Detached: detached, Visibility: vis, Department: dept, Note: r.PostFormValue("note"),
		Answers: strings.Fields(r.PostFormValue("events"))})
	if fixgraph.CodeOf(err) == fixgraph.ECONFLICT {
		pg.Title = translate(pg.Lang, "Conflict")
		pg.Data = &form{ID: id, Kind: kind, Base: base, Node: n, Visibility: vis, Department: dept, Events: r.PostFormValue("events"), Conflict: fixgraph.MessageOf(err)}
		h.render(w, http.StatusConflict, "edit", pg)
		return
	}
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	if step := r.PostFormValue("then"); step == "submit" || step == "publish" {
		if _, err := h.Service.Transition(ctx, id, e.Rev, step); err != nil {
			h.fail(w, r, pg, err)
			return
		}
	}
	http.Redirect(w, r, "/editor/entity?id="+url.QueryEscape(id), http.StatusSeeOther)
}

func (h *Handler) newPage(w http.ResponseWriter, r *http.Request, pg *page) {
	kind := r.URL.Query().Get("kind")
	var n fixgraph.Node
	switch kind {
	case fixgraph.PrefixFAQ:
		n = &fixgraph.FAQ{Question: r.URL.Query().Get("question")}
	case fixgraph.PrefixGuide:
		n = &fixgraph.RepairGuide{Product: r.URL.Query().Get("product"), Code: r.URL.Query().Get("code")}
	case fixgraph.PrefixErrorCode:
		n = &fixgraph.ErrorCode{Product: r.URL.Query().Get("product")}
	default:
		h.fail(w, r, pg, fixgraph.Errorf(fixgraph.EINVALID, "the editor creates FAQs, repair guides and error codes, not %q", kind))
		return
	}
	pg.Title = translate(pg.Lang, map[string]string{"faq": "New FAQ", "guide": "New repair guide", "code": "New error code"}[kind])
	pg.Data = &form{Kind: kind, Node: n, Visibility: fixgraph.VisibilityPublic, Department: pg.User.Department}
	h.render(w, http.StatusOK, "edit", pg)
}

func (h *Handler) workflow(w http.ResponseWriter, r *http.Request, pg *page) {
	id := r.URL.Query().Get("id")
	base, err := strconv.Atoi(r.PostFormValue("base"))
	if err != nil {
		h.fail(w, r, pg, fixgraph.Errorf(fixgraph.EINVALID, "the form has no revision"))
		return
	}
	if _, err := h.Service.Transition(r.Context(), id, base, r.PostFormValue("action")); err != nil {
		h.fail(w, r, pg, err)
		return
	}
	http.Redirect(w, r, "/editor/entity?id="+url.QueryEscape(id), http.StatusSeeOther)
}

// revisionView is a revision with what changed since the one before.
type revisionView struct {
	Revision
	Diff    []diffLine
	Current bool
	Live    bool
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request, pg *page) {
	id := r.URL.Query().Get("id")
	e, n, err := h.current(r.Context(), id)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	revs, err := h.Service.History(id)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	views := make([]revisionView, len(revs))
	for i, rev := range revs {
		var before []string
		if i+1 < len(revs) {
			before = flatten(&revs[i+1].Entity, pg.Lang)
		}
		views[i] = revisionView{Revision: rev, Diff: diffLines(before, flatten(&rev.Entity, pg.Lang)), Current: rev.Rev == e.Rev, Live: rev.Rev == e.Live}
	}
	pg.Title = translate(pg.Lang, "History") + " · " + label(n, pg.Lang)
	pg.Data = map[string]any{"ID": id, "Rev": e.Rev, "Revisions": views, "Department": e.Department}
	h.render(w, http.StatusOK, "history", pg)
}

func (h *Handler) rollback(w http.ResponseWriter, r *http.Request, pg *page) {
	id := r.URL.Query().Get("id")
	base, err1 := strconv.Atoi(r.PostFormValue("base"))
	rev, err2 := strconv.Atoi(r.PostFormValue("rev"))
	if err := errors.Join(err1, err2); err != nil {
		h.fail(w, r, pg, fixgraph.Errorf(fixgraph.EINVALID, "the rollback form needs the current and the target revision"))
		return
	}
	if _, err := h.Service.Rollback(r.Context(), id, base, rev); err != nil {
		h.fail(w, r, pg, err)
		return
	}
	http.Redirect(w, r, "/editor/history?id="+url.QueryEscape(id), http.StatusSeeOther)
}

func (h *Handler) preview(w http.ResponseWriter, r *http.Request, pg *page) {
	ctx := r.Context()
	id := r.URL.Query().Get("id")
	_, n, err := h.current(ctx, id)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		q = defaultQuestion(n)
	}
	data := map[string]any{"ID": id, "Q": q, "Label": label(n, pg.Lang)}
	ans, err := h.Service.Preview(ctx, id, q)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	data["Answer"] = ans
	pg.Title = translate(pg.Lang, "Preview") + " · " + label(n, pg.Lang)
	pg.Data = data
	h.render(w, http.StatusOK, "preview", pg)
}

// defaultQuestion is what a customer would ask to get this entity.
func defaultQuestion(n fixgraph.Node) string {
	switch n := n.(type) {
	case *fixgraph.FAQ:
		return n.Question
	case *fixgraph.ErrorCode:
		return n.Product + " 显示 " + n.Code + " 怎么办"
	case *fixgraph.RepairGuide:
		if n.Code != "" {
			return n.Product + " 显示 " + n.Code + " 怎么办"
		}
		return n.Title
	}
	return ""
}

// queueGroup is a group of the unanswered queue, with the asks no entity answers yet.
type queueGroup struct {
	analytics.Group
	Others []string
	Events string
}

func (h *Handler) unanswered(w http.ResponseWriter, r *http.Request, pg *page) {
	pg.Title = translate(pg.Lang, "Unanswered")
	var groups []queueGroup
	if h.Unanswered != nil {
		now := h.Service.now()
		gs, err := h.Unanswered.Unanswered(now.AddDate(0, 0, -30), now.Add(time.Minute), 50)
		if err != nil {
			h.fail(w, r, pg, err)
			return
		}
		for _, g := range gs {
			handled, err := h.Service.Store.Handled(g.Events)
			if err != nil {
				h.fail(w, r, pg, err)
				return
			}
			open := slices.DeleteFunc(slices.Clone(g.Events), func(ev string) bool { return handled[ev] != "" })
			if len(open) == 0 {
				continue
			}
			var others []string
			for _, q := range g.Questions {
				if q != g.Question {
					others = append(others, q)
				}
			}
			groups = append(groups, queueGroup{Group: g, Others: others, Events: strings.Join(open, " ")})
		}
	}
	pg.Data = groups
	h.render(w, http.StatusOK, "unanswered", pg)
}

// jobView is a job with its failed files.
type jobView struct {
	*fixgraph.Job
	Failed  []fixgraph.JobFile
	Pending int // documents awaiting review
}

func (h *Handler) uploads(w http.ResponseWriter, r *http.Request, pg *page) {
	pg.Title = translate(pg.Lang, "Uploads")
	var views []jobView
	running := false
	if h.Jobs != nil {
		dept := ""
		if !pg.User.Can("admin", "") {
			dept = pg.User.Department
		}
		jobs, err := h.Jobs.List(r.Context(), dept, 20)
		if err != nil {
			h.fail(w, r, pg, err)
			return
		}
		for _, j := range jobs {
			v := jobView{Job: j}
			if j.Counts.Failed > 0 {
				if v.Failed, err = h.Jobs.Files(r.Context(), j.ID, fixgraph.FileFailed, 0, 100); err != nil {
					h.fail(w, r, pg, err)
					return
				}
			}
			if v.Pending, err = h.pendingOf(r.Context(), j); err != nil {
				h.fail(w, r, pg, err)
				return
			}
			running = running || j.State == fixgraph.JobQueued || j.State == fixgraph.JobRunning
			views = append(views, v)
		}
	}
	pg.Data = map[string]any{"Jobs": views, "Running": running, "Department": pg.User.Department, "Settings": h.Departments != nil && pg.User.Can("admin", "")}
	h.render(w, http.StatusOK, "uploads", pg)
}

// label is a short human name for a node.
func label(n fixgraph.Node, lang string) string {
	switch n := n.(type) {
	case *fixgraph.Document:
		return n.Title
	case *fixgraph.Section:
		return n.Heading
	case *fixgraph.Product:
		if name := n.Name.In(lang); name != "" {
			return n.Model + " " + name
		}
		return n.Model
	case *fixgraph.ErrorCode:
		return n.Product + " " + n.Code
	case *fixgraph.RepairGuide:
		return n.Title
	case *fixgraph.Video:
		if t := n.Title.In(lang); t != "" {
			return t
		}
		return n.URL
	case *fixgraph.Part:
		if name := n.Name.In(lang); name != "" {
			return n.SKU + " " + name
		}
		return n.SKU
	case *fixgraph.Warehouse:
		if n.Name != "" {
			return n.Name
		}
		return n.Code
	case *fixgraph.StockLevel:
		return fmt.Sprintf("%s @ %s: %d", n.SKU, n.Warehouse, n.Quantity)
	case *fixgraph.FAQ:
		return n.Question
	case *fixgraph.PolicyClause:
		return strings.TrimSpace(n.Number + " " + n.Title)
	case nil:
		return ""
	}
	return n.NodeID()
}
