package editor_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/analytics"
	"github.com/fixgraph/fixgraph/auth"
	"github.com/fixgraph/fixgraph/editor"
	"github.com/fixgraph/fixgraph/ingest"
)

// The HTTP tests drive the editor's pages as a browser without JavaScript would: they sign in
// through the form, read the forms off the pages and post them back.

const password = "correct horse battery"

type site struct {
	*env
	srv      *httptest.Server
	accounts *auth.Store
	asks     *analytics.Store
	kinds    *ingest.State
}

// signInAddr numbers the client addresses of sign-in requests. auth.AllowSignIn allows five
// sign-ins a minute per client address for the whole process, and every test server's clients
// are 127.0.0.1: each sign-in is given an address of its own so the tests do not throttle one
// another.
var signInAddr atomic.Uint64

func newSite(t *testing.T) *site {
	t.Helper()
	e := newEnv(t)
	dir := t.TempDir()
	accounts, err := auth.Open(filepath.Join(dir, "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { accounts.Close() })
	for _, u := range []struct {
		name string
		role fixgraph.Role
		dept string
	}{
		{"rev", fixgraph.RoleReviewer, ""},
		{"ed", fixgraph.RoleEditor, ""},
		{"bot", fixgraph.RoleReader, ""},
		{"sup", fixgraph.RoleEditor, "support"},
		{"sal", fixgraph.RoleReviewer, "sales"},
	} {
		if _, err := accounts.CreateUser(u.name, password, u.role, u.dept); err != nil {
			t.Fatal(err)
		}
	}
	asks, err := analytics.Open(filepath.Join(dir, "analytics.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { asks.Close() })
	kinds, err := ingest.OpenState(filepath.Join(dir, "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kinds.Close() })
	h := &editor.Handler{Service: e.svc, Accounts: accounts, Unanswered: asks, Jobs: jobsShown{}, Kinds: kinds, Log: slog.New(slog.DiscardHandler)}
	if err := h.Init(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/editor/signin" && r.Method == http.MethodPost {
			r.RemoteAddr = fmt.Sprintf("[2001:db8::%x]:4000", signInAddr.Add(1))
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &site{env: e, srv: srv, accounts: accounts, asks: asks, kinds: kinds}
}

// jobsShown is an uploads page's worth of jobs: one finished with a failed file.
type jobsShown struct{}

func (jobsShown) List(ctx context.Context, department string, limit int) ([]*fixgraph.Job, error) {
	return []*fixgraph.Job{{ID: "job-1", Kind: "upload", Department: "support", State: fixgraph.JobDone, CreatedAt: time.Now(),
		Total: 2, Processed: 2, Counts: fixgraph.JobCounts{Added: 1, Failed: 1}}}, nil
}

func (jobsShown) Files(ctx context.Context, id, outcome string, offset, limit int) ([]fixgraph.JobFile, error) {
	return []fixgraph.JobFile{{Seq: 2, Name: "broken-manual.pdf", FileResult: fixgraph.FileResult{Source: "broken-manual.pdf", Error: "the PDF has no text"}}}, nil
}

// browser is a client with a cookie jar that does not follow redirects, so tests see them.
type browser struct {
	t    *testing.T
	s    *site
	c    *http.Client
	csrf string // the session's token, from the last page that had one
}

func (s *site) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, s: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) location() string { return r.header.Get("Location") }

func (r response) doc(t *testing.T) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	r := response{status: res.StatusCode, header: res.Header, body: string(body)}
	if d, err := goquery.NewDocumentFromReader(strings.NewReader(r.body)); err == nil {
		if v, ok := d.Find(`meta[name="csrf-token"]`).Attr("content"); ok {
			b.csrf = v
		}
	}
	return r
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.s.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.s.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// page gets path and wants 200.
func (b *browser) page(path string) response {
	b.t.Helper()
	r := b.get(path)
	if r.status != http.StatusOK {
		b.t.Fatalf("GET %s: %d, want 200\n%s", path, r.status, r.body)
	}
	return r
}

func (b *browser) signIn(name, next string) response {
	b.t.Helper()
	return b.post("/editor/signin", url.Values{"name": {name}, "password": {password}, "next": {next}})
}

func (s *site) signedIn(t *testing.T, name string) *browser {
	t.Helper()
	b := s.browser(t)
	if r := b.signIn(name, ""); r.status != http.StatusSeeOther || r.location() != "/editor/" {
		t.Fatalf("signing in as %s: %d to %q\n%s", name, r.status, r.location(), r.body)
	}
	b.page("/editor/") // for the CSRF token
	if b.csrf == "" {
		t.Fatal("the home page carries no CSRF token")
	}
	return b
}

// form returns the values the form at sel would submit, as a browser would: inputs (checked
// boxes only), textareas and selects.
func form(t *testing.T, r response, sel string) (action string, v url.Values) {
	t.Helper()
	f := r.doc(t).Find(sel)
	if f.Length() != 1 {
		t.Fatalf("%d forms match %q", f.Length(), sel)
	}
	action, _ = f.Attr("action")
	v = url.Values{}
	f.Find("input[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		typ, _ := s.Attr("type")
		if _, checked := s.Attr("checked"); (typ == "checkbox" || typ == "radio") && !checked {
			return
		}
		val, _ := s.Attr("value")
		v.Add(name, val)
	})
	f.Find("textarea[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		v.Add(name, strings.TrimPrefix(s.Text(), "\n"))
	})
	f.Find("select[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		opt := s.Find("option[selected]").First()
		if opt.Length() == 0 {
			opt = s.Find("option").First()
		}
		val, _ := opt.Attr("value")
		v.Add(name, val)
	})
	return action, v
}

// hrefOf returns the link of the first element matching sel, with its escapes undone (the
// templates escape ids in query strings: "id=code%3aWF-8012D%3aE102").
func hrefOf(d *goquery.Document, sel string) string {
	href, _ := d.Find(sel).First().Attr("href")
	u, err := url.QueryUnescape(href)
	if err != nil {
		return href
	}
	return u
}

// linksTo reports whether an element matching sel links to href.
func linksTo(d *goquery.Document, sel, href string) bool {
	found := false
	d.Find(sel).Each(func(_ int, s *goquery.Selection) {
		if h, _ := s.Attr("href"); h == href || unescape(h) == href {
			found = true
		}
	})
	return found
}

func unescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

func TestHTTPSignIn(t *testing.T) {
	s := newSite(t)
	b := s.browser(t)

	for _, path := range []string{"/editor/", "/editor/entity?id=" + url.QueryEscape(e102), "/editor/edit?id=" + url.QueryEscape(e102)} {
		r := b.get(path)
		if want := "/editor/signin?next=" + url.QueryEscape(path); r.status != http.StatusSeeOther || r.location() != want {
			t.Fatalf("GET %s signed out: %d to %q, want 303 to %q", path, r.status, r.location(), want)
		}
	}
	r := b.post("/editor/edit?id="+url.QueryEscape(e102), url.Values{"base": {"0"}, "code": {"E102"}, "product": {"WF-8012D"}})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("POST signed out: %d, want 401", r.status)
	}
	if wc, _ := s.svc.Store.Get(e102); wc != nil {
		t.Fatal("a signed-out POST wrote a working copy")
	}

	// The sign-in page carries next on to the form.
	r = b.page("/editor/signin?next=" + url.QueryEscape("/editor/search?q=E102"))
	if v, _ := r.doc(t).Find(`#signin input[name="next"]`).Attr("value"); v != "/editor/search?q=E102" {
		t.Fatalf("the sign-in form's next is %q", v)
	}
	r = b.post("/editor/signin", url.Values{"name": {"rev"}, "password": {"wrong password!"}, "next": {"/editor/"}})
	if r.status != http.StatusUnauthorized || r.header.Get("Set-Cookie") != "" {
		t.Fatalf("a wrong password: %d, cookie %q", r.status, r.header.Get("Set-Cookie"))
	}
	if r := b.get("/editor/"); r.status != http.StatusSeeOther {
		t.Fatalf("after a failed sign-in GET /editor/ is %d", r.status)
	}
	r = b.signIn("rev", "/editor/search?q=E102")
	if r.status != http.StatusSeeOther || r.location() != "/editor/search?q=E102" {
		t.Fatalf("signing in: %d to %q", r.status, r.location())
	}
	if r := b.page("/editor/search?q=E102"); !strings.Contains(r.body, "rev · reviewer") {
		t.Fatal("the page does not show who is signed in")
	}

	// Signing out needs the token too, then ends the session.
	if r := b.post("/editor/signout", nil); r.status != http.StatusForbidden {
		t.Fatalf("sign out without the CSRF token: %d", r.status)
	}
	b.page("/editor/")
	if r := b.post("/editor/signout", url.Values{"csrf": {b.csrf}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.status)
	}
	if r := b.get("/editor/"); r.status != http.StatusSeeOther {
		t.Fatalf("after signing out GET /editor/ is %d", r.status)
	}

	// A reader account may not use the editor.
	bot := s.browser(t)
	if r := bot.signIn("bot", ""); r.status != http.StatusSeeOther {
		t.Fatalf("reader sign-in: %d", r.status)
	}
	if r := bot.get("/editor/"); r.status != http.StatusForbidden {
		t.Fatalf("a reader's GET /editor/: %d, want 403", r.status)
	}
}

func TestHTTPSignInNextStaysInEditor(t *testing.T) {
	s := newSite(t)
	b := s.browser(t)
	evil := []string{"https://evil.example/", "//evil.example/editor/", "/\\evil.example/", "/editor/\\\\evil.example",
		"javascript:alert(1)", "/editorial", "http://" + strings.TrimPrefix(s.srv.URL, "http://") + "/editor/"}
	for _, next := range evil {
		r := b.page("/editor/signin?next=" + url.QueryEscape(next))
		if v, _ := r.doc(t).Find(`#signin input[name="next"]`).Attr("value"); v != "/editor/" {
			t.Errorf("the sign-in form keeps next %q as %q", next, v)
		}
		if r := b.get("/editor/lang/en?back=" + url.QueryEscape(next)); r.location() != "/editor/" {
			t.Errorf("the language toggle redirects back=%q to %q", next, r.location())
		}
	}
	// Posting them straight to the form (five sign-ins; see signInAddr).
	for _, next := range evil[:4] {
		r := b.signIn("ed", next)
		if r.status != http.StatusSeeOther || r.location() != "/editor/" {
			t.Errorf("signing in with next %q: %d to %q, want /editor/", next, r.status, r.location())
		}
		loc, err := url.Parse(s.srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		if to, err := loc.Parse(r.location()); err != nil || to.Host != loc.Host {
			t.Errorf("signing in with next %q leads to %v (%v)", next, to, err)
		}
	}
	if r := b.signIn("ed", "/editor/history?id=x"); r.location() != "/editor/history?id=x" {
		t.Errorf("a next inside the editor is not kept: %q", r.location())
	}
}

func TestHTTPCSRF(t *testing.T) {
	s := newSite(t)
	b := s.signedIn(t, "rev")
	zh := s.guide(t, e102, "zh")
	editPath := "/editor/edit?id=" + url.QueryEscape(zh.ID)
	action, v := form(t, b.page(editPath), "#edit-form")
	if unescape(action) != "/editor/edit?id="+zh.ID {
		t.Fatalf("the edit form posts to %q", action)
	}
	v.Set("steps", strings.Join(newSteps, "\n"))
	v.Set("then", "publish")
	token := v.Get("csrf")
	if token == "" || token != b.csrf {
		t.Fatalf("the edit form's token %q is not the session's %q", token, b.csrf)
	}

	for _, bad := range []string{"", "not-the-token", b.csrf[:len(b.csrf)-1]} {
		v.Set("csrf", bad)
		if r := b.post(action, v); r.status != http.StatusForbidden {
			t.Fatalf("POST with CSRF token %q: %d, want 403", bad, r.status)
		}
	}
	v.Del("csrf")
	if r := b.post(action, v); r.status != http.StatusForbidden {
		t.Fatalf("POST without a CSRF field: %d, want 403", r.status)
	}
	newFAQ := url.Values{"base": {"0"}, "question": {"测试问题？"}, "answer": {"测试答案。"}, "then": {"publish"}}
	if r := b.post("/editor/new?kind=faq", newFAQ); r.status != http.StatusForbidden {
		t.Fatalf("POST /editor/new without the token: %d", r.status)
	}
	if r := b.post("/editor/workflow?id="+url.QueryEscape(zh.ID), url.Values{"base": {"0"}, "action": {"archive"}}); r.status != http.StatusForbidden {
		t.Fatalf("POST /editor/workflow without the token: %d", r.status)
	}
	if r := b.post("/editor/rollback?id="+url.QueryEscape(zh.ID), url.Values{"base": {"0"}, "rev": {"1"}}); r.status != http.StatusForbidden {
		t.Fatalf("POST /editor/rollback without the token: %d", r.status)
	}
	if l, err := s.svc.Store.List(0); err != nil || len(l) != 0 {
		t.Fatalf("refused posts wrote %d working copies (%v)", len(l), err)
	}
	if got := s.askGuide(t, e102Question); !slices.Equal(got.Steps, zh.Steps) {
		t.Fatal("a refused post changed what bots get")
	}

	// The same form with the token goes through, in the field or in the header.
	v.Set("csrf", token)
	if r := b.post(action, v); r.status != http.StatusSeeOther || r.location() != "/editor/entity?id="+url.QueryEscape(zh.ID) {
		t.Fatalf("POST with the token: %d to %q\n%s", r.status, r.location(), r.body)
	}
	if got := s.askGuide(t, e102Question); !slices.Equal(got.Steps, newSteps) {
		t.Fatalf("save and publish through the form: bots get steps %q", got.Steps)
	}
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/editor/workflow?id="+url.QueryEscape(zh.ID), strings.NewReader(url.Values{"base": {"3"}, "action": {"archive"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(auth.CSRFHeader, token)
	if r := b.do(req); r.status != http.StatusSeeOther {
		t.Fatalf("POST with the token in %s: %d\n%s", auth.CSRFHeader, r.status, r.body)
	}
	if wc, _ := s.svc.Store.Get(zh.ID); wc.Status != fixgraph.StatusArchived {
		t.Fatalf("status %s after archiving", wc.Status)
	}
}

const xssAnswer = `<script>alert(1)</script><img src=x onerror=alert(2)>`

func TestHTTPEscapesFAQAnswer(t *testing.T) {
	s := newSite(t)
	b := s.signedIn(t, "rev")
	_, v := form(t, b.page("/editor/new?kind=faq"), "#edit-form")
	q := "洗衣机的童锁怎么解除？<b>测试</b>"
	v.Set("question", q)
	v.Set("answer", xssAnswer)
	v.Set("then", "publish")
	r := b.post("/editor/new?kind=faq", v)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/editor/entity?id=faq%3A") {
		t.Fatalf("creating the FAQ: %d to %q\n%s", r.status, r.location(), r.body)
	}
	entityPath := r.location()
	id, _ := url.QueryUnescape(strings.TrimPrefix(entityPath, "/editor/entity?id="))
	if a, err := s.answers.Ask(reader, q); err != nil || a.FAQ == nil || a.FAQ.ID != id || a.Text != xssAnswer {
		t.Fatalf("the published FAQ is not served as written: %+v, %v", a, err)
	}

	escaped := "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
	for _, path := range []string{
		entityPath,
		"/editor/edit?id=" + url.QueryEscape(id),
		"/editor/preview?id=" + url.QueryEscape(id),
		"/editor/history?id=" + url.QueryEscape(id),
		"/editor/search?q=" + url.QueryEscape(q),
		"/editor/",
	} {
		r := b.page(path)
		for _, raw := range []string{"<script>alert", "<img src=x", "onerror=alert(2)>", "<b>测试</b>"} {
			if strings.Contains(r.body, raw) {
				t.Errorf("%s shows %q unescaped", path, raw)
			}
		}
		if path == entityPath || strings.HasPrefix(path, "/editor/edit") || strings.HasPrefix(path, "/editor/preview") {
			if !strings.Contains(r.body, escaped) {
				t.Errorf("%s does not show the answer as text", path)
			}
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
	}
	// The entity page's field shows exactly the text.
	if got := b.page("/editor/entity?id=" + url.QueryEscape(id)).doc(t).Find("#fields th:contains('answer') + td .value").Text(); got != xssAnswer {
		t.Errorf("the answer field reads %q", got)
	}
}

func TestHTTPConflictShowsUnsavedText(t *testing.T) {
	s := newSite(t)
	b := s.signedIn(t, "ed")
	zh := s.guide(t, e102, "zh")
	action, v := form(t, b.page("/editor/edit?id="+url.QueryEscape(zh.ID)), "#edit-form")
	if v.Get("base") != "0" || v.Get("steps") != strings.Join(zh.Steps, "\n") {
		t.Fatalf("the edit form opens base %q with steps %q", v.Get("base"), v.Get("steps"))
	}

	// Someone else saves first.
	other := *zh
	other.Steps = []string{"另一位编辑先保存的步骤。"}
	if _, err := s.svc.Save(editor2, zh.ID, 0, editor.Change{Node: &other, Visibility: fixgraph.VisibilityPublic}); err != nil {
		t.Fatal(err)
	}

	mine := "我的第一步：先断电。\n我的第二步：清理过滤器。"
	v.Set("steps", mine)
	v.Set("note", "我的修订说明")
	r := b.post(action, v)
	if r.status != http.StatusConflict {
		t.Fatalf("a stale save: %d, want 409\n%s", r.status, r.body)
	}
	d := r.doc(t)
	if d.Find("#conflict").Length() != 1 || !strings.Contains(d.Find("#conflict").Text(), "user:ed2") {
		t.Fatalf("the conflict page does not say who saved: %q", d.Find("#conflict").Text())
	}
	if got := d.Find("#steps").Text(); !strings.Contains(got, "我的第一步：先断电。") || !strings.Contains(got, "我的第二步：清理过滤器。") {
		t.Fatalf("the conflict page lost the unsaved steps: %q", got)
	}
	if href := hrefOf(d, "#reopen"); href != "/editor/edit?id="+zh.ID {
		t.Errorf("the reopen link is %q", href)
	}
	wc, _ := s.svc.Store.Get(zh.ID)
	if g := working[*fixgraph.RepairGuide](t, wc); !slices.Equal(g.Steps, other.Steps) || wc.UpdatedBy != "user:ed2" {
		t.Fatalf("the stored copy is %q by %s, want the other editor's", g.Steps, wc.UpdatedBy)
	}
	// Reopening shows the other editor's revision to start again from.
	_, v = form(t, b.page("/editor/edit?id="+url.QueryEscape(zh.ID)), "#edit-form")
	if v.Get("base") != fmt.Sprint(wc.Rev) || v.Get("steps") != other.Steps[0] {
		t.Fatalf("reopened at base %q with steps %q", v.Get("base"), v.Get("steps"))
	}
}

func TestHTTPLanguageToggle(t *testing.T) {
	s := newSite(t)
	b := s.signedIn(t, "ed")
	path := "/editor/search?q=" + url.QueryEscape("WF-8012D E102")
	r := b.page(path)
	d := r.doc(t)
	if l, _ := d.Find("html").Attr("lang"); l != "zh-CN" || !strings.Contains(d.Find("nav").Text(), "未解答问题") {
		t.Fatalf("the default page is not Chinese: lang %q, nav %q", l, d.Find("nav").Text())
	}
	toggle, _ := d.Find("#lang-toggle").Attr("href")
	if !strings.HasPrefix(toggle, "/editor/lang/en?") {
		t.Fatalf("the toggle links to %q", toggle)
	}
	r = b.get(toggle)
	if r.status != http.StatusSeeOther || r.location() != path {
		t.Fatalf("the toggle: %d to %q, want back to %q", r.status, r.location(), path)
	}
	d = b.page(path).doc(t)
	if l, _ := d.Find("html").Attr("lang"); l != "en" || !strings.Contains(d.Find("nav").Text(), "Unanswered") || strings.Contains(d.Text(), "未解答问题") {
		t.Fatalf("after the toggle: lang %q, nav %q", l, d.Find("nav").Text())
	}
	if h := d.Find("h1").Text(); h != "Search: WF-8012D E102" {
		t.Fatalf("the English heading is %q", h)
	}
	// Other pages follow, and the toggle goes back.
	d = b.page("/editor/entity?id=" + url.QueryEscape(e102)).doc(t)
	if !strings.Contains(d.Find(".actions").Text(), "History") {
		t.Fatalf("the entity page is not English: %q", d.Find(".actions").Text())
	}
	toggle, _ = d.Find("#lang-toggle").Attr("href")
	if r := b.get(toggle); r.location() != "/editor/entity?id="+url.QueryEscape(e102) && r.location() != "/editor/entity?id="+e102 {
		t.Fatalf("the toggle back leads to %q", r.location())
	}
	if l, _ := b.page("/editor/").doc(t).Find("html").Attr("lang"); l != "zh-CN" {
		t.Fatalf("toggled back, the page is %q", l)
	}
}

func TestHTTPDetachThroughForm(t *testing.T) {
	s := newSite(t)
	b := s.signedIn(t, "rev")
	en := s.guide(t, e102, "en")
	r := b.page("/editor/edit?id=" + url.QueryEscape(e102))
	edge := e102 + "\x1f" + string(fixgraph.RelFixedBy) + "\x1f" + en.ID
	box := r.doc(t).Find(`#edit-form input[name="detach"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		v, _ := s.Attr("value")
		return v == edge
	})
	if box.Length() != 1 {
		t.Fatalf("the edit form has no box to detach %s FIXED_BY %s", e102, en.ID)
	}
	action, v := form(t, r, "#edit-form")
	v.Add("detach", edge)
	v.Set("then", "publish")
	if r := b.post(action, v); r.status != http.StatusSeeOther {
		t.Fatalf("saving the detach: %d\n%s", r.status, r.body)
	}
	m, err := s.graph.Neighbors(reader, []string{e102}, fixgraph.RelFixedBy, fixgraph.Out)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(m[e102], en.ID) || len(m[e102]) == 0 {
		t.Fatalf("after detaching through the form: FIXED_BY %q", m[e102])
	}
	// The page shows the link as detached, and the form ticks it; unticking attaches it again.
	if li := b.page("/editor/entity?id=" + url.QueryEscape(e102)).doc(t).Find("#links li.detached"); li.Length() != 1 {
		t.Fatalf("%d links shown detached", li.Length())
	}
	r = b.page("/editor/edit?id=" + url.QueryEscape(e102))
	action, v = form(t, r, "#edit-form")
	if !slices.Contains(v["detach"], edge) {
		t.Fatalf("the form does not tick the detached link: %q", v["detach"])
	}
	v["detach"] = slices.DeleteFunc(v["detach"], func(s string) bool { return s == edge })
	v.Set("then", "publish")
	if r := b.post(action, v); r.status != http.StatusSeeOther {
		t.Fatalf("attaching again: %d\n%s", r.status, r.body)
	}
	if m, _ = s.graph.Neighbors(reader, []string{e102}, fixgraph.RelFixedBy, fixgraph.Out); !slices.Contains(m[e102], en.ID) {
		t.Fatalf("unticking did not attach the link again: %q", m[e102])
	}
}

func TestHTTPUnansweredToFAQ(t *testing.T) {
	s := newSite(t)
	const q = "空调外机一直滴水正常吗"
	var ids []string
	for range 2 {
		ev, err := s.asks.Record(analytics.Event{Question: q, Kind: "none", Answered: false})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	b := s.signedIn(t, "rev")
	r := b.page("/editor/unanswered")
	if got := r.doc(t).Find("#queue .question").Text(); got != q {
		t.Fatalf("the queue shows %q", got)
	}
	action, v := form(t, r, "form.faq-from-queue")
	if v.Get("events") != strings.Join(ids, " ") {
		t.Fatalf("the queue's form carries events %q, want %q", v.Get("events"), ids)
	}
	const ans = "空调制冷时外机滴水是正常的冷凝水；如室内机漏水，请联系售后检查排水管。"
	v.Set("answer", ans)
	v.Set("then", "publish")
	if r := b.post(action, v); r.status != http.StatusSeeOther {
		t.Fatalf("turning the question into an FAQ: %d\n%s", r.status, r.body)
	}
	id := fixgraph.HashID(fixgraph.PrefixFAQ, "editor", q)
	handled, err := s.svc.Store.Handled(ids)
	if err != nil || handled[ids[0]] != id || handled[ids[1]] != id {
		t.Fatalf("Handled = %v, %v; want both asks answered by %s", handled, err, id)
	}
	if r := b.page("/editor/unanswered"); r.doc(t).Find("#queue-empty").Length() != 1 {
		t.Fatalf("the handled question is still queued:\n%s", r.body)
	}
	a, err := s.answers.Ask(reader, q)
	if err != nil || a.Kind != fixgraph.AnswerFAQ || a.FAQ == nil || a.FAQ.ID != id || a.Text != ans {
		t.Fatalf("Ask(%q) = %+v, %v; want the new FAQ", q, a, err)
	}
}

func TestHTTPPagesRender(t *testing.T) {
	s := newSite(t)
	zh := s.guide(t, e102, "zh")
	g := *zh
	g.Steps = newSteps
	d, err := s.svc.Save(editor1, zh.ID, 0, editor.Change{Node: &g, Visibility: fixgraph.VisibilityPublic, Note: "新步骤"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Transition(reviewer1, zh.ID, d.Rev, "publish"); err != nil {
		t.Fatal(err)
	}
	draftID := fixgraph.HashID(fixgraph.PrefixFAQ, "editor", "草稿问题")
	if _, err := s.svc.Save(editor1, draftID, 0, editor.Change{Node: &fixgraph.FAQ{ID: draftID, Question: "草稿问题", Answer: "草稿答案"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.asks.Record(analytics.Event{Question: "冰箱不制冷怎么办", Kind: "none"}); err != nil {
		t.Fatal(err)
	}
	b := s.signedIn(t, "rev")
	esc := url.QueryEscape
	for _, c := range []struct {
		path string
		want []string // selectors that must match
	}{
		{"/editor/", []string{"main h1", ".entities a"}},
		{"/editor/search?q=" + esc("WF-8012D E102"), []string{"#exact a", "#results li"}},
		{"/editor/search", []string{"main h1"}},
		{"/editor/entity?id=" + esc(e102), []string{"#fields tr", "#links li", "#neighbourhood", "#edit"}},
		{"/editor/entity?id=" + esc(zh.ID), []string{"#workflow", "#fields ol li", "#source", "#archive"}},
		{"/editor/entity?id=" + esc(draftID), []string{"#workflow", "#submit", "#publish"}},
		{"/editor/entity?id=" + esc(fixgraph.ProductID("WF-8012D")), []string{"#fields", "#neighbourhood"}},
		{"/editor/edit?id=" + esc(zh.ID), []string{"#edit-form #steps", "#save-publish"}},
		{"/editor/edit?id=" + esc(e102), []string{"#edit-form #symptomZh", "#severity"}},
		{"/editor/edit?id=" + esc(draftID), []string{"#edit-form #answer"}},
		{"/editor/new?kind=faq&question=" + esc("新问题"), []string{"#edit-form #question[value='新问题']"}},
		{"/editor/new?kind=guide&product=WF-8012D&code=E999", []string{"#edit-form #steps", "#code[value='E999']"}},
		{"/editor/new?kind=code&product=WF-8012D", []string{"#edit-form #symptomEn"}},
		{"/editor/history?id=" + esc(zh.ID), []string{"#rev-1", "#rev-2 .dadd", "#rev-2 .ddel", "#rev-3 .tag.live", "#rev-1 button.rollback"}},
		{"/editor/preview?id=" + esc(zh.ID), []string{"#preview-answer", "#preview-steps li"}},
		{"/editor/unanswered", []string{"#queue .question"}},
		{"/editor/uploads", []string{"#jobs .job-done", ".failed li", "#upload-form"}},
		{"/editor/signin", []string{"#signin"}},
	} {
		r := b.page(c.path)
		if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", c.path, ct)
		}
		doc := r.doc(t)
		if doc.Find("#error").Length() != 0 {
			t.Errorf("%s shows an error: %s", c.path, doc.Find("#error").Text())
		}
		for _, sel := range c.want {
			if doc.Find(sel).Length() == 0 {
				t.Errorf("%s has nothing matching %q", c.path, sel)
			}
		}
	}
	if !linksTo(b.page("/editor/").doc(t), ".entities a", "/editor/entity?id="+draftID) {
		t.Error("the home page does not list the draft")
	}
	if !linksTo(b.page("/editor/search?q="+esc("WF-8012D E102")).doc(t), "#exact a", "/editor/entity?id="+e102) {
		t.Error("the search does not find the error code exactly")
	}
	// The preview shows the draft's steps, and the uploads page the failed file.
	if got := b.page("/editor/preview?id=" + esc(zh.ID)).doc(t).Find("#preview-steps li").First().Text(); got != newSteps[0] {
		t.Errorf("the preview's first step is %q", got)
	}
	if !strings.Contains(b.page("/editor/uploads").body, "broken-manual.pdf") {
		t.Error("the uploads page does not show the failed file")
	}
	for path, status := range map[string]int{
		"/editor/entity?id=" + esc("faq:nope"):    http.StatusNotFound,
		"/editor/edit?id=" + esc("product:X"):     http.StatusBadRequest,
		"/editor/new?kind=bogus":                  http.StatusBadRequest,
		"/editor/history?id=" + esc("faq:nope"):   http.StatusNotFound,
		"/editor/preview?id=" + esc("guide:nope"): http.StatusNotFound,
		"/editor/static/editor.css":               http.StatusOK,
	} {
		if r := b.get(path); r.status != status {
			t.Errorf("GET %s: %d, want %d", path, r.status, status)
		}
	}
}

// An editor never sees another department's knowledge, even what only the editor holds.
func TestHTTPEntityHidesOtherDepartments(t *testing.T) {
	s := newSite(t)
	support := fixgraph.WithPrincipal(context.Background(), &fixgraph.Principal{ID: "user:sup", Name: "sup", Role: fixgraph.RoleEditor, Department: "support"})
	q := "内部：上门维修如何申请配件？"
	id := fixgraph.HashID(fixgraph.PrefixFAQ, "editor", q)
	const secret = "在工单系统提交配件申请，审批人为区域经理。"
	d, err := s.svc.Save(support, id, 0, editor.Change{Node: &fixgraph.FAQ{ID: id, Question: q, Answer: secret}, Visibility: fixgraph.VisibilityDepartment, Department: "support"})
	if err != nil {
		t.Fatal(err)
	}
	sup := s.signedIn(t, "sup")
	sal := s.signedIn(t, "sal")
	check := func(when string) {
		t.Helper()
		if r := sup.page("/editor/entity?id=" + url.QueryEscape(id)); !strings.Contains(r.body, secret) {
			t.Fatalf("%s: support does not see its own FAQ", when)
		}
		for _, p := range []string{"entity", "edit", "history", "preview"} {
			r := sal.get("/editor/" + p + "?id=" + url.QueryEscape(id))
			if r.status != http.StatusNotFound || strings.Contains(r.body, secret) {
				t.Errorf("%s: sales GET /editor/%s: %d, shows the answer: %v", when, p, r.status, strings.Contains(r.body, secret))
			}
		}
		if r := sal.page("/editor/"); strings.Contains(r.body, q) {
			t.Errorf("%s: sales's home page lists the FAQ", when)
		}
	}
	check("as a draft")
	// Publishing needs someone who may read it: an admin here.
	if _, err := s.svc.Transition(admin, id, d.Rev, "publish"); err != nil {
		t.Fatal(err)
	}
	check("published")
}
