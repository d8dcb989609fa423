package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/internal/servertest"
)

// replica is a fixgraph serve process of a cluster test.
type replica struct {
	name string
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	out  *syncBuffer
}

// startReplica starts `fixgraph serve` as a process with env on a data directory of its own and
// waits until it listens.
func startReplica(t *testing.T, name string, env []string, args ...string) *replica {
	t.Helper()
	dir := t.TempDir()
	cmd := fixgraphCommand(t, append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(cmd.Env, env...)
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("replica %s's output:\n%s", name, out.String())
		}
	})
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(filepath.Join(dir, serveAddrFile)); err == nil {
			return &replica{name: name, cmd: cmd, base: "http://" + strings.TrimSpace(string(b)), out: out}
		}
		select {
		case <-exited:
			t.Fatalf("replica %s stopped while starting:\n%s", name, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s did not start within 2 minutes:\n%s", name, out.String())
		}
	}
}

// gqlResult is a GraphQL response.
type gqlResult struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
	status int
}

func (r *replica) graphql(t *testing.T, key, query string, vars map[string]any, into any) gqlResult {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", r.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	return doGraphQL(t, req, into)
}

func doGraphQL(t *testing.T, req *http.Request, into any) gqlResult {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res gqlResult
	b, _ := io.ReadAll(resp.Body)
	res.status = resp.StatusCode
	json.Unmarshal(b, &res)
	if into != nil && len(res.Errors) == 0 && res.Data != nil {
		if err := json.Unmarshal(res.Data, into); err != nil {
			t.Fatalf("decoding %s: %v", b, err)
		}
	}
	return res
}

// must fails the test on a GraphQL error.
func (res gqlResult) must(t *testing.T, what string) {
	t.Helper()
	if res.status != http.StatusOK || len(res.Errors) > 0 {
		t.Fatalf("%s: status %d, errors %+v", what, res.status, res.Errors)
	}
}

// upload sends files to the upload mutation as a GraphQL multipart request.
func (r *replica) upload(t *testing.T, key, name string, data []byte) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("operations", `{"query":"mutation($f:[Upload!]!){ upload(files:$f){ id } }","variables":{"f":[null]}}`)
	mw.WriteField("map", `{"0":["variables.f.0"]}`)
	fw, _ := mw.CreateFormFile("0", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", r.base+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+key)
	var out struct{ Upload struct{ ID string } }
	doGraphQL(t, req, &out).must(t, "uploading "+name)
	return out.Upload.ID
}

type clusterJob struct {
	State     string
	Processed int
	Total     int
	Resumed   int
	Counts    struct{ Added, Updated, Unchanged, Failed int }
	Files     []struct{ Name, Outcome string }
}

func (r *replica) job(t *testing.T, key, id string) clusterJob {
	t.Helper()
	var out struct{ Job clusterJob }
	r.graphql(t, key, `query($id: ID!) { job(id: $id) { state processed total resumed counts { added updated unchanged failed } files(limit: 1000) { name outcome } } }`,
		map[string]any{"id": id}, &out).must(t, "reading job "+id)
	return out.Job
}

// manyDocs returns a zip archive of n small manuals, each with a word of its own.
func manyDocs(t *testing.T, n int, prefix string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range n {
		w, err := zw.Create(fmt.Sprintf("notes/%s-%03d.md", prefix, i))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "# Appliance %[1]d care notes\n\n## Cleaning appliance %[1]d\n\nWipe the seal of appliance %[1]d with a soft cloth (%[2]s), then run a hot cycle.\n", i, markerOf(i))
	}
	zw.Close()
	return buf.Bytes()
}

func hexKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestClusterOfTwoReplicas runs two fixgraph processes on the real servers (PostgreSQL for the
// shared state, Neo4j, Weaviate) as two replicas behind a load balancer would: what one of them
// records, the other sees; and a job whose replica is killed is finished by the other.
func TestClusterOfTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts fixgraph processes")
	}
	env := []string{
		"FIXGRAPH_STATE=" + servertest.PostgresURL(t),
		"FIXGRAPH_GRAPH=" + servertest.Neo4jURL(t),
		"FIXGRAPH_VECTORS=" + servertest.WeaviateURL(t),
		"FIXGRAPH_EMBEDDER=none",
		"FIXGRAPH_MFA_KEY=" + hexKey(),
		"FIXGRAPH_AUDIT_KEY=" + hexKey(),
		"FIXGRAPH_ADMIN_PASSWORD=cluster-admin-password",
	}
	a := startReplica(t, "A", env, "--job-lease", "2s", "--rate-limit", "0") // the test polls faster than a bot may
	admin := regexp.MustCompile(`fgk_[A-Za-z0-9_-]+`).FindString(a.out.String())
	if admin == "" {
		t.Fatalf("A's first start printed no admin key:\n%s", a.out.String())
	}
	b := startReplica(t, "B", env, "--job-lease", "2s", "--rate-limit", "0") // the test polls faster than a bot may
	if strings.Contains(b.out.String(), "fgk_") {
		t.Errorf("B printed another admin key on a shared state that has one:\n%s", b.out.String())
	}

	t.Run("a session made on A works on B", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm(a.base+"/editor/signin", url.Values{"name": {"admin"}, "password": {"cluster-admin-password"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		au, _ := url.Parse(a.base)
		bu, _ := url.Parse(b.base)
		jar.SetCookies(bu, jar.Cookies(au)) // one site behind a load balancer
		resp, err = c.Get(b.base + "/editor/")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/editor/" {
			t.Fatalf("B with A's session: %d at %s", resp.StatusCode, resp.Request.URL)
		}

		t.Run("a draft saved on A shows on B", func(t *testing.T) {
			csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
			if csrf == nil {
				t.Fatalf("no CSRF token on B's editor page")
			}
			question := "How do I descale the cluster test kettle?"
			resp, err := c.PostForm(a.base+"/editor/new?kind=faq", url.Values{"csrf": {string(csrf[1])}, "question": {question},
				"answer": {"Fill it with one part vinegar to two parts water and boil it twice."}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 400 {
				t.Fatalf("saving a draft on A: %d", resp.StatusCode)
			}
			id := fixgraph.HashID(fixgraph.PrefixFAQ, "editor", question)
			resp, err = c.Get(b.base + "/editor/edit?id=" + url.QueryEscape(id))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Contains(got, []byte("one part vinegar")) {
				t.Errorf("B's editor does not show the draft saved on A (%d)", resp.StatusCode)
			}
		})
	})

	t.Run("a key made on A answers on B and, revoked on B, is refused on A", func(t *testing.T) {
		var made struct {
			CreateAPIKey struct {
				Secret string
				Key    struct{ ID string }
			}
		}
		a.graphql(t, admin, `mutation { createAPIKey(name: "cluster bot", role: "reader") { secret key { id } } }`, nil, &made).must(t, "creating a key on A")
		bot := made.CreateAPIKey.Secret
		b.graphql(t, bot, `{ search(query: "E102", limit: 1) { heading } }`, nil, nil).must(t, "searching on B with A's key")
		b.graphql(t, admin, `mutation($id: ID!) { revokeAPIKey(id: $id) { id } }`, map[string]any{"id": made.CreateAPIKey.Key.ID}, nil).must(t, "revoking the key on B")
		revoked := time.Now()
		for {
			res := a.graphql(t, bot, `{ search(query: "E102", limit: 1) { heading } }`, nil, nil)
			if res.status == http.StatusUnauthorized {
				break
			}
			if time.Since(revoked) > time.Second {
				t.Fatalf("A still answers a key revoked on B a second ago: %d %+v", res.status, res.Errors)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("analytics count the asks of both", func(t *testing.T) {
		for i, r := range []*replica{a, b, a, b, b} {
			r.graphql(t, admin, `query($q: String!) { ask(question: $q) { confidence } }`, map[string]any{"q": fmt.Sprintf("洗衣机显示E102怎么办 %d", i)}, nil).must(t, "asking")
		}
		var series struct{ AskSeries []struct{ Count int } }
		a.graphql(t, admin, `{ askSeries { count } }`, nil, &series).must(t, "reading the ask series")
		total := 0
		for _, p := range series.AskSeries {
			total += p.Count
		}
		if total != 5 {
			t.Errorf("the analytics count %d asks; 5 were asked, on both replicas", total)
		}
	})

	t.Run("PostgreSQL down and back during asks and a job", func(t *testing.T) {
		const n = 60
		id := b.upload(t, admin, "outage.zip", manyDocs(t, n, "outage"))
		waitProcessed(t, b, admin, id, 3, n)
		servers(t, "pause", "postgres")
		down := time.Now()
		res := b.graphql(t, admin, `{ search(query: "E102", limit: 1) { heading } }`, nil, nil)
		if res.status != http.StatusServiceUnavailable || len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Message, "unavailable") {
			t.Errorf("a request while the shared state is down: %d %+v; want 503 saying it is unavailable", res.status, res.Errors)
		}
		time.Sleep(3 * time.Second)
		servers(t, "resume", "postgres")
		t.Logf("PostgreSQL was down for %v", time.Since(down).Round(time.Millisecond))
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if res := b.graphql(t, admin, `{ search(query: "E102", limit: 1) { heading } }`, nil, nil); res.status == http.StatusOK && len(res.Errors) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("requests still fail 30 s after PostgreSQL came back")
			}
		}
		checkJobOnce(t, b, admin, id, n, "outage", -1) // either replica may finish it
	})

	t.Run("Neo4j restarted in the middle of a job", func(t *testing.T) {
		const n = 40
		id := b.upload(t, admin, "restart.zip", manyDocs(t, n, "restart"))
		waitProcessed(t, b, admin, id, 3, n)
		servers(t, "restart", "neo4j")
		checkJobOnce(t, b, admin, id, n, "restart", -1)
	})

	t.Run("the audit chain holds events of both and verifies", func(t *testing.T) {
		state := strings.TrimPrefix(env[0], "FIXGRAPH_STATE=")
		t.Setenv("FIXGRAPH_AUDIT_KEY", strings.TrimPrefix(env[5], "FIXGRAPH_AUDIT_KEY="))
		MustRun(t, "audit", "verify", "--state", state, "--data", t.TempDir()) // fails the test unless the chain verifies
		export := MustRun(t, "audit", "export", "--state", state, "--data", t.TempDir())
		for _, r := range []*replica{a, b} {
			if want := fmt.Sprintf(`/%d"`, r.cmd.Process.Pid); !strings.Contains(export, want) {
				t.Errorf("no audit entry written by replica %s (pid %d)", r.name, r.cmd.Process.Pid)
			}
		}
	})

	t.Run("a job whose replica is killed is finished by the other", func(t *testing.T) {
		const n = 200
		id := a.upload(t, admin, "appliances.zip", manyDocs(t, n, "appliance"))
		waitProcessed(t, b, admin, id, 5, n)
		a.cmd.Process.Kill() // SIGKILL
		checkJobOnce(t, b, admin, id, n, "appliance", 1)
	})
}

// waitProcessed waits until the job has done at least k of its n files, and fails the test when
// it has done nearly all of them already: what comes next must happen in the middle of the job.
func waitProcessed(t *testing.T, r *replica, key, id string, k, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		j := r.job(t, key, id)
		if j.Processed >= k {
			if j.Processed >= n-n/10 {
				t.Fatalf("the job had done %d of %d files already", j.Processed, n)
			}
			return
		}
		if time.Now().After(deadline) || j.State == fixgraph.JobFailed {
			t.Fatalf("the job did not get going: %+v", j)
		}
	}
}

// checkJobOnce waits until the job is finished and checks that it is done with every one of its
// n files once, taken over resumed times (-1: any number), and that the graph holds each of its documents once.
func checkJobOnce(t *testing.T, r *replica, key, id string, n int, prefix string, resumed int) {
	t.Helper()
	var j clusterJob
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if j = r.job(t, key, id); j.State == fixgraph.JobDone || j.State == fixgraph.JobFailed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not finish within 3 minutes: %+v", j)
		}
	}
	if j.State != fixgraph.JobDone || j.Processed != n || j.Counts.Failed != 0 || j.Counts.Added+j.Counts.Unchanged != n || resumed >= 0 && j.Resumed != resumed {
		t.Fatalf("the job: %s, %d processed, resumed %d, counts %+v; want done, %d files, none failed, resumed %d", j.State, j.Processed, j.Resumed, j.Counts, n, resumed)
	}
	names := map[string]bool{}
	for _, f := range j.Files {
		names[f.Name] = true
	}
	if len(j.Files) != n || len(names) != n {
		t.Errorf("%d file outcomes of %d names; want %d, each once", len(j.Files), len(names), n)
	}
	ctx := context.Background()
	g, err := graph.OpenNeo4j(ctx, os.Getenv("FIXGRAPH_TEST_NEO4J"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	docs := 0
	err = g.Scan(ctx, fixgraph.PrefixDocument+":", func(nd fixgraph.Node) error {
		if d, ok := nd.(*fixgraph.Document); ok && strings.Contains(d.Source, "/"+prefix+"-") {
			docs++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if docs != n {
		t.Errorf("the graph holds %d of the job's documents; want %d, each once", docs, n)
	}
}

// servers runs scripts/servers.sh with args: to stop, start or restart one of the test servers.
func servers(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("../../scripts/servers.sh", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("servers.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestReplicaNeedsTheSharedGraph: a replica on shared state and a shared index but with a graph
// of its own is refused before it opens anything: syncing the shared index with its empty graph
// would drop every other replica's documents.
func TestReplicaNeedsTheSharedGraph(t *testing.T) {
	_, err := openApp(context.Background(), config{data: t.TempDir(), state: "postgres://x:y@127.0.0.1:1/none", vectors: "http://127.0.0.1:1", embedder: "none"}, slog.New(slog.DiscardHandler))
	if fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(fixgraph.MessageOf(err), "FIXGRAPH_GRAPH") {
		t.Errorf("a replica with its own graph: %v; want invalid, naming FIXGRAPH_GRAPH", err)
	}
}
