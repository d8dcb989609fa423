package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/eval"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/search"
)

var quiet = slog.New(slog.DiscardHandler)

// mustOpenApp opens the embedded stores in dir with text search only.
func mustOpenApp(tb testing.TB, dir string) *app {
	tb.Helper()
	a, err := openApp(context.Background(), config{data: dir, embedder: "none"}, quiet)
	if err != nil {
		tb.Fatalf("opening %s: %v", dir, err)
	}
	return a
}

// fixtureAnswers asks every fixture question of the app and returns, per question, the kind of
// answer, its error code and its first citation.
func fixtureAnswers(tb testing.TB, a *app) []string {
	tb.Helper()
	f, err := fixtures.Eval.Open("eval/questions.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	qs, err := eval.Load(f, "questions.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	if len(qs) != 90 {
		tb.Fatalf("%d fixture questions, want 90", len(qs))
	}
	var out []string
	for _, q := range qs {
		ans, err := a.answers.Ask(context.Background(), q.Question)
		if err != nil {
			out = append(out, fmt.Sprintf("%s error %s", q.ID, fixgraph.CodeOf(err)))
			continue
		}
		code, cite := "", ""
		if ans.ErrorCode != nil {
			code = ans.ErrorCode.ID
		}
		if len(ans.Citations) > 0 {
			cite = ans.Citations[0].SectionID + " " + ans.Citations[0].URL
		}
		out = append(out, fmt.Sprintf("%s kind=%s code=%s cite=%s", q.ID, ans.Kind, code, cite))
	}
	return out
}

// restoredAnswers restores the backup into a new directory and returns the fixture answers there,
// checking that the text index was rebuilt from the graph.
func restoredAnswers(t *testing.T, backup string) []string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "restored")
	out := MustRun(t, "restore", "--data", dir, backup)
	if !strings.Contains(out, "restored ") || !strings.Contains(out, "text index was rebuilt") {
		t.Errorf("restore printed %q", out)
	}
	a := mustOpenApp(t, dir)
	defer a.Close()
	checkIndexed(t, a)
	return fixtureAnswers(t, a)
}

// checkIndexed checks that every document of the graph has its sections and that the text index
// holds its current version.
func checkIndexed(t *testing.T, a *app) (docs int) {
	t.Helper()
	ctx := context.Background()
	h := a.index.(*search.Hybrid)
	err := a.graph.Scan(ctx, fixgraph.PrefixDocument+":", func(n fixgraph.Node) error {
		d := n.(*fixgraph.Document)
		docs++
		secs, err := a.graph.Neighbors(ctx, []string{d.ID}, fixgraph.RelPartOf, fixgraph.In)
		if err != nil {
			return err
		}
		if len(secs[d.ID]) == 0 && d.Kind != fixgraph.KindStock {
			t.Errorf("document %s (%s) has no sections", d.ID, d.Source)
		}
		if ok, err := h.Holds(d); err != nil || !ok {
			t.Errorf("the text index does not hold %s (%s) at version %d: %v", d.ID, d.Source, d.Version, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func sameAnswers(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d answers, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: %s\n  want %s", what, got[i], want[i])
		}
	}
}

// TestBackupAndRestore backs up a data directory holding the demo corpus, offline and through a
// running server, restores each backup into a new directory, and asks the 90 fixture questions
// there: every answer is the one the original gave. Backups that are cut short or altered, and
// restores into a directory that holds something, are refused and leave nothing behind.
func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	orig := filepath.Join(t.TempDir(), "data")
	a := mustOpenApp(t, orig)
	if _, err := a.loadFixtures(ctx); err != nil {
		t.Fatal(err)
	}
	want := fixtureAnswers(t, a)
	readerKey, _, err := a.accounts.CreateKey("bot", fixgraph.RoleReader, "", 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	cited, codes := 0, 0
	for _, w := range want {
		if !strings.HasSuffix(w, "cite=") {
			cited++
		}
		if !strings.Contains(w, "code= ") {
			codes++
		}
	}
	if cited < 80 || codes < 20 {
		t.Fatalf("only %d of the fixture answers cite a section and %d name an error code:\n%s", cited, codes, strings.Join(want, "\n"))
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()

	t.Run("offline", func(t *testing.T) {
		file := filepath.Join(tmp, "offline.tar.gz")
		out := MustRun(t, "backup", "--data", orig, "--out", file)
		if !strings.Contains(out, "graph.db") || !strings.Contains(out, "ingest.db") || !strings.Contains(out, "auth.db") || strings.Contains(out, "server") {
			t.Errorf("backup printed %q", out)
		}
		sameAnswers(t, "restored offline backup", restoredAnswers(t, file), want)
	})

	t.Run("online", func(t *testing.T) {
		stop := startServe(t, orig)
		defer stop()
		file := filepath.Join(tmp, "online.tar")
		out := MustRun(t, "backup", "--data", orig, "--out", file)
		if !strings.Contains(out, "through the server at") {
			t.Errorf("backup of a served directory printed %q; want it to go through the server", out)
		}
		sameAnswers(t, "restored online backup", restoredAnswers(t, file), want)

		// Only an admin gets a backup: it holds every document and the accounts.
		addr, err := os.ReadFile(filepath.Join(orig, serveAddrFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			token string
			want  int
		}{{"", http.StatusUnauthorized}, {readerKey, http.StatusForbidden}} {
			req, _ := http.NewRequest(http.MethodGet, "http://"+strings.TrimSpace(string(addr))+backupPath, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("backup with token %q: %s, want %d", tt.token, resp.Status, tt.want)
			}
		}
	})

	// The audit log records both backups and the refused one.
	log, err := os.ReadFile(filepath.Join(orig, auditFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), `"action":"backup"`); n != 2 || !strings.Contains(string(log), `"action":"backup.refused"`) {
		t.Errorf("the audit log has %d backups and no refused one:\n%s", n, log)
	}

	good := filepath.Join(tmp, "good.tar")
	MustRun(t, "backup", "--data", orig, "--out", good)
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(tmp, "tampered.tar")
	if err := os.WriteFile(tampered, alterPart(t, raw, "graph.db"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, file, want string
		data             []byte
	}{
		{"truncated", "truncated.tar", "truncated", raw[:len(raw)/2]},
		{"truncated in the manifest", "short.tar", "truncated", raw[:700]},
		{"tampered", "tampered.tar", "does not match its checksum", nil},
		{"not a backup", "junk.tar", "", []byte("this is not a tar file at all, but it is long enough to look like one? no.")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(tmp, tt.file)
			if tt.data != nil {
				if err := os.WriteFile(file, tt.data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			parent := t.TempDir()
			dir := filepath.Join(parent, "restored")
			var stdout, stderr bytes.Buffer
			err := run(ctx, []string{"restore", "--data", dir, file}, &stdout, &stderr)
			if fixgraph.CodeOf(err) != fixgraph.EUNREADABLE || !strings.Contains(message(err), tt.want) {
				t.Fatalf("restore of a %s backup = %v; want unreadable, saying %q", tt.name, err, tt.want)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("a refused restore left %v behind", entries)
			}
		})
	}

	t.Run("target not empty", func(t *testing.T) {
		for name, setup := range map[string]func(dir string){
			"holds a graph": func(dir string) { copyDirFile(t, orig, dir, "graph.db") },
			"holds a file":  func(dir string) { os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600) },
		} {
			dir := t.TempDir()
			setup(dir)
			var stdout, stderr bytes.Buffer
			err := run(ctx, []string{"restore", "--data", dir, good}, &stdout, &stderr)
			if fixgraph.CodeOf(err) != fixgraph.ECONFLICT || !strings.Contains(message(err), "new or empty directory") {
				t.Errorf("restore into a directory that %s = %v; want a conflict", name, err)
			}
		}
		// An empty directory is fine.
		dir := t.TempDir()
		MustRun(t, "restore", "--data", dir, good)
	})
}

// alterPart returns the backup with one byte of the named part changed, its manifest untouched.
func alterPart(t *testing.T, backup []byte, name string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(backup))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	found := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == name {
			data[len(data)/2] ^= 0x55
			found = true
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	if !found {
		t.Fatalf("the backup has no %s", name)
	}
	return out.Bytes()
}

func copyDirFile(t *testing.T, from, to, name string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(from, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(to, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// startServe runs serve on dir on a free loopback port, with extra flags, until the returned
// function is called, and returns once the server has written its address into dir.
func startServe(t *testing.T, dir string, extra ...string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--embedder", "none"}, extra...), &out, &errOut)
	}()
	for {
		if _, err := os.Stat(filepath.Join(dir, serveAddrFile)); err == nil {
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve stopped: %v\n%s\n%s", err, out.String(), errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}
}

// TestBackupDuringWrites takes backups while documents are being ingested: each restored backup
// opens, holds at least the documents written before it started, and every document in it has
// all its sections and is in the rebuilt text index.
func TestBackupDuringWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := mustOpenApp(t, dir)
	defer a.Close()
	src := t.TempDir()
	const docs = 400
	files := writeCorpus(t, src, docs)

	written := make(chan int, docs)
	stop := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		for i, f := range files {
			select {
			case <-stop:
				writerDone <- nil
				return
			default:
			}
			data, err := os.ReadFile(f)
			if err != nil {
				writerDone <- err
				return
			}
			if r := a.pipeline.IngestFile(ctx, f, data); r.Err != nil {
				writerDone <- fmt.Errorf("ingesting %s: %w", f, r.Err)
				return
			}
			written <- i + 1
		}
		writerDone <- nil
	}()

	// n is how many documents the writer has committed; next waits for one more, at most
	// until timeout, and says whether one came.
	n := 0
	next := func(timeout <-chan time.Time) bool {
		select {
		case n = <-written:
			return true
		case err := <-writerDone:
			writerDone <- err // keep it for the end
			select {
			case n = <-written:
				return true
			default:
				return false
			}
		case <-timeout:
			return false
		}
	}
	var backups []string
	var before []int
	overlaps := 0
	for i := range 3 {
		for n < 10*(i+1) && next(nil) {
		}
		before = append(before, n)
		parts, err := a.backupParts()
		if err != nil {
			t.Fatal(err)
		}
		// Each part waits, in the middle of its copy, for the writer to commit another
		// document: the copy must not see it. A commit that must grow the file waits for the
		// copy's read transaction (bbolt remaps then), so the wait gives up after a while.
		for k := range parts {
			write := parts[k].write
			parts[k].write = func(w io.Writer) (int64, error) {
				return write(&midway{w: w, wait: func() {
					if next(time.After(2 * time.Second)) {
						overlaps++
					}
				}})
			}
		}
		file := filepath.Join(t.TempDir(), fmt.Sprintf("during-%d.tar", i))
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := writeBackup(ctx, parts, dir, f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		backups = append(backups, file)
	}
	close(stop)
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of the parts' copies saw the writer commit a document while they ran", overlaps)

	for i, file := range backups {
		restored := filepath.Join(t.TempDir(), "restored")
		MustRun(t, "restore", "--data", restored, file)
		r := mustOpenApp(t, restored)
		got := checkIndexed(t, r)
		err := r.graph.Scan(ctx, fixgraph.PrefixDocument+":", func(n fixgraph.Node) error {
			d := n.(*fixgraph.Document)
			secs, err := r.graph.Neighbors(ctx, []string{d.ID}, fixgraph.RelPartOf, fixgraph.In)
			if err == nil && len(secs[d.ID]) != sectionsPerDoc {
				t.Errorf("backup %d: document %s has %d sections, want %d", i, d.Source, len(secs[d.ID]), sectionsPerDoc)
			}
			return err
		})
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got < before[i] {
			t.Errorf("backup %d holds %d documents; %d were written before it started", i, got, before[i])
		}
		t.Logf("backup %d: %d documents (%d written before it started)", i, got, before[i])
	}
}

// sectionsPerDoc is how many sections each document of writeCorpus has.
const sectionsPerDoc = 3

// markerOf is a word that only document i of writeCorpus holds.
func markerOf(i int) string {
	b := []byte("qz")
	for k := 0; k < 4; k++ {
		b = append(b, byte('a'+i%26))
		i /= 26
	}
	return string(b)
}

// writeCorpus writes n small HTML documents into dir, manuals and FAQs in turn, each with
// sectionsPerDoc sections and a word of its own (markerOf), and returns their paths in the order
// ingest reads them.
func writeCorpus(t testing.TB, dir string, n int) []string {
	t.Helper()
	var files []string
	for i := range n {
		var page, name string
		m := markerOf(i)
		if i%2 == 0 {
			name = fmt.Sprintf("m%04d.html", i)
			page = fmt.Sprintf(`<html lang="en"><head><title>Manual %d</title></head><body>
<h1>Manual %d</h1><p>This manual covers appliance %d. Its reference word is %s.</p>
<h2>Cleaning %d</h2><p>Wipe the door seal of appliance %d with a soft cloth, then run a hot cycle.</p>
<h2>Storage %d</h2><p>Keep appliance %d dry and disconnected when it is not used for a month.</p>
</body></html>`, i, i, i, m, i, i, i, i)
		} else {
			name = fmt.Sprintf("f%04d.html", i)
			page = fmt.Sprintf(`<html lang="en"><head><title>FAQ %d</title></head><body><h1>FAQ %d</h1><dl>
<dt>How do I register appliance %d?</dt><dd>Register it online with the word %s and its serial number.</dd>
<dt>Where is the filter of appliance %d?</dt><dd>Behind the lower panel on the right.</dd>
<dt>How long is appliance %d covered?</dt><dd>Two years from the date of purchase.</dd>
</dl></body></html>`, i, i, i, m, i, i)
		}
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	slices.Sort(files)
	return files
}

// midway is a writer that calls wait once, after the first write.
type midway struct {
	w      io.Writer
	wait   func()
	waited bool
}

func (m *midway) Write(p []byte) (int, error) {
	n, err := m.w.Write(p)
	if !m.waited {
		m.waited = true
		m.wait()
	}
	return n, err
}

// TestBackupOfNothing refuses to back up a directory without a graph.
func TestBackupOfNothing(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"backup", "--data", t.TempDir(), "--out", filepath.Join(t.TempDir(), "b.tar")}, &stdout, &stderr)
	if fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("backup of an empty directory = %v", err)
	}
	for _, args := range [][]string{{"backup"}, {"backup", "--out", "x", "extra"}, {"restore"}, {"restore", "a", "b"}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, &stdout, &stderr); exitCode(err) != 2 {
			t.Errorf("fixgraph %v = %v; want a usage error", args, err)
		}
	}
}

// unitEmbedder gives every text the same unit vector: enough to fill a vector index.
type unitEmbedder struct{}

func (unitEmbedder) Dim() int { return 8 }

func (unitEmbedder) Embed(_ context.Context, texts []string, _ bool) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = []float32{1, 0, 0, 0, 0, 0, 0, 0}
	}
	return out, nil
}

// TestBackupKeepsVectorsWhenOff backs up, without an embedder, a directory whose vector index a
// run with one wrote: the vector file is copied as it is rather than left to be re-embedded.
func TestBackupKeepsVectorsWhenOff(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := mustOpenApp(t, dir)
	if _, err := a.loadFixtures(ctx); err != nil {
		t.Fatal(err)
	}
	a.Close()
	v, err := search.OpenVectors(filepath.Join(dir, "index"), unitEmbedder{})
	if err != nil {
		t.Fatal(err)
	}
	d := &fixgraph.Document{ID: "doc:x", Version: 1}
	secs := []*fixgraph.Section{{ID: "sec:a", DocumentID: d.ID, Text: "a"}, {ID: "sec:b", DocumentID: d.ID, Text: "b"}}
	if err := v.Update(ctx, d, secs, nil); err != nil {
		t.Fatal(err)
	}
	v.Close()

	file := filepath.Join(t.TempDir(), "b.tar")
	if out := MustRun(t, "backup", "--data", dir, "--out", file); !strings.Contains(out, "index/vectors.db") {
		t.Fatalf("backup printed %q; want the vector file in it", out)
	}
	restored := filepath.Join(t.TempDir(), "r")
	MustRun(t, "restore", "--data", restored, file)
	v, err = search.OpenVectors(filepath.Join(restored, "index"), unitEmbedder{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.Len() != 2 {
		t.Errorf("the restored vector index holds %d vectors, want 2", v.Len())
	}
}

// TestBackupCarriesTheAuditAnchor: a backup holds the audit log's checkpoint, taken with the copy
// of the log so the two agree, and the key file; the restored directory's log verifies against
// them, and cutting entries off its end is caught there as in the original.
func TestBackupCarriesTheAuditAnchor(t *testing.T) {
	orig := filepath.Join(t.TempDir(), "data")
	MustRun(t, "ingest", "--data", orig, "--embedder", "none", "../../fixtures/faq")
	MustRun(t, "keys", "create", "--data", orig, "--name", "bot", "--role", "reader")
	file := filepath.Join(t.TempDir(), "backup.tar.gz")
	MustRun(t, "backup", "--data", orig, "--out", file)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := readBackup(f, "")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if names := partNames(m); !strings.Contains(names, "audit.log") || !strings.Contains(names, "audit.checkpoint") || !strings.Contains(names, "audit.key") {
		t.Errorf("the backup holds %s; want the audit log with its checkpoint and key", names)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	MustRun(t, "restore", "--data", dir, file)
	if _, err := os.Stat(filepath.Join(dir, "audit.checkpoint")); err != nil {
		t.Fatalf("the restored directory has no checkpoint: %v", err)
	}
	if out, code := auditVerify(t, dir); code != 0 || !strings.Contains(out, "chain intact") {
		t.Fatalf("audit verify of the restored directory: exit %d\n%s", code, out)
	}
	path := filepath.Join(dir, "audit.log")
	log, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(log, []byte("\n"))
	n := len(lines) - 1
	if err := os.WriteFile(path, bytes.Join(lines[:n-1], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := auditVerify(t, dir); code != 1 || !strings.Contains(out, fmt.Sprintf("seq %d", n)) {
		t.Errorf("audit verify of the restored log without its last entry: exit %d\n%s", code, out)
	}
}
