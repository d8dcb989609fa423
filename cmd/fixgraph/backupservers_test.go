package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/editor"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/internal/servertest"
	"github.com/fixgraph/fixgraph/search"
)

// TestServerBackupAndRestore backs up the server-backed deployment (Neo4j, PostgreSQL, Weaviate)
// holding the demo corpus, an API key and an editor's draft; restores it into empty servers and
// asks the 90 fixture questions there: every answer is the one the original gave, the key answers
// and the draft is back. A restore into servers that hold anything is refused and writes nothing.
func TestServerBackupAndRestore(t *testing.T) {
	neo := servertest.Neo4jURL(t)
	wv := servertest.WeaviateURL(t, search.WeaviateClasses...)
	pg := servertest.PostgresURL(t)
	t.Setenv("FIXGRAPH_MFA_KEY", strings.Repeat("3c", 32))
	t.Setenv("FIXGRAPH_AUDIT_KEY", strings.Repeat("5a", 32))
	ctx := context.Background()
	open := func(dir, state string) *app {
		t.Helper()
		a, err := openApp(ctx, config{data: dir, graph: neo, vectors: wv, state: state, embedder: "none"}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	orig := t.TempDir()
	a := open(orig, pg)
	if _, err := a.loadFixtures(ctx); err != nil {
		t.Fatal(err)
	}
	want := fixtureAnswers(t, a)
	key, _, err := a.accounts.CreateKey("bot", fixgraph.RoleReader, "", 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	const draftID = "faq:backup-draft"
	_, err = a.edits.Commit(draftID, 0, "editor", time.Now(), nil, func(*editor.Entity) (*editor.Entity, string, string, error) {
		return &editor.Entity{Node: json.RawMessage(`{"id":"faq:backup-draft","question":{"en":"Does a backup keep drafts?"}}`),
			Status: fixgraph.StatusDraft, Visibility: fixgraph.VisibilityPublic, Created: true}, editor.ActCreated, "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	servers := []string{"--graph", neo, "--vectors", wv}
	file := filepath.Join(t.TempDir(), "servers.tar.gz")
	out := MustRun(t, append([]string{"backup", "--data", orig, "--state", pg, "--out", file}, servers...)...)
	for _, w := range []string{neo4jPart, statePart, "graph neo4j 127.0.0.1", "state postgres 127.0.0.1"} {
		if !strings.Contains(out, w) {
			t.Errorf("backup printed %q; want it to name %s", out, w)
		}
	}
	t.Log(out)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := readBackup(f, "")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if hasPart(m, "graph.db") || hasPart(m, "auth.db") || !strings.HasPrefix(m.Deployment["vectors"], "weaviate") {
		t.Errorf("the backup of servers holds %s, deployment %v", partNames(m), m.Deployment)
	}

	restore := func(dir, state string, extra ...string) error {
		var stdout, stderr bytes.Buffer
		args := append([]string{"restore", "--data", dir, "--embedder", "none"}, extra...)
		if state != "" {
			args = append(args, "--state", state)
		}
		return run(ctx, append(args, file), &stdout, &stderr)
	}

	t.Run("refused", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "restored")
		for _, tt := range []struct {
			name  string
			state string
			args  []string
			code  string
			want  string
		}{
			{"into servers that hold the graph", servertest.PostgresURL(t), servers, fixgraph.ECONFLICT, "already holds a graph"},
			{"without --graph", pg, nil, fixgraph.EINVALID, "--graph"},
			{"without --state", "", servers, fixgraph.EINVALID, "--state"},
		} {
			err := restore(dir, tt.state, tt.args...)
			if fixgraph.CodeOf(err) != tt.code || !strings.Contains(message(err), tt.want) {
				t.Errorf("restore %s = %v; want %s saying %q", tt.name, err, tt.code, tt.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("restore %s made %s", tt.name, dir)
			}
		}
	})

	// Empty Neo4j and Weaviate; the state goes into a new schema. A state that is not empty is
	// refused before the graph is written.
	g, err := graph.OpenNeo4j(ctx, neo)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := search.OpenWeaviate(ctx, wv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	if err := restore(dir, pg, servers...); fixgraph.CodeOf(err) != fixgraph.ECONFLICT || !strings.Contains(message(err), "is not empty") {
		t.Errorf("restore into a state that holds data = %v; want a conflict", err)
	}
	if empty, err := g.Empty(ctx); err != nil || !empty {
		t.Errorf("a refused restore wrote into the graph (empty %v, %v)", empty, err)
	}

	pg2 := servertest.PostgresURL(t)
	out = MustRun(t, append(append([]string{"restore", "--data", dir, "--state", pg2, "--embedder", "none"}, servers...), file)...)
	t.Log(out)
	if !strings.Contains(out, "restored ") || !strings.Contains(out, "was rebuilt from the graph") {
		t.Errorf("restore printed %q", out)
	}
	r := open(dir, pg2)
	defer r.Close()
	sameAnswers(t, "restored servers", fixtureAnswers(t, r), want)
	if p, _, err := r.accounts.KeyPrincipal(key); err != nil || p == nil {
		t.Errorf("the API key made before the backup: %v", err)
	}
	if d, err := r.edits.Get(draftID); err != nil || d.Status != fixgraph.StatusDraft {
		t.Errorf("the draft made before the backup: %+v, %v", d, err)
	}

	// The restored audit chain, the restore's own entry on its end, verifies.
	var vout, verr bytes.Buffer
	if err := run(ctx, []string{"audit", "verify", "--data", dir, "--state", pg2}, &vout, &verr); err != nil || !strings.Contains(vout.String(), "chain intact") {
		t.Errorf("audit verify of the restored state: %v\n%s%s", err, vout.String(), verr.String())
	}

	// Restoring again, into the servers now holding the restored deployment, is refused.
	if err := restore(filepath.Join(t.TempDir(), "again"), servertest.PostgresURL(t), servers...); fixgraph.CodeOf(err) != fixgraph.ECONFLICT {
		t.Errorf("a second restore into the same Neo4j = %v; want a conflict", err)
	}
}
