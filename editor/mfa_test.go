package editor_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/auth"
	"github.com/fixgraph/fixgraph/editor"
)

// mfaSite is an editor with accounts and an audit log but no knowledge: the MFA pages need
// nothing else. Its clock is the accounts' and moves only when a test moves it.
type mfaSite struct {
	*site
	mu     sync.Mutex
	events []string
	now    time.Time
}

func newMFASite(t *testing.T) *mfaSite {
	t.Helper()
	dir := t.TempDir()
	accounts, err := auth.Open(filepath.Join(dir, "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { accounts.Close() })
	st, err := editor.OpenStore(filepath.Join(dir, "editor.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := &mfaSite{now: time.Now().UTC().Truncate(time.Minute)}
	accounts.Now = func() time.Time { m.mu.Lock(); defer m.mu.Unlock(); return m.now }
	for _, u := range []struct {
		name string
		role fixgraph.Role
	}{{"adm", fixgraph.RoleAdmin}, {"ed", fixgraph.RoleEditor}, {"rev", fixgraph.RoleReviewer}} {
		if _, err := accounts.CreateUser(u.name, password, u.role, ""); err != nil {
			t.Fatal(err)
		}
	}
	svc := &editor.Service{Store: st, Audit: func(ctx context.Context, action, target string, d map[string]string) {
		m.mu.Lock()
		m.events = append(m.events, action+" "+target)
		m.mu.Unlock()
	}}
	h := &editor.Handler{Service: svc, Accounts: accounts, Log: slog.New(slog.DiscardHandler)}
	if err := h.Init(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && (r.URL.Path == "/editor/signin" || r.URL.Path == "/editor/mfa/code") {
			r.RemoteAddr = fmt.Sprintf("[2001:db8::%x]:4000", signInAddr.Add(1))
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	m.site = &site{srv: srv, accounts: accounts}
	return m
}

func (m *mfaSite) add(d time.Duration) { m.mu.Lock(); m.now = m.now.Add(d); m.mu.Unlock() }

func (m *mfaSite) code(t *testing.T, secret string) string {
	t.Helper()
	m.mu.Lock()
	now := m.now
	m.mu.Unlock()
	c, err := auth.TOTPCode(secret, now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (m *mfaSite) audited(action string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, e := range m.events {
		if strings.HasPrefix(e, action+" ") {
			n++
		}
	}
	return n
}

// enrol sets up MFA through the pages for a browser that is on the MFA page (signed in, or sent
// there to enrol) and returns the secret and the recovery codes.
func (m *mfaSite) enrol(t *testing.T, b *browser, r response) (string, []string) {
	t.Helper()
	action, v := form(t, r, "#mfa-enrol")
	r = b.post(action, v)
	if r.status != 200 {
		t.Fatalf("enrol: %d\n%s", r.status, r.body)
	}
	d := r.doc(t)
	secret := d.Find("#secret").Text()
	uri, _ := url.Parse(d.Find("#otpauth-uri").Text())
	if src, _ := d.Find("#qr").Attr("src"); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Errorf("QR image %.40q; want a data: PNG (CSP allows no other)", src)
	}
	if secret == "" || uri == nil || uri.Scheme != "otpauth" || uri.Query().Get("secret") != secret {
		t.Fatalf("enrolment page: secret %q uri %v", secret, uri)
	}
	action, v = form(t, r, "#mfa-confirm")
	v.Set("code", "000000")
	if bad := b.post(action, v); bad.status != 400 || bad.doc(t).Find("#secret").Text() != secret {
		t.Fatalf("a wrong code: %d; want 400 with the same secret shown again", bad.status)
	}
	v.Set("code", m.code(t, secret))
	r = b.post(action, v)
	if r.status != 200 {
		t.Fatalf("confirm: %d\n%s", r.status, r.body)
	}
	var codes []string
	r.doc(t).Find("#recovery-codes code").Each(func(_ int, s *goquery.Selection) { codes = append(codes, s.Text()) })
	if len(codes) != auth.RecoveryCodes {
		t.Fatalf("recovery codes shown: %q", codes)
	}
	return secret, codes
}

// passwordStep signs b in as name with the password and wants to be sent to the code page.
func (m *mfaSite) passwordStep(t *testing.T, b *browser, name string) {
	t.Helper()
	r := b.signIn(name, "/editor/search?q=E102")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/editor/mfa/code?") {
		t.Fatalf("password of %s: %d to %q; want the code page", name, r.status, r.location())
	}
}

// codeStep posts code on the code page.
func (m *mfaSite) codeStep(t *testing.T, b *browser, code string) response {
	t.Helper()
	r := b.page("/editor/mfa/code?next=" + url.QueryEscape("/editor/search?q=E102"))
	action, v := form(t, r, "#mfa-code")
	v.Set("code", code)
	return b.post(action, v)
}

// TestEditorMFA: an editor enrols on the MFA page (URI, QR as a data: image, a wrong code shown
// the same secret again, ten recovery codes); from then on the password alone leads to the code
// page and to no session; the app's code signs in and lands on the page asked for; a used code
// is refused; a recovery code works once.
func TestEditorMFA(t *testing.T) {
	m := newMFASite(t)
	b := m.signedIn(t, "ed")
	r := b.page("/editor/mfa")
	if r.doc(t).Find("#mfa-off").Length() != 1 {
		t.Fatal("the MFA page of an editor without MFA does not say it is off")
	}
	secret, codes := m.enrol(t, b, r)
	if m.audited("mfa.enrol") != 1 {
		t.Errorf("enrolment not audited: %q", m.events)
	}

	m.add(30 * time.Second)
	b2 := m.browser(t)
	m.passwordStep(t, b2, "ed")
	if r := b2.get("/editor/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/editor/signin") {
		t.Fatalf("the editor after the password alone: %d to %q; want the sign-in page", r.status, r.location())
	}
	code := m.code(t, secret)
	r = m.codeStep(t, b2, code)
	if r.status != http.StatusSeeOther || r.location() != "/editor/search?q=E102" {
		t.Fatalf("the code: %d to %q\n%s", r.status, r.location(), r.body)
	}
	if r := b2.get("/editor/mfa"); r.status != 200 || r.doc(t).Find("#mfa-on").Length() != 1 {
		t.Fatalf("signed in after the code: %d", r.status)
	}

	b3 := m.browser(t)
	m.passwordStep(t, b3, "ed")
	if r := m.codeStep(t, b3, code); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "error") {
		t.Fatalf("the used code again: %d; want 401", r.status)
	}
	if r := m.codeStep(t, b3, strings.ToUpper(codes[0])); r.status != http.StatusSeeOther {
		t.Fatalf("a recovery code: %d\n%s", r.status, r.body)
	}
	b4 := m.browser(t)
	m.passwordStep(t, b4, "ed")
	if r := m.codeStep(t, b4, codes[0]); r.status != http.StatusUnauthorized {
		t.Fatalf("the used recovery code again: %d; want 401", r.status)
	}
	if n := m.audited("signin.failed"); n != 2 {
		t.Errorf("%d failed steps audited; want 2, the used code and the used recovery code (%q)", n, m.events)
	}
}

// TestEditorMFARequiredForRole: an admin requires MFA for reviewers on the accounts page; a
// reviewer's password then leads to the set-up and nowhere else until it is done, and the set-up
// signs in.
func TestEditorMFARequiredForRole(t *testing.T) {
	m := newMFASite(t)
	admin := m.signedIn(t, "adm")
	r := admin.page("/editor/admin/users")
	action, v := form(t, r, "#mfa-roles")
	v.Set("role", "reviewer")
	if r := admin.post(action, v); r.status != http.StatusSeeOther {
		t.Fatalf("setting the policy: %d\n%s", r.status, r.body)
	}
	if roles, _ := m.accounts.MFARoles(); len(roles) != 1 || roles[0] != fixgraph.RoleReviewer {
		t.Fatalf("roles %v", roles)
	}
	if m.audited("mfa.policy") != 1 {
		t.Errorf("the policy change was not audited: %q", m.events)
	}
	if ed := m.browser(t).get("/editor/admin/users"); ed.status != http.StatusSeeOther {
		t.Errorf("the accounts page without a session: %d", ed.status)
	}

	b := m.browser(t)
	r = b.signIn("rev", "/editor/uploads")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/editor/mfa?") {
		t.Fatalf("reviewer's password: %d to %q; want the set-up", r.status, r.location())
	}
	for _, path := range []string{"/editor/", "/editor/search?q=E102", "/editor/admin/users", "/editor/mfa/code"} {
		if r := b.get(path); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/editor/signin") {
			t.Errorf("GET %s before enrolling: %d to %q; want the sign-in page", path, r.status, r.location())
		}
	}
	r = b.page(r.location())
	if r.doc(t).Find("#mfa-required").Length() != 1 || r.doc(t).Find("#nav-uploads").Length() != 0 {
		t.Fatalf("set-up page of a forced reviewer:\n%s", r.body)
	}
	m.enrol(t, b, r)
	if r := b.get("/editor/"); r.status != 200 {
		t.Fatalf("home after the forced enrolment: %d", r.status)
	}
	if m.audited("signin") != 2 { // the admin's and the reviewer's
		t.Errorf("signins audited: %q", m.events)
	}
}

// TestEditorLockout: five wrong codes lock the account (audited, back on the sign-in page);
// then even the right password is refused; the admin sees the lock and unlocks it.
func TestEditorLockout(t *testing.T) {
	m := newMFASite(t)
	b := m.signedIn(t, "ed")
	secret, _ := m.enrol(t, b, b.page("/editor/mfa"))
	m.add(time.Minute)

	g := m.browser(t)
	m.passwordStep(t, g, "ed")
	var r response
	for i := range auth.LockAfter {
		r = m.codeStep(t, g, fmt.Sprintf("%06d", 111111*(i+1)%1000000))
	}
	if r.status != http.StatusTooManyRequests || r.doc(t).Find("#signin").Length() != 1 || !strings.Contains(r.body, "locked") {
		t.Fatalf("fifth wrong code: %d; want 429 on the sign-in page saying locked\n%s", r.status, r.body)
	}
	if m.audited("signin.locked") != 1 || m.audited("signin.failed") != auth.LockAfter {
		t.Errorf("audit: %q", m.events)
	}
	if r := g.signIn("ed", ""); r.status != http.StatusTooManyRequests {
		t.Errorf("the right password while locked: %d; want 429", r.status)
	}

	admin := m.signedIn(t, "adm")
	r = admin.page("/editor/admin/users")
	row := r.doc(t).Find(`tr[data-user="ed"]`)
	if !row.HasClass("locked") || row.Find(".mfa").Text() == "no" {
		t.Fatalf("admin's row of ed: %q", row.Text())
	}
	action, v := form(t, r, `tr[data-user="ed"] form:has(.unlock)`)
	if r := admin.post(action, v); r.status != http.StatusSeeOther {
		t.Fatalf("unlock: %d\n%s", r.status, r.body)
	}
	if m.audited("user.unlock") != 1 {
		t.Errorf("unlock not audited: %q", m.events)
	}
	if admin.page("/editor/admin/users").doc(t).Find(`tr[data-user="ed"]`).HasClass("locked") {
		t.Error("still locked after unlock")
	}
	m.add(30 * time.Second)
	again := m.browser(t)
	m.passwordStep(t, again, "ed")
	if r := m.codeStep(t, again, m.code(t, secret)); r.status != http.StatusSeeOther {
		t.Errorf("sign-in after unlock: %d", r.status)
	}
}
