// Package servertest connects tests to the real servers that make test starts (scripts/servers.sh).
package servertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// Neo4jURL returns the address of the Bolt test server (FIXGRAPH_TEST_NEO4J, which make test sets)
// after deleting everything fixgraph keeps there, so each test starts from an empty graph. The
// test holds the server alone until it ends: go test runs packages in parallel processes, and
// they share the one server. Without the variable the test is skipped, unless CI is set: there
// a missing server fails.
func Neo4jURL(tb testing.TB) string {
	tb.Helper()
	addr, u := server(tb, "FIXGRAPH_TEST_NEO4J", "a Bolt server")
	lock(tb, "neo4j-"+u.Host)
	pass, _ := u.User.Password()
	user := u.User.Username()
	u.User = nil
	ctx := context.Background()
	d, err := neo4j.NewDriverWithContext(u.String(), neo4j.BasicAuth(user, pass, ""))
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close(ctx)
	for _, q := range []string{"MATCH (n:FGNode) DETACH DELETE n", "MATCH (n:FGContrib) DELETE n", "MATCH (n:FGMeta) DELETE n", "MATCH (n:FGRevision) DELETE n"} {
		if _, err := neo4j.ExecuteQuery(ctx, d, q, nil, neo4j.EagerResultTransformer); err != nil {
			tb.Fatalf("emptying the Bolt test server: %v", err)
		}
	}
	return addr
}

// server returns the address in the environment variable env and its parsed form. Without it
// the test is skipped, unless CI is set: there a missing server fails.
func server(tb testing.TB, env, what string) (string, *url.URL) {
	tb.Helper()
	addr := os.Getenv(env)
	if addr == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is not set: CI must run against %s (make test starts one)", env, what)
		}
		tb.Skipf("%s is not set (make test starts %s and sets it)", env, what)
	}
	u, err := url.Parse(addr)
	if err != nil {
		tb.Fatalf("%s: %v", env, err)
	}
	return addr, u
}

// lock takes an exclusive lock, across processes, on the named test server until the test ends.
func lock(tb testing.TB, name string) {
	tb.Helper()
	path := filepath.Join(os.TempDir(), "fixgraph-test-"+strings.NewReplacer(":", "_", "/", "_").Replace(name)+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		tb.Fatalf("locking %s: %v", path, err)
	}
	tb.Cleanup(func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// WeaviateURL returns the address of the Weaviate test server (FIXGRAPH_TEST_WEAVIATE, which make
// test sets) after deleting the classes fixgraph keeps there, holding the server alone until
// the test ends, as Neo4jURL does.
func WeaviateURL(tb testing.TB, classes ...string) string {
	tb.Helper()
	addr, u := server(tb, "FIXGRAPH_TEST_WEAVIATE", "Weaviate")
	lock(tb, "weaviate-"+u.Host)
	for _, c := range classes {
		req, _ := http.NewRequest(http.MethodDelete, u.Scheme+"://"+u.Host+"/v1/schema/"+c, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatalf("emptying the Weaviate test server: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotFound {
			tb.Fatalf("deleting class %s from the Weaviate test server: %s", c, resp.Status)
		}
	}
	return addr
}

// WeaviateClusterURLs returns the addresses of both nodes of the Weaviate test cluster
// (FIXGRAPH_TEST_WEAVIATE for node1, FIXGRAPH_TEST_WEAVIATE2 for node2) after deleting the given
// classes, holding the cluster alone until the test ends under the same lock as WeaviateURL, so
// a test calls one or the other. Without FIXGRAPH_TEST_WEAVIATE2 the test is skipped, unless CI
// is set.
func WeaviateClusterURLs(tb testing.TB, classes ...string) (node1, node2 string) {
	tb.Helper()
	node2, _ = server(tb, "FIXGRAPH_TEST_WEAVIATE2", "a second Weaviate node")
	return WeaviateURL(tb, classes...), node2
}

// PostgresURL returns the address of the PostgreSQL test server (FIXGRAPH_TEST_POSTGRES, which
// make test sets) with a schema of the test's own as its search path: the schema is made empty
// and dropped when the test ends, so tests in parallel processes never see each other's state.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	addr, u := server(tb, "FIXGRAPH_TEST_POSTGRES", "a PostgreSQL server")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, addr)
	if err != nil {
		tb.Fatalf("connecting to the PostgreSQL test server: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("creating a schema on the PostgreSQL test server: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), addr)
		if err != nil {
			tb.Errorf("dropping the test's schema: %v", err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("dropping the test's schema: %v", err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
