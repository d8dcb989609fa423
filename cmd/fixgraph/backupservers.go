package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/postgres"
	"github.com/fixgraph/fixgraph/search"
)

// A backup of the server-backed deployment is the same archive as the embedded one's, with the
// graph exported from Neo4j through the driver (neo4jPart: every node and edge, read as one state
// of the graph) instead of graph.db, and the shared state dumped from PostgreSQL (statePart:
// every table, in one snapshot) instead of the state stores' files. The vectors in Weaviate are
// not in it: they are derived from the graph, and restore rebuilds them (reindex). Stores the
// deployment keeps in the data directory (the state, when FIXGRAPH_STATE is unset; a text index
// beside a Neo4j graph) are backed up as the embedded backup does.
//
// fixgraph keeps no copy of the files it ingests once their job is done: what it made of them is
// in the graph (documents, sections, every ended version in their history), and uploads still
// waiting for their job are in the shared state's spool, so both are in the backup; the files
// themselves are not.

const (
	neo4jPart = "neo4j/graph.jsonl"
	statePart = "postgres/state.dump"
)

func neo4jBackupPart(g *graph.Neo4j) backupPart {
	return backupPart{name: neo4jPart, export: g.Export, role: "graph", from: "neo4j " + g.Server()}
}

func stateBackupPart(db *postgres.DB) backupPart {
	return backupPart{name: statePart, export: db.Dump, role: "state", from: "postgres " + db.Server()}
}

// weaviateBackupPart backs up nothing: it records in the manifest that the vectors were in
// Weaviate, and restore rebuilds them.
func weaviateBackupPart() backupPart {
	return backupPart{name: "weaviate", role: "vectors", from: "weaviate (not in the backup; restore rebuilds it)",
		write: func(io.Writer) (int64, error) { return 0, errSkipPart }}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// hasPart reports whether the backup holds the named part.
func hasPart(m *backupManifest, name string) bool {
	for _, p := range m.Parts {
		if p.Name == name {
			return true
		}
	}
	return false
}

// checkServerRestore checks, before anything is read or written, that the backup fits the
// stores restore was given: a Neo4j export needs --graph, a PostgreSQL dump --state, and an
// embedded backup neither.
func checkServerRestore(m *backupManifest, cfg config) error {
	switch {
	case hasPart(m, "graph.db") && (cfg.graph != "" || cfg.vectors != ""):
		return fixgraph.Errorf(fixgraph.EUNSUPPORTED, "this is a backup of the embedded graph (graph.db): restore it into a data directory; unset --graph and --vectors (FIXGRAPH_GRAPH, FIXGRAPH_VECTORS)")
	case hasPart(m, neo4jPart) && cfg.graph == "":
		return fixgraph.Errorf(fixgraph.EINVALID, "this is a backup of a Neo4j graph (from %s): restore it with --graph bolt://… (or FIXGRAPH_GRAPH) naming an empty Neo4j", m.Deployment["graph"])
	case hasPart(m, statePart) && cfg.state == "":
		return fixgraph.Errorf(fixgraph.EINVALID, "this backup holds the shared state of PostgreSQL (from %s): restore it with --state postgres://… (or FIXGRAPH_STATE) naming an empty database", m.Deployment["state"])
	case !hasPart(m, statePart) && cfg.state != "":
		return fixgraph.Errorf(fixgraph.EINVALID, "this backup holds the state as files of a data directory, not a PostgreSQL dump: restore it without --state (FIXGRAPH_STATE)")
	}
	return nil
}

// checkServersEmpty refuses a Neo4j, PostgreSQL or Weaviate that holds anything of fixgraph's.
func checkServersEmpty(ctx context.Context, cfg config) error {
	if cfg.graph != "" {
		g, err := graph.OpenNeo4j(ctx, cfg.graph)
		if err != nil {
			return err
		}
		empty, err := g.Empty(ctx)
		g.Close()
		if err != nil {
			return err
		}
		if !empty {
			return fixgraph.Errorf(fixgraph.ECONFLICT, "the graph server %s already holds a graph: restore into an empty Neo4j", g.Server())
		}
	}
	if cfg.state != "" {
		db, err := postgres.Open(ctx, cfg.state)
		if err != nil {
			return err
		}
		table, err := db.Holds(ctx)
		db.Close()
		if err != nil {
			return err
		}
		if table != "" {
			return fixgraph.Errorf(fixgraph.ECONFLICT, "the shared state %s already holds data (table %s is not empty): restore into an empty database or schema", db.Server(), table)
		}
	}
	if cfg.vectors != "" {
		if err := checkWeaviateEmpty(ctx, cfg.vectors); err != nil {
			return err
		}
	}
	return nil
}

// checkWeaviateEmpty refuses a Weaviate whose fixgraph classes hold an object.
func checkWeaviateEmpty(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fixgraph.Errorf(fixgraph.EINVALID, "search server address %q: want http://HOST:PORT", raw)
	}
	for _, class := range search.WeaviateClasses {
		q := url.Values{"class": {class}, "limit": {"1"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.Scheme+"://"+u.Host+"/v1/objects?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "search server %s cannot be reached", u.Host)
		}
		var body struct {
			Objects []json.RawMessage `json:"objects"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
		resp.Body.Close()
		// A class that does not exist is empty: Weaviate answers 404 or 422 for it.
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusUnprocessableEntity {
			continue
		}
		if resp.StatusCode != http.StatusOK || err != nil {
			return fixgraph.Errorf(fixgraph.EUNAVAILABLE, "search server %s: listing %s: %s", u.Host, class, resp.Status)
		}
		if len(body.Objects) > 0 {
			return fixgraph.Errorf(fixgraph.ECONFLICT, "the search server %s already holds an index (class %s): restore into an empty Weaviate", u.Host, class)
		}
	}
	return nil
}

// restoreServers imports the graph and the state of a server backup whose parts readBackup put
// under tmp, into servers checkServersEmpty found empty. A failure empties the graph again, so
// the servers are left as they were; the state is restored in one transaction, last.
func restoreServers(ctx context.Context, cfg config, m *backupManifest, tmp string) error {
	undo := func(err error) error { return err }
	if hasPart(m, neo4jPart) {
		g, err := graph.OpenNeo4j(ctx, cfg.graph)
		if err != nil {
			return err
		}
		defer g.Close()
		f, err := os.Open(filepath.Join(tmp, filepath.FromSlash(neo4jPart)))
		if err != nil {
			return err
		}
		err = g.Import(ctx, f)
		f.Close()
		undo = func(err error) error {
			if werr := g.Wipe(context.WithoutCancel(ctx)); werr != nil {
				return fixgraph.WrapError(fixgraph.CodeOf(err), err, "emptying the graph again failed too (%v): delete its FG nodes before another restore", werr)
			}
			return err
		}
		if fixgraph.CodeOf(err) == fixgraph.ECONFLICT {
			return err // someone wrote a graph since the check: leave it alone
		}
		if err != nil {
			return undo(fixgraph.WrapError(fixgraph.CodeOf(err), err, "importing the graph into %s", g.Server()))
		}
	}
	if hasPart(m, statePart) {
		db, err := postgres.Open(ctx, cfg.state)
		if err != nil {
			return undo(err)
		}
		defer db.Close()
		f, err := os.Open(filepath.Join(tmp, filepath.FromSlash(statePart)))
		if err != nil {
			return undo(err)
		}
		err = db.Restore(ctx, f)
		f.Close()
		if err != nil {
			return undo(fixgraph.WrapError(fixgraph.CodeOf(err), err, "restoring the shared state into %s", db.Server()))
		}
	}
	return nil
}

// runServerRestore restores a server backup whose parts readBackup checked and put under tmp:
// the graph into Neo4j, the state into PostgreSQL, the rest (the state's files when it was not
// on PostgreSQL, the audit log's copy) into the data directory dir; then it opens the app, which
// builds the search index from the graph (in Weaviate, or the data directory's).
func runServerRestore(ctx context.Context, cfg config, file string, m *backupManifest, tmp, dir string, stdout io.Writer, log *slog.Logger) error {
	if err := checkServersEmpty(ctx, cfg); err != nil {
		return err
	}
	if err := restoreServers(ctx, cfg, m, tmp); err != nil {
		return err
	}
	for _, p := range []string{neo4jPart, statePart} {
		os.Remove(filepath.Join(tmp, filepath.FromSlash(p)))
		os.Remove(filepath.Dir(filepath.Join(tmp, filepath.FromSlash(p))))
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := checkRestoreTarget(dir); err != nil {
		return err
	}
	os.Remove(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("moving the restored stores into %s: %w", dir, err)
	}
	reindex := "fixgraph reindex --data '" + dir + "'"
	if cfg.graph != "" {
		reindex += " --graph '" + redactURL(cfg.graph) + "'"
		if redactURL(cfg.graph) != cfg.graph {
			reindex += " (the graph's password for xxxxx)"
		}
	}
	if cfg.vectors != "" {
		reindex += " --vectors '" + cfg.vectors + "'"
	}
	cfg.data = dir
	start := time.Now()
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return fixgraph.WrapError(fixgraph.CodeOf(err), err, "the graph and the state are restored, but building the search index failed: run %s", reindex)
	}
	defer a.Close()
	docs := 0
	err = a.graph.Scan(ctx, fixgraph.PrefixDocument+":", func(fixgraph.Node) error { docs++; return nil })
	if err != nil {
		return err
	}
	a.auditAs(fixgraph.Local, "", "restore", file, map[string]string{"created": m.Created.Format(time.RFC3339), "documents": fmt.Sprint(docs)})
	var into []string
	if cfg.graph != "" {
		into = append(into, "the graph into "+redactURL(cfg.graph))
	}
	if cfg.state != "" {
		into = append(into, "the state into "+postgres.Redact(cfg.state))
	}
	index := "the text index in " + dir
	if cfg.vectors != "" {
		index = "the search index in " + cfg.vectors
	}
	fmt.Fprintf(stdout, "restored %d documents from the backup of %s (%s): %s; %s was rebuilt from the graph in %.1fs\n",
		docs, m.Created.Format(time.RFC3339), deploymentOf(m), strings.Join(into, ", "), index, time.Since(start).Seconds())
	if cfg.vectors != "" && a.embedder == nil {
		fmt.Fprintf(stdout, "the search index has no vectors (no embedder): to add them, run %s with the embedder the replicas use (--embedder, --models)\n", reindex)
	}
	return nil
}

// onServers reports whether any store of the backup came from a server.
func onServers(m *backupManifest) bool {
	for _, from := range m.Deployment {
		if from != "embedded" {
			return true
		}
	}
	return false
}

// deploymentOf describes where a backup's stores came from.
func deploymentOf(m *backupManifest) string {
	var s []string
	for _, role := range []string{"graph", "state", "vectors"} {
		if from := m.Deployment[role]; from != "" {
			s = append(s, role+" "+from)
		}
	}
	if len(s) == 0 {
		return "the embedded deployment"
	}
	return strings.Join(s, ", ")
}

// redactURL hides the password in a server address.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable address)"
	}
	return u.Redacted()
}
