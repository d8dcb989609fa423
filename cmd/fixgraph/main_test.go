package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

// MustRun runs the fixgraph command with args and returns what it printed.
func MustRun(tb testing.TB, args ...string) string {
	tb.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		tb.Fatalf("fixgraph %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// withModels points the command at the embedding model that make models fetched.
func withModels(t *testing.T) {
	t.Helper()
	fixgraphtest.NeedModel(t, "bge-small-zh-v1.5")
	t.Setenv("FIXGRAPH_MODELS", fixgraphtest.ModelsDir(t))
}

// TestFilesToAnswer is the end-to-end path: ingest the fixture files from disk, then ask.
func TestFilesToAnswer(t *testing.T) {
	withModels(t)
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext is not installed (make deps installs it)")
	}
	dir := t.TempDir()
	out := MustRun(t, "ingest", "--data", dir, "../../fixtures/manuals", "../../fixtures/faq", "../../fixtures/policy", "../../fixtures/stock")
	if !strings.Contains(out, "15 files in") || !strings.Contains(out, "15 added") || !strings.Contains(out, " 0 failed (job") {
		t.Fatalf("ingest printed:\n%s", out)
	}
	again := MustRun(t, "ingest", "--data", dir, "../../fixtures/manuals")
	if !strings.Contains(again, " 0 added, 0 updated, 7 unchanged") {
		t.Errorf("re-ingest printed:\n%s", again)
	}

	var ans struct {
		Kind       string
		Confidence float64
		Product    struct{ Model string }
		ErrorCode  struct{ Code string }
		Guide      struct {
			Steps  []string
			Videos []struct{ URL string }
			Parts  []struct {
				SKU   string
				Stock []struct {
					Quantity  int
					Warehouse struct{ Code string }
				}
			}
		}
		Citations []struct{ URL string }
	}
	raw := MustRun(t, "ask", "--data", dir, "--json", "我的洗衣机显示E102怎么办")
	if err := json.Unmarshal([]byte(raw), &ans); err != nil {
		t.Fatalf("ask --json printed invalid JSON: %v\n%s", err, raw)
	}
	if ans.Kind != "troubleshoot" || ans.Product.Model != "WF-8012D" || ans.ErrorCode.Code != "E102" ||
		len(ans.Guide.Steps) == 0 || len(ans.Guide.Videos) == 0 || len(ans.Guide.Parts) == 0 ||
		len(ans.Guide.Parts[0].Stock) < 2 || len(ans.Citations) == 0 {
		t.Fatalf("ask --json = %s", raw)
	}

	var hits []struct {
		Document    struct{ Source string }
		Heading     string
		HeadingPath []string
		Score       float64
		Snippet     string
	}
	raw = MustRun(t, "search", "--data", dir, "--json", "--limit", "3", "保修期限")
	if err := json.Unmarshal([]byte(raw), &hits); err != nil || len(hits) == 0 || len(hits) > 3 {
		t.Fatalf("search --json = %s (%v)", raw, err)
	}
	if hits[0].Heading == "" || len(hits[0].HeadingPath) == 0 || hits[0].Score <= 0 || hits[0].Snippet == "" || hits[0].Document.Source == "" {
		t.Errorf("hit lacks fields: %+v", hits[0])
	}

	var rep struct {
		Overall struct {
			N       int     `json:"n"`
			Recall5 float64 `json:"recall@5"`
		}
	}
	raw = MustRun(t, "eval", "--data", dir, "--json")
	if err := json.Unmarshal([]byte(raw), &rep); err != nil || rep.Overall.N < 60 || rep.Overall.Recall5 < 0.5 {
		t.Errorf("eval --json = %s (%v)", raw, err)
	}

	var handoff struct {
		N               int     `json:"n"`
		DangerRecall    float64 `json:"dangerRecall"`
		ComplaintRecall float64 `json:"complaintRecall"`
	}
	raw = MustRun(t, "eval", "--data", dir, "--handoff", "--mode", "bm25", "--json")
	if err := json.Unmarshal([]byte(raw), &handoff); err != nil || handoff.N < 150 || handoff.DangerRecall < 0.98 || handoff.ComplaintRecall < 0.98 {
		t.Errorf("eval --handoff --json = %s (%v)", raw, err)
	}

	text := MustRun(t, "ask", "--data", dir, "My dishwasher shows F21")
	for _, want := range []string{"F21", "DW-6035", "Video:", "Part:", "Confidence:"} {
		if !strings.Contains(text, want) {
			t.Errorf("ask printed no %q:\n%s", want, text)
		}
	}
}

func TestIngestReportsFailuresWithExitStatus(t *testing.T) {
	withModels(t)
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"ingest", "--data", dir, "../../ingest/testdata/broken.pdf", "../../fixtures/faq/faq-general-en.html"}, &out, &errOut)
	if exitCode(err) != 1 || !strings.Contains(out.String(), "failed") || !strings.Contains(out.String(), "not a readable PDF") || !strings.Contains(out.String(), "2 files in") || !strings.Contains(out.String(), " 1 failed (job") {
		t.Fatalf("err %v, output:\n%s", err, out.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"ask"}, {"ingest"}, {"search", "--limit"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); exitCode(err) != 2 || errOut.Len() == 0 {
			t.Errorf("fixgraph %v: err %v, stderr %q; want exit 2 with a usage message", args, err, errOut.String())
		}
	}
}

// syncBuffer is a buffer the server goroutine writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServe starts the real server on a free loopback port with an empty data directory: it loads
// the demo corpus, answers GraphQL over HTTP, serves GraphiQL, and stops on cancel.
func TestServe(t *testing.T) {
	withModels(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	dataDir := t.TempDir()
	go func() { done <- run(ctx, []string{"serve", "--data", dataDir, "--addr", "127.0.0.1:0"}, &out, &errOut) }()

	var base string
	for deadline := time.Now().Add(30 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "GraphQL at "); ok {
				base = strings.TrimSuffix(strings.Fields(rest)[0], "/graphql")
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, errOut.String())
		default:
		}
	}
	if base == "" {
		t.Fatalf("serve did not start:\n%s\n%s", out.String(), errOut.String())
	}

	// The first start printed an admin key, once; without a key the API answers 401.
	key := regexp.MustCompile(`fgk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}`).FindString(out.String())
	if key == "" {
		t.Fatalf("serve printed no admin key:\n%s", out.String())
	}
	post := func(body string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		return http.DefaultClient.Do(req)
	}
	body := `{"query":"{ troubleshoot(code: \"E102\") { product { model } guides { steps videos { url } parts { sku stock { quantity warehouse { code } } } } } }"}`
	resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a request without a key answered %d; want 401", resp.StatusCode)
	}
	resp, err = post(body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "WF-8012D") || !strings.Contains(string(b), "DC31-00178A") || !strings.Contains(string(b), "WH-SH01") {
		t.Fatalf("troubleshoot over HTTP: %d %s", resp.StatusCode, b)
	}

	resp, err = post(`{"query":"{ troubleshoot(code: "}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"errors"`) {
		t.Errorf("malformed query answered %s", b)
	}

	// While the server holds the data directory, the command line asks through it.
	var ans struct{ ErrorCode struct{ Code string } }
	raw := MustRun(t, "ask", "--data", dataDir, "--json", "洗碗机显示F21")
	if err := json.Unmarshal([]byte(raw), &ans); err != nil || ans.ErrorCode.Code != "F21" {
		t.Errorf("ask while serving = %s (%v)", raw, err)
	}

	resp, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(string(b)), "graphiql") {
		t.Errorf("GraphiQL page: %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v on shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestMissingModelIsAClearError(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"ask", "--data", t.TempDir(), "--models", t.TempDir(), "E102"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "make models") || !strings.Contains(err.Error(), "--embedder none") {
		t.Fatalf("err = %v; want a message saying how to get the model", err)
	}
	MustRun(t, "ask", "--data", t.TempDir(), "--embedder", "none", "E102") // text search needs no model
}

// TestBench runs a small bench end to end: a generated corpus, latency over loopback HTTP, and a
// report whose every request succeeded.
func TestBench(t *testing.T) {
	out := MustRun(t, "bench", "--embedder", "none", "--sections", "300", "--manual-pages", "20", "--ocr=false", "--clients", "1,4", "--requests", "20", "--json")
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("bench --json printed %q: %v", out, err)
	}
	if len(rep.Ingest) != 2 || rep.Ingest[1].Sections < 300 || rep.Ingest[0].Pages == 0 {
		t.Errorf("ingest = %+v; want the fixtures and 300 generated sections", rep.Ingest)
	}
	if m := rep.Manual; m == nil || m.Pages < 20 || m.Codes == 0 || m.PagesPerSec <= 0 {
		t.Errorf("manual = %+v; want a PDF of 20 pages or more read with its codes", rep.Manual)
	}
	if len(rep.Latency) != 2*2*2 { // corpora × operations × client counts
		t.Fatalf("latency rows = %d", len(rep.Latency))
	}
	for _, l := range rep.Latency {
		if l.Errors != 0 || l.Requests < 20 || l.P50 <= 0 || l.P99 < l.P50 {
			t.Errorf("latency row %+v", l)
		}
	}
}

// TestReindex drops the search index and builds it again from the graph alone.
func TestReindex(t *testing.T) {
	dir := t.TempDir()
	MustRun(t, "ingest", "--data", dir, "--embedder", "none", "../../fixtures/faq", "../../fixtures/manuals")
	before := MustRun(t, "search", "--data", dir, "--embedder", "none", "--json", "--limit", "3", "排水泵过滤器")
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "index", "text.bleve"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A broken index (here: an empty bleve directory) is no obstacle: reindex removes it.
	out := MustRun(t, "reindex", "--data", dir, "--embedder", "none")
	if !strings.Contains(out, "reindexed 11 documents") {
		t.Fatalf("reindex printed %q", out)
	}
	if after := MustRun(t, "search", "--data", dir, "--embedder", "none", "--json", "--limit", "3", "排水泵过滤器"); after != before {
		t.Errorf("search after reindex:\n%s\nbefore:\n%s", after, before)
	}

	// A data directory held by another process is left alone.
	g, err := graph.OpenBolt(filepath.Join(dir, "graph.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"reindex", "--data", dir, "--embedder", "none"}, &stdout, &stderr)
	if fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE {
		t.Fatalf("reindex of a locked directory = %v, want unavailable", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "index", "text.bleve")); err != nil {
		t.Errorf("the index of a locked directory was touched: %v", err)
	}
}
