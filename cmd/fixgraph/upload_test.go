package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
)

// testServer runs the real wiring (openApp, the job runner, the HTTP handler) on a temp data dir,
// text search only, and returns its base URL and the app.
func testServer(t *testing.T) (string, *app) { return serveApp(t, nil) }

// serveApp is testServer with prepare, when not nil, run on the app before it serves (to load the
// fixtures, make accounts, put the gate in front).
func serveApp(t *testing.T, prepare func(context.Context, *app)) (string, *app) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := openApp(ctx, config{data: t.TempDir(), embedder: "none"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(ctx, a)
	}
	done := make(chan struct{})
	go func() { a.jobs.Run(ctx); close(done) }()
	srv := httptest.NewServer(a.handler(time.Minute))
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		a.Close()
	})
	return srv.URL, a
}

type jobReport struct {
	fixgraph.Job
	Files []fixgraph.JobFile `json:"files"`
}

// waitJob polls GET /jobs/ID, as a script would, until the job finishes.
func waitJob(t *testing.T, base, id string) jobReport {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/jobs/" + id)
		if err != nil {
			t.Fatal(err)
		}
		var r jobReport
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if r.Finished() {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %s did not finish", id)
	return jobReport{}
}

func postUpload(t *testing.T, url, contentType string, body io.Reader) (int, jobReport, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r jobReport
	if resp.StatusCode == http.StatusAccepted {
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("upload answered %s", raw)
		}
	}
	return resp.StatusCode, r, string(raw)
}

// generatedCorpus writes n documents into a zip archive: HTML manuals of made-up models, copies of
// the fixture policy PDFs (each its own file), CSV stock feeds, and every 20th one broken in a way
// of its kind. It returns the archive and, per entry, "" or the error it must get.
func generatedCorpus(t *testing.T, n int) ([]byte, map[string]string) {
	t.Helper()
	pdfs := [][]byte{mustRead(t, "../../fixtures/policy/warranty-zh.pdf"), mustRead(t, "../../fixtures/policy/returns-zh.pdf")}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	want := make(map[string]string, n)
	add := func(name string, data []byte, wantErr string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		want[name] = wantErr
	}
	for i := range n {
		broken := i%20 == 19
		switch i % 10 {
		case 0, 1, 2, 3, 4, 5:
			name := fmt.Sprintf("manuals/gx-%04d.html", i)
			if broken {
				add(name, []byte("   \n"), "empty")
				continue
			}
			add(name, generatedManual(i), "")
		case 6, 7:
			name := fmt.Sprintf("policy/policy-%04d.pdf", i)
			pdf := pdfs[i%2]
			if broken {
				add(name, pdf[:len(pdf)/3], "PDF")
				continue
			}
			// A creation time of the same length makes each copy its own file without moving
			// the offsets the cross-reference table holds.
			at := bytes.Index(pdf, []byte("/CreationDate (D:"))
			if at < 0 {
				t.Fatal("fixture PDF has no creation date to vary")
			}
			at += len("/CreationDate (D:") + 10
			c := bytes.Clone(pdf)
			copy(c[at:], fmt.Sprintf("%04d", i))
			add(name, c, "")
		default:
			name := fmt.Sprintf("stock/stock-%04d.csv", i)
			if broken {
				add(name, []byte("sku;qty\nDC31;x\n"), "header")
				continue
			}
			add(name, []byte(fmt.Sprintf("sku,warehouse,quantity,updated_at\nGX-P%04d,WH-%02d,%d,2026-11-20T08:00:00Z\n", i, i%7, i%50)), "")
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), want
}

func generatedManual(i int) []byte {
	model := fmt.Sprintf("GX-%04d", i)
	return []byte(fmt.Sprintf(`<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>%[1]s 洗衣机 使用说明书</title></head><body>
<h1>%[1]s 滚筒洗衣机 使用说明书</h1>
<h2>安装</h2><p>%[1]s 须水平放置，四脚着地。进水管接冷水龙头，排水管高度不超过 100 厘米。</p>
<h2>故障代码</h2>
<table><tr><th>代码</th><th>故障现象</th><th>处理方法</th></tr>
<tr><td>E%[2]d</td><td>排水超时：第 %[3]d 号排水泵堵塞</td><td>1. 断电。2. 清理排水泵过滤器。3. 重新启动。</td></tr>
<tr><td>F%[2]d</td><td>门锁异常</td><td>1. 关紧机门。2. 仍报警请联系售后。</td></tr></table>
<h2>保养</h2><p>每月清洁一次洗涤剂盒和门封，编号 %[3]d 的滤网每季度更换。</p>
</body></html>`, model, 100+i%800, i))
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBulkUpload sends 1,000 generated documents (HTML, PDF and CSV, one in twenty broken) as
// one zip over the plain HTTP endpoint and checks the job's report file by file. The heap is
// sampled while the job runs: the archive is read one entry at a time, so the peak stays near
// what one document costs, whatever the archive's size.
func TestBulkUpload(t *testing.T) {
	base, a := testServer(t)
	archive, want := generatedCorpus(t, 1000)
	if p := os.Getenv("FIXGRAPH_BULK_ZIP"); p != "" {
		// Keep the archive, to time `fixgraph ingest` on it with the real embedding model.
		if err := os.WriteFile(p, archive, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	start := time.Now()
	status, job, raw := postUpload(t, base+"/upload?name=bulk.zip&department=support", "application/zip", bytes.NewReader(archive))
	if status != http.StatusAccepted {
		t.Fatalf("upload answered %d: %s", status, raw)
	}
	rep := waitJob(t, base, job.ID)
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	if rep.State != fixgraph.JobDone || rep.Processed != 1000 || len(rep.Files) != 1000 {
		t.Fatalf("job %s: %d processed, %d file records; want done with 1000", rep.State, rep.Processed, len(rep.Files))
	}
	failed := 0
	for _, f := range rep.Files {
		name := strings.TrimPrefix(f.Name, "bulk.zip/")
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("report names a file not in the archive: %q", f.Name)
		case w == "" && f.Outcome != fixgraph.FileAdded:
			t.Errorf("%s: %s %s", name, f.Outcome, f.Error)
		case w != "" && (f.Outcome != fixgraph.FileFailed || !strings.Contains(f.Error, w)):
			t.Errorf("%s: %s %q; want failed with %q", name, f.Outcome, f.Error, w)
		}
		if f.Outcome == fixgraph.FileFailed {
			failed++
		}
	}
	if failed != 50 || rep.Counts.Failed != 50 || rep.Counts.Added != 950 {
		t.Errorf("counts %+v, %d failed records; want 950 added and 50 failed", rep.Counts, failed)
	}
	hits, err := a.index.Search(context.Background(), "GX-0420 排水泵堵塞", 5, fixgraph.SearchFilter{})
	if err != nil || len(hits) == 0 {
		t.Fatalf("search after the bulk upload: %v, %v", hits, err)
	}
	t.Logf("1,000 documents (%.1f MiB zip) in %s: %.1f documents/s; peak heap in use %.0f MiB",
		float64(len(archive))/(1<<20), elapsed.Round(time.Millisecond), 1000/elapsed.Seconds(), float64(peak.Load())/(1<<20))
	if p := peak.Load(); p > 512<<20 {
		t.Errorf("peak heap in use %d MiB: the upload is not streamed", p>>20)
	}
}

// zeros is an endless reader of zero bytes, counted: a huge upload that is never in memory.
type zeros struct{ n, limit int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n >= z.limit {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.limit-z.n)
	clear(p[:k])
	z.n += k
	return int(k), nil
}

// TestUploadLimits: a 2 GB file is refused with the limit in the error after reading just past
// it; an upload body over the request limit is refused whole with 413 and queues nothing; a zip
// bomb and a path-traversal entry are refused file by file; what was stored before is untouched.
func TestUploadLimits(t *testing.T) {
	base, a := testServer(t)
	ctx := context.Background()
	status, job, raw := postUpload(t, base+"/upload?name=manual.html", "text/html", bytes.NewReader(mustRead(t, "../../fixtures/manuals/wf-8012d-zh.html")))
	if status != http.StatusAccepted || waitJob(t, base, job.ID).Counts.Added != 1 {
		t.Fatalf("first upload: %d %s", status, raw)
	}

	big := &zeros{limit: 2 << 30}
	status, job, raw = postUpload(t, base+"/upload?name=huge.pdf", "application/pdf", big)
	if status != http.StatusAccepted {
		t.Fatalf("2 GB upload answered %d: %s", status, raw)
	}
	rep := waitJob(t, base, job.ID)
	if len(rep.Files) != 1 || rep.Files[0].Outcome != fixgraph.FileFailed || rep.Files[0].Code != fixgraph.ETOOLARGE ||
		!strings.Contains(rep.Files[0].Error, "over the limit of 67108864 bytes") {
		t.Errorf("2 GB file: %+v", rep.Files)
	}
	if big.n >= 1<<30 {
		t.Errorf("the server read %d bytes of a file it refuses at 64 MiB", big.n)
	}

	// Over the request limit: a multipart body whose archive passes --max-upload.
	a.jobs.MaxUploadSize = 8 << 20
	srv := httptest.NewServer(a.handler(time.Minute))
	defer srv.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, _ := mw.CreateFormFile("file", "big.zip")
		io.Copy(w, &zeros{limit: 64 << 20})
		mw.Close()
		pw.Close()
	}()
	status, _, raw = postUpload(t, srv.URL+"/upload", mw.FormDataContentType(), pr)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(raw, "over the limit of 8388608 bytes") {
		t.Errorf("upload over the request limit: %d %s", status, raw)
	}
	pr.CloseWithError(io.ErrClosedPipe)

	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("bomb.html")
	w.Write(make([]byte, 50<<20))
	w, _ = zw.Create("../../../etc/evil.html")
	w.Write([]byte("<h1>evil</h1>"))
	w, _ = zw.Create("faq.html")
	w.Write(mustRead(t, "../../fixtures/faq/faq-general-en.html"))
	zw.Close()
	var body bytes.Buffer
	mw = multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "bundle.zip")
	fw.Write(zbuf.Bytes())
	mw.Close()
	status, job, raw = postUpload(t, base+"/upload?department=support", mw.FormDataContentType(), &body)
	if status != http.StatusAccepted {
		t.Fatalf("zip upload answered %d: %s", status, raw)
	}
	rep = waitJob(t, base, job.ID)
	got := map[string]fixgraph.JobFile{}
	for _, f := range rep.Files {
		got[f.Name] = f
	}
	if f := got["bundle.zip/bomb.html"]; f.Outcome != fixgraph.FileFailed || !strings.Contains(f.Error, "zip bomb") {
		t.Errorf("zip bomb: %+v", f)
	}
	if f := got["bundle.zip/../../../etc/evil.html"]; f.Outcome != fixgraph.FileFailed || !strings.Contains(f.Error, "path traversal") {
		t.Errorf("path traversal: %+v", f)
	}
	if f := got["bundle.zip/faq.html"]; f.Outcome != fixgraph.FileAdded {
		t.Errorf("the good file beside them: %+v", f)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(a.dir), "etc")); err == nil {
		t.Error("a path-traversal entry was written outside the data directory")
	}
	// What was stored before is all still there.
	if _, err := a.graph.Node(ctx, fixgraph.DocumentID("upload:default/manual.html")); err != nil {
		t.Errorf("the first upload's document: %v", err)
	}
	hits, err := a.index.Search(ctx, "E102 排水", 5, fixgraph.SearchFilter{})
	if err != nil || len(hits) == 0 {
		t.Errorf("search after the refused uploads: %v, %v", hits, err)
	}
}

// TestUploadOverGraphQL sends files through the GraphQL multipart upload and follows the job
// through the job query.
func TestUploadOverGraphQL(t *testing.T) {
	base, _ := testServer(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("operations", `{"query":"mutation($f:[Upload!]!){ upload(files:$f, department:\"support\", visibility:\"internal\"){ id state department visibility } }","variables":{"f":[null,null]}}`)
	mw.WriteField("map", `{"0":["variables.f.0"],"1":["variables.f.1"]}`)
	fw, _ := mw.CreateFormFile("0", "faq-products-zh.html")
	fw.Write(mustRead(t, "../../fixtures/faq/faq-products-zh.html"))
	fw, _ = mw.CreateFormFile("1", "notes.odt")
	fw.Write([]byte("an OpenDocument text is not a format fixgraph reads"))
	mw.Close()
	resp, err := http.Post(base+"/graphql", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Data struct {
			Upload struct{ ID, State, Department, Visibility string }
		}
		Errors []struct{ Message string }
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if len(out.Errors) > 0 || out.Data.Upload.ID == "" || out.Data.Upload.Department != "support" || out.Data.Upload.Visibility != "internal" {
		t.Fatalf("upload mutation: %+v", out)
	}
	waitJob(t, base, out.Data.Upload.ID)
	q, _ := json.Marshal(map[string]any{
		"query":     `query($id: ID!) { job(id: $id) { state total processed counts { added failed } files { name outcome error code } } }`,
		"variables": map[string]string{"id": out.Data.Upload.ID},
	})
	resp, err = http.Post(base+"/graphql", "application/json", bytes.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	var jq struct {
		Data struct {
			Job struct {
				State            string
				Total, Processed int
				Counts           struct{ Added, Failed int }
				Files            []struct{ Name, Outcome, Error, Code string }
			}
		}
	}
	json.NewDecoder(resp.Body).Decode(&jq)
	resp.Body.Close()
	j := jq.Data.Job
	if j.State != "done" || j.Total != 2 || j.Counts.Added != 1 || j.Counts.Failed != 1 || len(j.Files) != 2 ||
		j.Files[1].Code != "unsupported" || !strings.Contains(j.Files[1].Error, `".odt"`) {
		t.Errorf("job query: %+v", j)
	}
}

// gqlPost runs a GraphQL request against base and decodes its data into out.
func gqlPost(t *testing.T, base, query string, vars map[string]any, out any) {
	t.Helper()
	if err := gqlPostErr(base, query, vars, out); err != nil {
		t.Fatal(err)
	}
}

// gqlPostErr runs a GraphQL request against base; its GraphQL errors, with their codes, come
// back as one error.
func gqlPostErr(base, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct {
			Message    string
			Extensions map[string]any
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return err
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("graphql errors: %+v", r.Errors)
	}
	return json.Unmarshal(r.Data, out)
}

// TestCrawlMutationAndHistory starts a crawl over GraphQL, changes a page and crawls again: the
// page's document is at version 2, and documentHistory holds version 1 with its old sections.
func TestCrawlMutationAndHistory(t *testing.T) {
	base, _ := serveApp(t, allowLoopbackCrawls)
	page := mustRead(t, "../../fixtures/manuals/wh-5020-en.html")
	var current atomic.Pointer[[]byte]
	current.Store(&page)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/help/wh-5020.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(*current.Load())
	}))
	defer site.Close()
	crawl := func() string {
		var out struct{ Crawl struct{ ID, State string } }
		gqlPost(t, base, `mutation($u: String!) { crawl(input: {seeds: [$u], rate: 50, department: "engineering"}) { id state } }`,
			map[string]any{"u": site.URL + "/help/wh-5020.html"}, &out)
		rep := waitJob(t, base, out.Crawl.ID)
		if rep.State != fixgraph.JobDone || rep.Department != "engineering" || rep.Crawled == nil {
			t.Fatalf("crawl job: %+v", rep.Job)
		}
		return rep.Files[0].Outcome
	}
	if got := crawl(); got != fixgraph.FileAdded {
		t.Fatalf("first crawl: %s", got)
	}
	changed := bytes.Replace(page, []byte("</body>"), []byte("<h2>Winter storage checklist</h2><p>Drain the tank before a frost.</p></body>"), 1)
	current.Store(&changed)
	if got := crawl(); got != fixgraph.FileUpdated {
		t.Fatalf("crawl after a change: %s", got)
	}
	id := fixgraph.DocumentID(site.URL + "/help/wh-5020.html")
	var h struct {
		Document        struct{ Version int }
		DocumentHistory []struct {
			Document  struct{ Version int }
			Sections  []struct{ Heading string }
			EndReason string
		}
	}
	gqlPost(t, base, `query($id: ID!) { document(id: $id) { version } documentHistory(id: $id) { document { version } sections { heading } endReason } }`,
		map[string]any{"id": id}, &h)
	if h.Document.Version != 2 || len(h.DocumentHistory) != 1 || h.DocumentHistory[0].Document.Version != 1 ||
		h.DocumentHistory[0].EndReason != fixgraph.Superseded || len(h.DocumentHistory[0].Sections) == 0 {
		t.Fatalf("document and history: %+v", h)
	}
	for _, s := range h.DocumentHistory[0].Sections {
		if s.Heading == "Winter storage checklist" {
			t.Errorf("version 1 in the history has the section version 2 added: %+v", h)
		}
	}
}

// TestLoadTest runs the load test briefly, text search only: every request gets through the gate
// with the test's reader key and is answered without error.
func TestLoadTest(t *testing.T) {
	out := MustRun(t, "loadtest", "--embedder", "none", "--clients", "4", "--duration", "2s", "--json")
	var rep loadReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("loadtest printed %q: %v", out, err)
	}
	if rep.Requests == 0 || rep.Errors != 0 || rep.Clients != 4 {
		t.Errorf("load test: %+v", rep)
	}
}
