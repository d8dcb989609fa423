package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"testing"
)

// TestFirstStart: the first start of an empty server prints an admin key and the admin
// account's password once; the password signs in to the editor; a second start prints nothing.
func TestFirstStart(t *testing.T) {
	t.Setenv("FIXGRAPH_ADMIN_PASSWORD", "")
	a, err := openApp(context.Background(), config{data: t.TempDir(), embedder: "none"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var out bytes.Buffer
	if err := a.firstStart(&out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`admin / (\S+)`).FindStringSubmatch(out.String())
	if m == nil || !regexp.MustCompile(`fgk_\S+`).MatchString(out.String()) {
		t.Fatalf("the first start printed:\n%s", out.String())
	}
	if _, _, p, err := a.accounts.SignIn("admin", m[1]); err != nil || p.Role != "admin" {
		t.Fatalf("signing in with the printed password: %v %v", p, err)
	}
	out.Reset()
	if err := a.firstStart(&out); err != nil || out.Len() != 0 {
		t.Fatalf("a second start printed %q (%v)", out.String(), err)
	}
}
