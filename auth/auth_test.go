package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/auth"
)

func mustStore(tb testing.TB) *auth.Store {
	tb.Helper()
	s, err := auth.Open(filepath.Join(tb.TempDir(), "auth.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestKeys: a key works until it is revoked or expires; a wrong secret for a real key id, a
// malformed key and an unknown one are refused alike; the secret is never stored.
func TestKeys(t *testing.T) {
	s := mustStore(t)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	secret, k, err := s.CreateKey("wechat bot", fixgraph.RoleReader, "", 24*time.Hour, "key:admin")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, auth.KeyPrefix+k.ID+"_") || strings.Contains(k.Hash, secret) {
		t.Fatalf("secret %q, key %+v", secret, k)
	}
	p, _, err := s.KeyPrincipal(secret)
	if err != nil || p.Role != fixgraph.RoleReader || p.ID != "key:"+k.ID {
		t.Fatalf("fresh key: %+v, %v", p, err)
	}
	for name, bad := range map[string]string{
		"wrong secret": auth.KeyPrefix + k.ID + "_" + strings.Repeat("A", 43),
		"malformed":    "not-a-key",
		"unknown id":   auth.KeyPrefix + "00000000_" + strings.Repeat("A", 43),
		"empty":        "",
	} {
		if _, _, err := s.KeyPrincipal(bad); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED {
			t.Errorf("%s: %v; want unauthorized", name, err)
		}
	}
	now = now.Add(25 * time.Hour)
	if _, got, err := s.KeyPrincipal(secret); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED || got == nil {
		t.Errorf("expired key: %v", err)
	}
	secret2, k2, _ := s.CreateKey("app", fixgraph.RoleEditor, "support", 0, "key:admin")
	if _, _, err := s.KeyPrincipal(secret2); err != nil {
		t.Fatalf("key without expiry: %v", err)
	}
	if _, err := s.RevokeKey(k2.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.KeyPrincipal(secret2); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED {
		t.Errorf("revoked key: %v", err)
	}
	if _, _, err := s.CreateKey("x", fixgraph.RoleUploader, "", 0, ""); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("uploader without a department: %v", err)
	}
	if _, _, err := s.CreateKey("x", "root", "", 0, ""); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("unknown role: %v", err)
	}
}

// TestAccounts: passwords are checked, short ones refused, sessions end when the role changes
// and when they expire.
func TestAccounts(t *testing.T) {
	s := mustStore(t)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	if _, err := s.CreateUser("li", "short", fixgraph.RoleEditor, ""); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("short password: %v", err)
	}
	u, err := s.CreateUser("li", "correct horse battery", fixgraph.RoleEditor, "support")
	if err != nil || strings.Contains(u.Password, "horse") || !strings.HasPrefix(u.Password, "$argon2id$") {
		t.Fatalf("user %+v, %v", u, err)
	}
	if _, err := s.CreateUser("li", "another long password", fixgraph.RoleEditor, ""); fixgraph.CodeOf(err) != fixgraph.ECONFLICT {
		t.Errorf("second li: %v", err)
	}
	for _, tc := range [][2]string{{"li", "wrong password!"}, {"nobody", "correct horse battery"}} {
		if _, _, _, err := s.SignIn(tc[0], tc[1]); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED || !strings.Contains(err.Error(), "wrong user name or password") {
			t.Errorf("sign in %v: %v", tc, err)
		}
	}
	token, csrf, p, err := s.SignIn("li", "correct horse battery")
	if err != nil || p.Role != fixgraph.RoleEditor || csrf == "" {
		t.Fatalf("sign in: %v", err)
	}
	if p, got, err := s.SessionPrincipal(token); err != nil || got != csrf || p.Department != "support" {
		t.Fatalf("session: %+v %q %v", p, got, err)
	}
	if _, err := s.SetRole("li", fixgraph.RoleReviewer, "support"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionPrincipal(token); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED {
		t.Errorf("session after a role change: %v; want ended", err)
	}
	token, _, _, _ = s.SignIn("li", "correct horse battery")
	now = now.Add(auth.SessionTTL + time.Minute)
	if _, _, err := s.SessionPrincipal(token); fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED {
		t.Errorf("expired session: %v", err)
	}
}

type event struct{ actor, action string }

// TestGate drives the gate over HTTP: 401 without credentials, keys, the local token, sessions
// with and without their CSRF header, rate limits, and what it writes to the audit log.
func TestGate(t *testing.T) {
	s := mustStore(t)
	var mu sync.Mutex
	var events []event
	g := &auth.Gate{Store: s, LocalToken: "local-secret", Rate: 2, Burst: 2,
		Audit: func(r *http.Request, p *fixgraph.Principal, action, target string, detail map[string]string) {
			mu.Lock()
			events = append(events, event{p.ID, action})
			mu.Unlock()
		}}
	api := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(fixgraph.PrincipalFrom(r.Context()))
	}))
	mux := http.NewServeMux()
	mux.Handle("/api", api)
	mux.Handle("/auth/login", g.SignIn())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	do := func(method, authz string, cookie *http.Cookie, csrf string) (int, fixgraph.Principal, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/api", strings.NewReader("{}"))
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		if csrf != "" {
			req.Header.Set(auth.CSRFHeader, csrf)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var raw json.RawMessage
		json.NewDecoder(resp.Body).Decode(&raw)
		var p fixgraph.Principal
		json.Unmarshal(raw, &p)
		return resp.StatusCode, p, string(raw)
	}

	if code, _, body := do("POST", "", nil, ""); code != 401 || !strings.Contains(body, "unauthorized") {
		t.Errorf("no credentials: %d %s", code, body)
	}
	if code, p, _ := do("POST", "Bearer local-secret", nil, ""); code != 200 || p.ID != "local" {
		t.Errorf("local token: %d %+v", code, p)
	}
	secret, k, _ := s.CreateKey("bot", fixgraph.RoleReader, "", 0, "test")
	if code, p, _ := do("POST", "Bearer "+secret, nil, ""); code != 200 || p.ID != "key:"+k.ID || p.Role != fixgraph.RoleReader {
		t.Errorf("key: %d %+v", code, p)
	}
	if code, _, _ := do("POST", "Bearer "+secret, nil, ""); code != 200 {
		t.Errorf("second request within the burst: %d", code)
	}
	if code, _, body := do("POST", "Bearer "+secret, nil, ""); code != 429 || !strings.Contains(body, "rate limit") {
		t.Errorf("third request at once over 2/s: %d %s", code, body)
	}
	s.RevokeKey(k.ID)
	if code, _, _ := do("POST", "Bearer "+secret, nil, ""); code != 401 {
		t.Errorf("revoked key: %d", code)
	}
	if code, _, _ := do("POST", "Basic dXNlcjpwdw==", nil, ""); code != 401 {
		t.Errorf("basic auth: %d", code)
	}

	s.CreateUser("li", "correct horse battery", fixgraph.RoleEditor, "support")
	resp, err := http.Post(srv.URL+"/auth/login", "application/json", strings.NewReader(`{"name":"li","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ CSRF string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie {
			session = c
		}
	}
	if resp.StatusCode != 200 || session == nil || !session.HttpOnly || login.CSRF == "" {
		t.Fatalf("sign in: %d, cookie %+v, csrf %q", resp.StatusCode, session, login.CSRF)
	}
	if code, p, _ := do("GET", "", session, ""); code != 200 || p.ID != "user:li" {
		t.Errorf("GET with the session: %d %+v", code, p)
	}
	if code, _, body := do("POST", "", session, ""); code != 403 || !strings.Contains(body, "CSRF") {
		t.Errorf("POST with the session and no CSRF header: %d %s", code, body)
	}
	if code, _, _ := do("POST", "", session, "forged"); code != 403 {
		t.Errorf("POST with a wrong CSRF header: %d", code)
	}
	if code, p, _ := do("POST", "", session, login.CSRF); code != 200 || p.ID != "user:li" {
		t.Errorf("POST with the session and its CSRF header: %d %+v", code, p)
	}
	resp, _ = http.Post(srv.URL+"/auth/login", "application/json", strings.NewReader(`{"name":"li","password":"guess"}`))
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}

	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, e := range events {
		got = append(got, e.actor+" "+e.action)
	}
	want := []string{"key:" + k.ID + " key.use", "anonymous key.refused", "user:li signin", "anonymous signin.failed"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
