package auth_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/auth"
)

// TestAsksDrawFromTheKeysLimit: a request takes one from its key's rate limit at the gate, which
// pays for its first ask; every further ask of the same request (aliases in one GraphQL
// operation) takes one more, and those over the limit are refused.
func TestAsksDrawFromTheKeysLimit(t *testing.T) {
	s := mustStore(t)
	g := &auth.Gate{Store: s, Rate: 1, Burst: 3}
	secret, _, _ := s.CreateKey("bot", fixgraph.RoleReader, "", 0, "test")
	var got []string
	srv := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = got[:0]
		for range 5 {
			got = append(got, fixgraph.CodeOf(auth.Charge(r.Context())))
		}
	})))
	defer srv.Close()
	post := func() int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(); code != 200 {
		t.Fatalf("first request: %d", code)
	}
	want := []string{"", "", "", fixgraph.ERATELIMITED, fixgraph.ERATELIMITED}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("five asks in a request with a burst of three: %q; want %q", got, want)
	}
	if code := post(); code != http.StatusTooManyRequests {
		t.Errorf("a request after the burst was spent on asks: %d; want 429", code)
	}
	if err := auth.Charge(t.Context()); err != nil {
		t.Errorf("a context that never passed a gate: %v", err)
	}
}

func mustProxies(t *testing.T, s string) auth.Proxies {
	t.Helper()
	p, err := auth.ParseProxies(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestClientAddress: X-Forwarded-For counts only when the connection comes from a trusted proxy,
// and then its rightmost address that is not a trusted proxy is the client: what a client puts
// at the left of the header itself is never believed.
func TestClientAddress(t *testing.T) {
	proxies := mustProxies(t, "10.0.0.0/8, 192.0.2.1")
	for _, tc := range []struct {
		name, remote, xff, want string
		proxies                 auth.Proxies
	}{
		{"no proxies configured", "203.0.113.9:5000", "198.51.100.1", "203.0.113.9", nil},
		{"spoofed header from an untrusted peer", "203.0.113.9:5000", "198.51.100.1", "203.0.113.9", proxies},
		{"through one proxy", "10.0.0.5:443", "198.51.100.1", "198.51.100.1", proxies},
		{"client prepends a lie", "10.0.0.5:443", "1.2.3.4, 198.51.100.1", "198.51.100.1", proxies},
		{"through two proxies", "10.0.0.5:443", "198.51.100.1, 192.0.2.1", "198.51.100.1", proxies},
		{"several headers", "10.0.0.5:443", "1.2.3.4|198.51.100.1, 10.1.1.1", "198.51.100.1", proxies},
		{"only proxies", "10.0.0.5:443", "10.0.0.7", "10.0.0.7", proxies},
		{"no header", "10.0.0.5:443", "", "10.0.0.5", proxies},
		{"garbage from the client", "10.0.0.5:443", "not-an-ip", "10.0.0.5", proxies},
		{"IPv6", "[2001:db8::1]:443", "198.51.100.1", "2001:db8::1", proxies},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range strings.Split(tc.xff, "|") {
				if v != "" {
					r.Header.Add("X-Forwarded-For", v)
				}
			}
			if got := tc.proxies.Client(r); got != tc.want {
				t.Errorf("Client = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := auth.ParseProxies("10.0.0.0/33"); err == nil {
		t.Error("a bad CIDR was accepted")
	}
	if p := mustProxies(t, ""); len(p) != 0 || p.Contains(netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("no proxies: %v", p)
	}
}

// signInServer serves /auth/login behind a trusted proxy at 127.0.0.1 (the test's own client),
// which says who the client is in X-Forwarded-For.
func signInServer(t *testing.T, s *auth.Store, proxies string) *httptest.Server {
	g := &auth.Gate{Store: s}
	mux := http.NewServeMux()
	mux.Handle("/auth/login", g.SignIn())
	srv := httptest.NewServer(mustProxies(t, proxies).Wrap(mux))
	t.Cleanup(srv.Close)
	return srv
}

func signIn(t *testing.T, srv *httptest.Server, client, name, password string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/auth/login", strings.NewReader(fmt.Sprintf(`{"name":%q,"password":%q}`, name, password)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", client)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSignInLimitBehindProxy: behind a trusted proxy, one client that guesses passwords is held
// back alone, not everyone behind the same proxy; without --trusted-proxies the header is not
// believed, so changing it gains a guesser nothing.
func TestSignInLimitBehindProxy(t *testing.T) {
	s := mustStore(t)
	s.CreateUser("wang", "correct horse battery", fixgraph.RoleEditor, "support")
	s.CreateUser("zhao", "correct horse battery", fixgraph.RoleEditor, "support")
	srv := signInServer(t, s, "127.0.0.1/32")
	for i := range 5 {
		if code := signIn(t, srv, "203.0.113.66", "wang", "guess"); code != 401 {
			t.Fatalf("guess %d: %d", i+1, code)
		}
	}
	if code := signIn(t, srv, "203.0.113.66", "wang", "guess"); code != 429 {
		t.Errorf("sixth guess in a minute: %d; want 429", code)
	}
	if code := signIn(t, srv, "198.51.100.7", "zhao", "correct horse battery"); code != 200 {
		t.Errorf("another client behind the same proxy: %d; want 200", code)
	}
	if code := signIn(t, srv, "1.2.3.4, 203.0.113.66", "wang", "guess"); code != 429 {
		t.Errorf("the guesser with a forged hop before its own: %d; want 429", code)
	}

	untrusting := signInServer(t, s, "")
	for i := range 5 {
		signIn(t, untrusting, fmt.Sprintf("198.18.0.%d", i), "zhao", "guess")
	}
	if code := signIn(t, untrusting, "198.18.0.99", "zhao", "guess"); code != 429 {
		t.Errorf("a new X-Forwarded-For per guess without trusted proxies: %d; want 429", code)
	}
}

// TestSignInLimitPerAccount: guesses at one account from many addresses are held to the
// account's own limit; other accounts are not affected.
func TestSignInLimitPerAccount(t *testing.T) {
	s := mustStore(t)
	s.CreateUser("sun", "correct horse battery", fixgraph.RoleEditor, "support")
	s.CreateUser("zhou", "correct horse battery", fixgraph.RoleEditor, "support")
	srv := signInServer(t, s, "127.0.0.1/32")
	limited := -1
	for i := range 30 {
		// The account locks after auth.LockAfter failures; the guesses go on to its limit.
		if code := signIn(t, srv, fmt.Sprintf("198.18.1.%d", i), "sun", "guess"); code == 429 && limited < 0 {
			limited = i
		}
	}
	if limited < 0 || limited > 20 {
		t.Errorf("guesses at one account from 30 addresses: limited after %d; want within 20", limited)
	}
	if code := signIn(t, srv, "198.18.1.200", "Sun ", "guess"); code != 429 {
		t.Errorf("the same account spelt otherwise: %d; want 429", code)
	}
	if code := signIn(t, srv, "198.18.2.1", "zhou", "correct horse battery"); code != 200 {
		t.Errorf("another account: %d; want 200", code)
	}
}

// TestRefusedKeysAreAggregated: a flood of bogus keys writes the first refusal and then one
// entry per window that counts the rest, not one entry per request.
func TestRefusedKeysAreAggregated(t *testing.T) {
	s := mustStore(t)
	var mu sync.Mutex
	var entries []map[string]string
	g := &auth.Gate{Store: s, RefusalWindow: 200 * time.Millisecond,
		Audit: func(r *http.Request, p *fixgraph.Principal, action, target string, detail map[string]string) {
			mu.Lock()
			defer mu.Unlock()
			if action == "key.refused" {
				entries = append(entries, detail)
			}
		}}
	srv := httptest.NewServer(g.Wrap(http.NotFoundHandler()))
	defer srv.Close()
	for i := range 200 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", fmt.Sprintf("Bearer fgk_%08x_%s", i, strings.Repeat("A", 43)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("bogus key %d: %d", i, resp.StatusCode)
		}
	}
	time.Sleep(500 * time.Millisecond) // the window ends and its count is written
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, e := range entries {
		n := 1
		if c := e["count"]; c != "" {
			fmt.Sscan(c, &n)
		}
		total += n
	}
	if len(entries) > 10 || total != 200 {
		t.Errorf("200 bogus keys wrote %d entries counting %d; want a few counting 200: %v", len(entries), total, entries)
	}
}

// TestOddCredentialsAreUnauthorized: a token of thousands of characters, or of bytes no key
// has, is refused as unauthorized like any wrong key, never as an internal error.
func TestOddCredentialsAreUnauthorized(t *testing.T) {
	s := mustStore(t)
	g := &auth.Gate{Store: s, LocalToken: "local-secret"}
	srv := httptest.NewServer(g.Wrap(http.NotFoundHandler()))
	defer srv.Close()
	for name, token := range map[string]string{
		"5,000 characters":           strings.Repeat("x", 5000),
		"5,000 characters, key-like": auth.KeyPrefix + strings.Repeat("0", 4990) + "_A",
		"a long key id":              auth.KeyPrefix + strings.Repeat("a", 40000) + "_A",
		"bytes of no key":            auth.KeyPrefix + "\xff\xfe_\x80\t",
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Errors []struct{ Extensions struct{ Code string } }
			}
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != 401 || len(body.Errors) != 1 || body.Errors[0].Extensions.Code != fixgraph.EUNAUTHORIZED {
				t.Errorf("%d %+v; want 401 unauthorized", resp.StatusCode, body)
			}
		})
	}
}

// TestSignOutNeedsPOSTAndCSRF: a link or an image on another site (GET, or a POST without the
// session's CSRF token) cannot sign an editor out.
func TestSignOutNeedsPOSTAndCSRF(t *testing.T) {
	s := mustStore(t)
	s.CreateUser("qian", "correct horse battery", fixgraph.RoleEditor, "support")
	g := &auth.Gate{Store: s}
	mux := http.NewServeMux()
	mux.Handle("/auth/logout", g.SignOut())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	token, csrf, _, err := s.SignIn("qian", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	out := func(method, header string) int {
		req, _ := http.NewRequest(method, srv.URL+"/auth/logout", nil)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: token})
		if header != "" {
			req.Header.Set(auth.CSRFHeader, header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	signedIn := func() bool { _, _, err := s.SessionPrincipal(token); return err == nil }
	if code := out(http.MethodGet, ""); code != http.StatusMethodNotAllowed || !signedIn() {
		t.Errorf("GET /auth/logout: %d, signed in %v; want 405 and still signed in", code, signedIn())
	}
	if code := out(http.MethodPost, "forged"); code != http.StatusForbidden || !signedIn() {
		t.Errorf("POST without the CSRF token: %d, signed in %v; want 403 and still signed in", code, signedIn())
	}
	if code := out(http.MethodPost, csrf); code != http.StatusNoContent || signedIn() {
		t.Errorf("POST with the CSRF token: %d, signed in %v; want 204 and signed out", code, signedIn())
	}
}

// TestReplicasShareTheLimit: with the rate shared among replicas, each enforces its part: a burst
// of 6 over 3 replicas lets 2 requests through at once on this one, then 6 once the others are
// gone.
func TestReplicasShareTheLimit(t *testing.T) {
	s := mustStore(t)
	replicas := 3
	now := time.Now()
	g := &auth.Gate{Store: s, Rate: 0.001, Burst: 6, Share: func() int { return replicas }, Now: func() time.Time { return now }}
	secret, _, _ := s.CreateKey("bot", fixgraph.RoleReader, "", 0, "test")
	srv := httptest.NewServer(g.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	defer srv.Close()
	burst := func() (ok int) {
		for range 10 {
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ok++
			}
		}
		return ok
	}
	if n := burst(); n != 2 {
		t.Errorf("one of three replicas let %d requests through at once; want 2 (6/3)", n)
	}
	replicas = 1
	burst()                        // the limiter takes the new share
	now = now.Add(100 * time.Hour) // and refills
	if n := burst(); n != 6 {
		t.Errorf("the only replica let %d requests through at once; want 6", n)
	}
}
