package auth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/auth"
)

const pw = "correct horse battery"

// clock is a settable time for a store.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func mustClock(s *auth.Store) *clock {
	c := &clock{time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	s.Now = c.now
	return c
}
func code(tb testing.TB, secret string, t time.Time) string {
	tb.Helper()
	c, err := auth.TOTPCode(secret, t)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// mustEnrol sets up MFA for name and returns the secret and the recovery codes.
func mustEnrol(tb testing.TB, s *auth.Store, c *clock, name string) (string, []string) {
	tb.Helper()
	e, err := s.StartEnrolment(name)
	if err != nil {
		tb.Fatal(err)
	}
	u, err := url.Parse(e.URI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != e.Secret {
		tb.Fatalf("enrolment URI %q", e.URI)
	}
	codes, err := s.ConfirmEnrolment(name, code(tb, e.Secret, c.t))
	if err != nil {
		tb.Fatal(err)
	}
	return e.Secret, codes
}

// TestMFASignIn: after enrolment a right password alone signs no one in; the app's current code
// does, once; the code used to confirm the enrolment, a used code and a code of a step long gone
// are refused; a code of the step before or after (clock drift) is taken.
func TestMFASignIn(t *testing.T) {
	s := mustStore(t)
	c := mustClock(s)
	s.CreateUser("li", pw, fixgraph.RoleEditor, "support")
	e, err := s.StartEnrolment("li")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.QR, "data:image/png;base64,") {
		t.Errorf("QR %.40q; want a PNG data: URI", e.QR)
	}
	if _, err := s.ConfirmEnrolment("li", "000000"); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("confirming with a wrong code: %v", err)
	}
	if a, err := s.Password("li", pw); err != nil || a.Challenge != auth.ChallengeNone || a.Token == "" {
		t.Fatalf("before the enrolment is confirmed the password alone still signs in: %+v, %v", a, err)
	}
	first := code(t, e.Secret, c.t)
	codes, err := s.ConfirmEnrolment("li", first)
	if err != nil || len(codes) != auth.RecoveryCodes {
		t.Fatalf("confirm: %v, %v", codes, err)
	}

	a, err := s.Password("li", pw)
	if err != nil || a.Challenge != auth.ChallengeCode || a.Token != "" || a.Pending == "" {
		t.Fatalf("password of an account with MFA: %+v, %v; want a code challenge and no session", a, err)
	}
	if _, _, _, err := s.SignIn("li", pw); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED {
		t.Errorf("SignIn with the password alone: %v; want unauthorized", err)
	}
	if _, err := s.SecondFactor(a.Pending, first); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED {
		t.Errorf("the code that confirmed the enrolment, again: %v; want refused", err)
	}
	c.add(30 * time.Second)
	now := code(t, e.Secret, c.t)
	got, err := s.SecondFactor(a.Pending, now)
	if err != nil || got.Token == "" || got.Principal.Name != "li" || got.Method != "totp" {
		t.Fatalf("current code: %+v, %v", got, err)
	}
	if p, _, err := s.SessionPrincipal(got.Token); err != nil || p.Name != "li" {
		t.Errorf("session after the second step: %v, %v", p, err)
	}
	if _, err := s.SecondFactor(a.Pending, now); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED {
		t.Errorf("the half-done sign-in, used again: %v", err)
	}

	a, _ = s.Password("li", pw)
	if _, err := s.SecondFactor(a.Pending, now); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED {
		t.Errorf("a used code in a new sign-in: %v; want refused", err)
	}
	c.add(5 * time.Minute)
	a, _ = s.Password("li", pw)
	if _, err := s.SecondFactor(a.Pending, code(t, e.Secret, c.t.Add(-2*time.Minute))); err == nil {
		t.Errorf("a code two minutes old was taken")
	}
	if _, err := s.SecondFactor(a.Pending, code(t, e.Secret, c.t.Add(auth.TOTPPeriod*time.Second))); err != nil {
		t.Errorf("the next step's code (a phone a little fast): %v", err)
	}

	users, _ := s.Users()
	if len(users) != 1 || !users[0].MFA || users[0].FailedSignIns != 0 {
		t.Errorf("users: %+v; want li with MFA and no failures after a sign-in", users[0])
	}
}

// TestRecoveryCode: a recovery code signs in once, however it is typed, and never again; the
// store keeps only hashes.
func TestRecoveryCode(t *testing.T) {
	dir := t.TempDir()
	s, err := auth.Open(filepath.Join(dir, "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := mustClock(s)
	s.CreateUser("qian", pw, fixgraph.RoleReviewer, "")
	secret, codes := mustEnrol(t, s, c, "qian")
	a, _ := s.Password("qian", pw)
	got, err := s.SecondFactor(a.Pending, " "+strings.ToUpper(codes[3])+" ")
	if err != nil || got.Method != "recovery" || got.Recovery != auth.RecoveryCodes-1 {
		t.Fatalf("recovery code: %+v, %v", got, err)
	}
	a, _ = s.Password("qian", pw)
	if _, err := s.SecondFactor(a.Pending, codes[3]); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED {
		t.Errorf("a used recovery code: %v; want refused", err)
	}
	if _, err := s.SecondFactor(a.Pending, strings.ReplaceAll(codes[4], "-", "")); err != nil {
		t.Errorf("another recovery code without dashes: %v", err)
	}
	st, _ := s.MFA("qian")
	if !st.Enabled || st.RecoveryLeft != auth.RecoveryCodes-2 {
		t.Errorf("status %+v", st)
	}
	var buf bytes.Buffer
	s.Backup(&buf)
	_ = secret // unsealed without a SecretKey; TestSealedSecret seals it
	for _, x := range codes {
		if bytes.Contains(buf.Bytes(), []byte(x)) || bytes.Contains(buf.Bytes(), []byte(strings.ReplaceAll(x, "-", ""))) {
			t.Errorf("the store holds %q in clear", x)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "auth.db")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("auth.db mode %v, %v; want 0600", fi.Mode(), err)
	}
}

// TestSealedSecret: with a SecretKey the TOTP secret is sealed in the store; the wrong key opens
// nothing and says so as an internal error, not as a wrong code.
func TestSealedSecret(t *testing.T) {
	s := mustStore(t)
	c := mustClock(s)
	s.SecretKey = bytes.Repeat([]byte{7}, 32)
	s.CreateUser("wu", pw, fixgraph.RoleEditor, "support")
	secret, _ := mustEnrol(t, s, c, "wu")
	var buf bytes.Buffer
	s.Backup(&buf)
	if bytes.Contains(buf.Bytes(), []byte(secret)) {
		t.Fatal("the sealed store holds the TOTP secret in clear")
	}
	c.add(time.Minute)
	a, _ := s.Password("wu", pw)
	if _, err := s.SecondFactor(a.Pending, code(t, secret, c.t)); err != nil {
		t.Fatalf("with the right key: %v", err)
	}
	s.SecretKey = bytes.Repeat([]byte{8}, 32)
	c.add(time.Minute)
	a, _ = s.Password("wu", pw)
	if _, err := s.SecondFactor(a.Pending, code(t, secret, c.t)); fixgraph.CodeOf(err) != fixgraph.EINTERNAL || strings.Contains(err.Error(), secret) {
		t.Errorf("with another key: %v; want an internal error without the secret", err)
	}
}

// TestHalfSignInExpires: the second step must come within PendingTTL of the password.
func TestHalfSignInExpires(t *testing.T) {
	s := mustStore(t)
	c := mustClock(s)
	s.CreateUser("zheng", pw, fixgraph.RoleEditor, "support")
	secret, _ := mustEnrol(t, s, c, "zheng")
	c.add(time.Minute)
	a, _ := s.Password("zheng", pw)
	c.add(auth.PendingTTL + time.Second)
	if _, err := s.SecondFactor(a.Pending, code(t, secret, c.t)); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED {
		t.Errorf("a code after %v: %v; want unauthorized", auth.PendingTTL, err)
	}
}

// TestRoleRequiresMFA: once a role requires MFA, its accounts' sessions end and a right password
// gives no session, only the enrolment, which signs in when confirmed; other roles go on as
// before.
func TestRoleRequiresMFA(t *testing.T) {
	s := mustStore(t)
	c := mustClock(s)
	s.CreateUser("feng", pw, fixgraph.RoleEditor, "support")
	s.CreateUser("chen", pw, fixgraph.RoleUploader, "support")
	token, _, _, err := s.SignIn("feng", pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetMFARoles([]fixgraph.Role{fixgraph.RoleEditor, fixgraph.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMFARoles([]fixgraph.Role{"owner"}); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("an unknown role: %v", err)
	}
	if roles, _ := s.MFARoles(); fmt.Sprint(roles) != "[admin editor]" {
		t.Errorf("roles %v", roles)
	}
	if _, _, err := s.SessionPrincipal(token); err == nil {
		t.Error("a session of an editor without MFA outlived the policy")
	}
	a, err := s.Password("feng", pw)
	if err != nil || a.Challenge != auth.ChallengeEnrol || a.Token != "" {
		t.Fatalf("password of an editor without MFA: %+v, %v; want enrolment and no session", a, err)
	}
	if _, err := s.SecondFactor(a.Pending, "123456"); fixgraph.CodeOf(err) != fixgraph.EFORBIDDEN {
		t.Errorf("a code instead of enrolling: %v", err)
	}
	if user, ch, csrf, err := s.Pending(a.Pending); err != nil || user != "feng" || ch != auth.ChallengeEnrol || csrf == "" {
		t.Errorf("pending: %v %v %q %v", user, ch, csrf, err)
	}
	e, _ := s.StartEnrolment("feng")
	codes, done, err := s.ConfirmPendingEnrolment(a.Pending, code(t, e.Secret, c.t))
	if err != nil || len(codes) != auth.RecoveryCodes || done.Token == "" {
		t.Fatalf("enrolment: %v, %+v, %v", codes, done, err)
	}
	if p, _, err := s.SessionPrincipal(done.Token); err != nil || p.Name != "feng" {
		t.Errorf("session after enrolment: %v %v", p, err)
	}
	if a, _ := s.Password("feng", pw); a.Challenge != auth.ChallengeCode {
		t.Errorf("next sign-in: %+v; want a code", a)
	}
	if a, err := s.Password("chen", pw); err != nil || a.Challenge != auth.ChallengeNone || a.Token == "" {
		t.Errorf("an uploader, whose role does not require MFA: %+v %v", a, err)
	}
}

// TestLockout: five wrong codes lock the account for a minute, audited; while locked even the
// right password is refused unchecked, and refusals do not lengthen the lock; the next lock is
// twice as long, and no lock is longer than LockMax; an admin's Unlock ends it at once.
func TestLockout(t *testing.T) {
	s := mustStore(t)
	c := mustClock(s)
	s.CreateUser("he", pw, fixgraph.RoleEditor, "support")
	secret, _ := mustEnrol(t, s, c, "he")
	var events []string
	audit := func(action, target string, d map[string]string) {
		events = append(events, action+" "+target+" "+d["failures"]+d["until"]+d["reason"])
	}
	badCodes := func() *auth.Attempt {
		t.Helper()
		a, err := s.Password("he", pw)
		if err != nil {
			t.Fatalf("password: %v", err)
		}
		var last *auth.Attempt
		for range auth.LockAfter {
			last, err = s.SecondFactor(a.Pending, "000000")
			auth.AuditAttempt(last, err, audit)
			if err == nil {
				t.Fatal("000000 was taken")
			}
		}
		return last
	}
	last := badCodes()
	want := c.t.Add(time.Minute)
	if !last.Locked || !last.LockedUntil.Equal(want) {
		t.Fatalf("after %d bad codes: %+v; want locked until %v", auth.LockAfter, last, want)
	}
	if n := len(events); n != auth.LockAfter+1 || events[n-1] != "signin.locked user:he "+want.Format(time.RFC3339) {
		t.Errorf("audit: %q", events)
	}
	users, _ := s.Users()
	if !users[0].LockedUntil.Equal(want) {
		t.Errorf("Users shows lock %v; want %v", users[0].LockedUntil, want)
	}
	c.add(30 * time.Second)
	for range 20 {
		a, err := s.Password("he", pw)
		if fixgraph.CodeOf(err) != fixgraph.ERATELIMITED || !a.Refused || a.Token != "" {
			t.Fatalf("right password while locked: %+v, %v; want refused", a, err)
		}
	}
	c.add(31 * time.Second)
	if a, err := s.Password("he", pw); err != nil || a.Challenge != auth.ChallengeCode {
		t.Fatalf("after the minute (refusals did not lengthen it): %+v %v", a, err)
	}
	// Wrong passwords count too, and the back-off doubles, up to LockMax.
	for i, wantLock := range []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour} {
		var a *auth.Attempt
		for range auth.LockAfter {
			a, _ = s.Password("he", "wrong password")
		}
		if !a.Locked || a.LockedUntil.Sub(c.t) != wantLock {
			t.Fatalf("lock %d: %+v; want %v", i+2, a, wantLock)
		}
		c.t = a.LockedUntil.Add(time.Second)
	}
	badCodes()
	if err := s.Unlock("he"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock("nobody"); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("unlock nobody: %v", err)
	}
	a, err := s.Password("he", pw)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	c.add(time.Minute)
	if _, err := s.SecondFactor(a.Pending, code(t, secret, c.t)); err != nil {
		t.Errorf("code after unlock: %v", err)
	}
	// Unlock forgot the back-off: the next lock is a minute again.
	last = badCodes()
	if last.LockedUntil.Sub(c.t) != time.Minute {
		t.Errorf("lock after unlock: %v; want a minute", last.LockedUntil.Sub(c.t))
	}
}

// TestLoginMFA: /auth/login answers a right password of an account with MFA with mfa_required
// and a token and no session; the token and a code sign in; name, password and code in one
// request do too; an account whose role requires MFA and has none is told to enrol; bad codes
// are audited and lock the account.
func TestLoginMFA(t *testing.T) {
	s := mustStore(t)
	c := mustClock(s)
	s.CreateUser("yang", pw, fixgraph.RoleEditor, "support")
	s.CreateUser("xu", pw, fixgraph.RoleReviewer, "")
	secret, _ := mustEnrol(t, s, c, "yang")
	s.SetMFARoles([]fixgraph.Role{fixgraph.RoleReviewer})
	var mu sync.Mutex
	var events []string
	g := &auth.Gate{Store: s, Audit: func(r *http.Request, p *fixgraph.Principal, action, target string, d map[string]string) {
		mu.Lock()
		events = append(events, action+" "+target)
		mu.Unlock()
	}}
	mux := http.NewServeMux()
	mux.Handle("/auth/login", g.SignIn())
	srv := signInServerWith(t, mux)
	n := 0
	post := func(body any) (int, map[string]any, *http.Response) {
		t.Helper()
		n++
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/auth/login", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.19.7.%d", n))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out, resp
	}
	extensions := func(out map[string]any) map[string]any {
		errs, _ := out["errors"].([]any)
		if len(errs) == 0 {
			return nil
		}
		e, _ := errs[0].(map[string]any)
		x, _ := e["extensions"].(map[string]any)
		return x
	}

	status, out, resp := post(map[string]string{"name": "yang", "password": pw})
	x := extensions(out)
	if status != 401 || x["code"] != auth.MFARequired || x["mfaToken"] == "" || len(resp.Cookies()) != 0 {
		t.Fatalf("password only: %d %v cookies %v; want 401 mfa_required, a token, no cookie", status, out, resp.Cookies())
	}
	token := x["mfaToken"].(string)
	c.add(30 * time.Second)
	status, out, resp = post(map[string]string{"mfaToken": token, "code": code(t, secret, c.t)})
	if status != 200 || out["csrf"] == "" || len(resp.Cookies()) != 1 || resp.Cookies()[0].Name != auth.SessionCookie {
		t.Fatalf("second call with the code: %d %v", status, out)
	}
	c.add(30 * time.Second)
	if status, out, _ = post(map[string]string{"name": "yang", "password": pw, "code": code(t, secret, c.t)}); status != 200 {
		t.Errorf("password and code at once: %d %v", status, out)
	}
	if status, out, _ = post(map[string]string{"name": "yang", "password": pw, "code": code(t, secret, c.t)}); status != 401 {
		t.Errorf("the same code again: %d %v; want 401", status, out)
	}
	status, out, _ = post(map[string]string{"name": "xu", "password": pw})
	if status != 403 || !strings.Contains(fmt.Sprint(out), "/editor/") {
		t.Errorf("a reviewer without MFA, whose role requires it: %d %v; want 403 pointing to the editor", status, out)
	}
	status, out, _ = post(map[string]string{"name": "yang", "password": pw})
	token = extensions(out)["mfaToken"].(string)
	for range auth.LockAfter - 1 { // one failure is already counted: the reused code
		post(map[string]string{"mfaToken": token, "code": "999999"})
	}
	status, out, _ = post(map[string]string{"name": "yang", "password": pw})
	if status != 429 || !strings.Contains(fmt.Sprint(out), "locked") {
		t.Errorf("after %d bad codes: %d %v; want 429 locked", auth.LockAfter, status, out)
	}
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(events, "\n")
	for _, want := range []string{"signin user:yang", "signin.failed user:yang", "signin.locked user:yang", "signin.failed user:xu"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit lacks %q:\n%s", want, got)
		}
	}
}

// signInServerWith serves h behind a trusted proxy at 127.0.0.1, so each request may name its
// own client address and the per-address sign-in limit does not get in the way.
func signInServerWith(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(mustProxies(t, "127.0.0.1/32").Wrap(h))
	t.Cleanup(srv.Close)
	return srv
}
