package ingest_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/ingest"
)

// mustJobs returns a job runner over fresh stores, with its state and spool in a temp dir.
func mustJobs(tb testing.TB, s *stores, dir string) *ingest.Jobs {
	tb.Helper()
	st, err := ingest.OpenState(filepath.Join(dir, "ingest.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return &ingest.Jobs{State: st, Pipeline: s.p, Spool: filepath.Join(dir, "spool")}
}

func mustUpload(tb testing.TB, js *ingest.Jobs, spec fixgraph.JobSpec, files map[string][]byte, order ...string) *fixgraph.Job {
	tb.Helper()
	up, err := js.NewUpload(spec)
	if err != nil {
		tb.Fatal(err)
	}
	for _, name := range order {
		if err := up.Add(name, bytes.NewReader(files[name])); err != nil && err != ingest.ErrTooLarge {
			tb.Fatal(err)
		}
	}
	j, err := up.Submit()
	if err != nil {
		tb.Fatal(err)
	}
	return j
}

func jobFiles(tb testing.TB, js *ingest.Jobs, id string) map[string]fixgraph.JobFile {
	tb.Helper()
	files, err := js.Files(context.Background(), id, "", 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]fixgraph.JobFile)
	for _, f := range files {
		out[f.Name] = f
	}
	return out
}

// TestUploadJobReportsEachFile: an upload of good files, bad files and an archive holding both
// finishes with one outcome per file, each failure naming its problem, the good files searchable,
// and the spool emptied.
func TestUploadJobReportsEachFile(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	dir := t.TempDir()
	js := mustJobs(t, s, dir)
	s.p.MaxFileSize = 1 << 20
	archive := mustZip(t,
		zipFile{name: "manuals/wf-8012d-zh.html", data: fixture(t, "manuals/wf-8012d-zh.html")},
		zipFile{name: "../escape.html", data: []byte("<h1>x</h1>")},
		zipFile{name: "nested.zip", data: []byte("PK")},
		zipFile{name: "notes.docx", data: []byte("not ours")},
	)
	files := map[string][]byte{
		"faq-general-zh.html": fixture(t, "faq/faq-general-zh.html"),
		"warranty-zh.pdf":     fixture(t, "policy/warranty-zh.pdf"),
		"broken.pdf":          fixture(t, "policy/warranty-zh.pdf")[:2048],
		"huge.html":           bytes.Repeat([]byte("<p>x</p>"), 200_000),
		"empty.csv":           nil,
		"bundle.zip":          archive,
	}
	job := mustUpload(t, js, fixgraph.JobSpec{Department: "support"}, files,
		"faq-general-zh.html", "warranty-zh.pdf", "broken.pdf", "huge.html", "empty.csv", "bundle.zip")
	if err := js.Process(ctx, job.ID, nil); err != nil {
		t.Fatal(err)
	}
	job, err := js.Get(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // file → outcome, or a part of its error
		"faq-general-zh.html":                 ingest.Added,
		"warranty-zh.pdf":                     ingest.Added,
		"broken.pdf":                          "PDF",
		"huge.html":                           "over the limit of 1048576 bytes",
		"empty.csv":                           "empty",
		"bundle.zip/manuals/wf-8012d-zh.html": ingest.Added,
		"bundle.zip/../escape.html":           "path traversal",
		"bundle.zip/nested.zip":               "nested archives",
		"bundle.zip/notes.docx":               "unsupported file type",
	}
	got := jobFiles(t, js, job.ID)
	if job.State != fixgraph.JobDone || job.Total != len(want) || job.Processed != len(want) || len(got) != len(want) {
		t.Fatalf("job %s: total %d, processed %d, %d file records; want done with %d", job.State, job.Total, job.Processed, len(got), len(want))
	}
	for name, w := range want {
		f, ok := got[name]
		switch {
		case !ok:
			t.Errorf("no outcome for %s (have %v)", name, got)
		case w == ingest.Added && f.Outcome != ingest.Added:
			t.Errorf("%s: %s %s", name, f.Outcome, f.Error)
		case w != ingest.Added && (f.Outcome != ingest.Failed || !strings.Contains(f.Error, w) || f.Code == ""):
			t.Errorf("%s: %s %q (code %q); want failed with %q", name, f.Outcome, f.Error, f.Code, w)
		}
	}
	if job.Counts.Added != 3 || job.Counts.Failed != 6 {
		t.Errorf("counts %+v; want 3 added, 6 failed", job.Counts)
	}
	if !s.searchHas(t, "E102 排水", "upload:support/manuals/wf-8012d-zh.html") {
		t.Error("the manual from the archive is not searchable under its upload name")
	}
	doc, err := s.Graph.Node(ctx, fixgraph.DocumentID("upload:support/faq-general-zh.html"))
	if err != nil || doc.(*fixgraph.Document).Department != "support" {
		t.Errorf("uploaded FAQ: %v, %v; want a document of department support", doc, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "spool", job.ID)); !os.IsNotExist(err) {
		t.Errorf("spool of a finished job is still there: %v", err)
	}
}

// TestReuploadMakesVersions: the same bytes again change nothing; a changed file of the same name
// becomes version 2, the old version's text leaves search and stays in the history.
func TestReuploadMakesVersions(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	v1 := fixture(t, "faq/faq-general-zh.html")
	run := func(data []byte) fixgraph.JobFile {
		t.Helper()
		j := mustUpload(t, js, fixgraph.JobSpec{Department: "support"}, map[string][]byte{"faq.html": data}, "faq.html")
		if err := js.Process(ctx, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		return jobFiles(t, js, j.ID)["faq.html"]
	}
	if f := run(v1); f.Outcome != ingest.Added || f.Version != 1 {
		t.Fatalf("first upload: %+v", f)
	}
	if f := run(v1); f.Outcome != ingest.Unchanged || f.Version != 1 {
		t.Fatalf("identical upload: %+v; want unchanged", f)
	}
	const marker = "取消后款项在1–3个工作日内原路退回"
	if !strings.Contains(string(v1), marker) {
		t.Fatalf("fixture lost the phrase %q the test changes", marker)
	}
	v2 := bytes.ReplaceAll(v1, []byte(marker), []byte("电池仓的防水圈需要每年更换"))
	if f := run(v2); f.Outcome != ingest.Updated || f.Version != 2 {
		t.Fatalf("changed upload: %+v; want updated to version 2", f)
	}
	src := "upload:support/faq.html"
	if s.servedText(t, marker) {
		t.Error("the superseded version's text is still served")
	}
	if !s.servedText(t, "电池仓的防水圈需要每年更换") {
		t.Error("the new version's text is not searchable")
	}
	h, err := s.Graph.History(ctx, fixgraph.DocumentID(src))
	if err != nil || len(h) != 1 || h[0].Document.Version != 1 {
		t.Fatalf("history = %v, %v; want version 1", h, err)
	}
	var old strings.Builder
	for _, sec := range h[0].Sections {
		old.WriteString(sec.Text)
	}
	if !strings.Contains(old.String(), marker) {
		t.Error("history's version 1 does not hold its old text")
	}
}

// TestJobResumesAfterRestart: a job stopped half way (its context cancelled, as a restart does)
// is resumed by the next runner, which skips the files already done and finishes the rest.
func TestJobResumesAfterRestart(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	dir := t.TempDir()
	js := mustJobs(t, s, dir)
	files := map[string][]byte{}
	var order []string
	for _, name := range []string{"manuals/wf-8012d-zh.html", "manuals/wf-8012d-en.html", "manuals/dw-6035-zh.html", "faq/faq-general-zh.html", "faq/faq-products-zh.html"} {
		files[filepath.Base(name)] = fixture(t, name)
		order = append(order, filepath.Base(name))
	}
	job := mustUpload(t, js, fixgraph.JobSpec{}, files, order...)
	stop, cancel := context.WithCancel(ctx)
	err := js.Process(stop, job.ID, func(j *fixgraph.Job, f fixgraph.JobFile) {
		if j.Processed == 2 {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("a cancelled job reported success")
	}
	half, _ := js.Get(ctx, job.ID)
	if half.State != fixgraph.JobRunning || half.Processed != 2 {
		t.Fatalf("after the stop: %s with %d processed; want running with 2", half.State, half.Processed)
	}
	// A new runner over the same state file, as after a restart.
	restarted := &ingest.Jobs{State: js.State, Pipeline: s.p, Spool: js.Spool}
	run, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go restarted.Run(run)
	for {
		j, err := restarted.Get(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Finished() {
			if j.State != fixgraph.JobDone || j.Processed != 5 || j.Resumed != 1 || j.Counts.Added != 5 {
				t.Fatalf("resumed job: %+v; want done, 5 processed and added, resumed once", j)
			}
			break
		}
		<-restarted.Changed()
	}
	if n := len(jobFiles(t, restarted, job.ID)); n != 5 {
		t.Errorf("%d file records; want 5 (none twice)", n)
	}
}

// TestUploadOfMissingSpoolIsReported: a job whose uploaded files vanished from the spool (a data
// directory cleaned by hand) reports each file, not a silent success.
func TestUploadOfMissingSpoolIsReported(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	job := mustUpload(t, js, fixgraph.JobSpec{}, map[string][]byte{"a.html": fixture(t, "manuals/wf-8012d-zh.html")}, "a.html")
	os.RemoveAll(filepath.Join(js.Spool, job.ID))
	if err := js.Process(ctx, job.ID, nil); err != nil {
		t.Fatal(err)
	}
	if f := jobFiles(t, js, job.ID)["a.html"]; f.Outcome != ingest.Failed || !strings.Contains(f.Error, "gone from the spool") {
		t.Errorf("file of a cleaned spool: %+v", f)
	}
}

// servedText reports whether a search for phrase returns a section whose text holds it.
func (s *stores) servedText(tb testing.TB, phrase string) bool {
	tb.Helper()
	hits, err := s.Text.Search(context.Background(), phrase, 20, fixgraph.SearchFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, h := range hits {
		n, err := s.Graph.Node(context.Background(), h.Section.ID)
		if err == nil && strings.Contains(n.(*fixgraph.Section).Text, phrase) {
			return true
		}
	}
	return false
}
