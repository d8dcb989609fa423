package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/auth"
)

// gqlAs posts a GraphQL operation with the API key secret and returns the data and the codes of
// its errors.
func gqlAs(t *testing.T, base, secret, query string, vars map[string]any) (json.RawMessage, []string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage
		Errors []struct{ Extensions struct{ Code string } }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	var codes []string
	for _, e := range out.Errors {
		codes = append(codes, e.Extensions.Code)
	}
	return out.Data, codes
}

func mustKey(t *testing.T, a *app, name string, role fixgraph.Role) string {
	t.Helper()
	secret, _, err := a.accounts.CreateKey(name, role, "", 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// TestAliasedAsksAreRateLimited: a key's rate limit counts the searches of one request, not the
// request: ten aliases of search with a burst of three run three, the rest are rate-limited.
func TestAliasedAsksAreRateLimited(t *testing.T) {
	base, a := serveApp(t, func(ctx context.Context, a *app) { a.serving = serving{gate: a.gate("", false, 0.01, false)} })
	a.serving.gate.Burst = 3
	bot := mustKey(t, a, "bot", fixgraph.RoleReader)
	var q strings.Builder
	q.WriteString("{")
	for i := range 10 {
		fmt.Fprintf(&q, " s%d: search(query: \"E102 %d\", limit: 1) { score }", i, i)
	}
	q.WriteString(" }")
	_, codes := gqlAs(t, base, bot, q.String(), nil)
	if len(codes) != 7 || strings.Count(strings.Join(codes, " "), fixgraph.ERATELIMITED) != 7 {
		t.Errorf("ten searches in one request with a burst of three: errors %q; want seven rate_limited", codes)
	}
}

// TestFeedbackOnlyOnOwnAnswers: feedback on an answer someone else was given is refused as if
// the answer did not exist; the asker's own is taken.
func TestFeedbackOnlyOnOwnAnswers(t *testing.T) {
	base, a := serveApp(t, func(ctx context.Context, a *app) { a.serving = serving{gate: a.gate("", false, 0, false)} })
	if _, err := a.loadFixtures(t.Context()); err != nil {
		t.Fatal(err)
	}
	asker, other := mustKey(t, a, "asker", fixgraph.RoleReader), mustKey(t, a, "other", fixgraph.RoleReader)
	data, codes := gqlAs(t, base, asker, `{ ask(question: "洗衣机显示E102怎么办") { id } }`, nil)
	var ans struct{ Ask struct{ ID string } }
	if json.Unmarshal(data, &ans); len(codes) > 0 || ans.Ask.ID == "" {
		t.Fatalf("ask: %s %v", data, codes)
	}
	const feedback = `mutation($id: ID!) { feedback(answerId: $id, helpful: false, comment: "no") }`
	if _, codes := gqlAs(t, base, other, feedback, map[string]any{"id": ans.Ask.ID}); len(codes) != 1 || codes[0] != fixgraph.ENOTFOUND {
		t.Errorf("feedback on another key's answer: errors %q; want not_found", codes)
	}
	if e, _ := a.asks.Get(ans.Ask.ID); e.Helpful != nil {
		t.Errorf("refused feedback was recorded: %+v", e)
	}
	if data, codes := gqlAs(t, base, asker, feedback, map[string]any{"id": ans.Ask.ID}); len(codes) != 0 || !strings.Contains(string(data), "true") {
		t.Errorf("feedback on its own answer: %s %q", data, codes)
	}
}

// TestTrustedProxiesNameTheClient: behind a trusted proxy, the audit log records the client the
// proxy forwarded for; from anyone else, X-Forwarded-For is ignored.
func TestTrustedProxiesNameTheClient(t *testing.T) {
	for _, tc := range []struct {
		name, proxies, want string
	}{
		{"trusted", "127.0.0.0/8", `"remote":"203.0.113.77"`},
		{"not configured", "", `"remote":"127.0.0.1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxies, err := auth.ParseProxies(tc.proxies)
			if err != nil {
				t.Fatal(err)
			}
			base, a := serveApp(t, func(ctx context.Context, a *app) {
				a.serving = serving{gate: a.gate("", false, 0, false), proxies: proxies}
			})
			req, _ := http.NewRequest(http.MethodPost, base+"/auth/login", strings.NewReader(`{"name":"proxied-`+tc.name+`","password":"wrong password"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", "203.0.113.77")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			log, err := os.ReadFile(filepath.Join(a.dir, auditFile))
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, line := range strings.Split(string(log), "\n") {
				found = found || strings.Contains(line, `"signin.failed"`) && strings.Contains(line, tc.want)
			}
			if !found {
				t.Errorf("no failed sign-in with %s in the audit log:\n%s", tc.want, log)
			}
		})
	}
	if err := run(t.Context(), []string{"serve", "--data", t.TempDir(), "--trusted-proxies", "10.0.0.0/33"}, &bytes.Buffer{}, &bytes.Buffer{}); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("serve with a bad --trusted-proxies: %v; want invalid", err)
	}
}

// TestShortAdminPasswordCreatesNothing: a first start with a too-short FIXGRAPH_ADMIN_PASSWORD
// fails before it creates anything, so a second start with a good one is a clean first start.
func TestShortAdminPasswordCreatesNothing(t *testing.T) {
	t.Setenv("FIXGRAPH_ADMIN_PASSWORD", "short")
	dir := filepath.Join(t.TempDir(), "data")
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"serve", "--data", dir, "--embedder", "none", "--addr", "127.0.0.1:0"}, &out, &errOut)
	if fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(fixgraph.MessageOf(err), "FIXGRAPH_ADMIN_PASSWORD") {
		t.Errorf("serve with a short admin password: %v; want invalid, naming FIXGRAPH_ADMIN_PASSWORD", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		entries, _ := os.ReadDir(dir)
		t.Errorf("the failed first start left the data directory behind (%v): %v", err, entries)
	}
	if strings.Contains(out.String(), "fgk_") {
		t.Errorf("the failed first start printed a key:\n%s", out.String())
	}
}
