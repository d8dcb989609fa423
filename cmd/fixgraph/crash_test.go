package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/internal/browser"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
	"github.com/fixgraph/fixgraph/search"
)

// runMainEnv makes the test binary run the fixgraph command itself, so tests can start fixgraph
// as a real process (and kill it) without building another binary.
const runMainEnv = "FIXGRAPH_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	browser.Shutdown() // the editor's end-to-end tests share one Chromium
	os.Exit(code)
}

// fixgraphCommand returns the fixgraph command with args as a process of the test binary.
func fixgraphCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	return cmd
}

// TestIngestSurvivesSIGKILL runs `fixgraph ingest --json` as a real process over 300 documents,
// kills it with SIGKILL after it reported k of them, and checks the data directory a second
// process opens: the stores open, every document reported before the kill is in the graph with
// its sections and found by its own word, the text index holds every document of the graph at
// its current version and nothing else, and ingesting again completes the rest. It does so for
// kills after 10, 100 and 200 files.
func TestIngestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts fixgraph processes")
	}
	const docs = 300
	src := t.TempDir()
	files := writeCorpus(t, src, docs)
	marker := make(map[string]string, docs) // file → its word
	for _, f := range files {
		var i int
		fmt.Sscanf(filepath.Base(f)[1:], "%d", &i)
		marker[f] = markerOf(i)
	}
	embedder := "none"
	if _, err := os.Stat(filepath.Join(fixgraphtest.ModelsDir(t), "bge-small-zh-v1.5", "vocab.txt")); err == nil {
		embedder = "onnx" // vectors too: their index must survive as well
		t.Setenv("FIXGRAPH_MODELS", fixgraphtest.ModelsDir(t))
	}
	for _, killAfter := range []int{10, 100, 200} {
		t.Run(fmt.Sprintf("kill after %d", killAfter), func(t *testing.T) {
			data := t.TempDir()
			reported := ingestAndKill(t, data, src, embedder, killAfter)
			var logged syncBuffer
			a, err := openApp(context.Background(), config{data: data, embedder: embedder, models: os.Getenv("FIXGRAPH_MODELS")}, slog.New(slog.NewTextHandler(&logged, nil)))
			if err != nil {
				t.Fatalf("the stores do not open after the kill: %v", err)
			}
			// Whether the kill fell between a graph write and its index write: opening
			// re-indexes the documents the index missed.
			t.Logf("killed after %d reported files; on opening: %s", len(reported), strings.TrimSpace(logged.String()))
			checkAfterCrash(t, a, reported, files, marker)
			a.Close()

			// Ingesting again adds what the killed process had not reported (or had written
			// but not reported yet) and leaves the rest unchanged.
			cmd := fixgraphCommand(t, "ingest", "--json", "--data", data, "--embedder", embedder, src)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("ingest after the kill: %v\n%s", err, stderrOf(err))
			}
			again := decodeJobFiles(t, string(out))
			if len(again) != docs {
				t.Fatalf("the second ingest reported %d files, want %d", len(again), docs)
			}
			extra := 0
			for _, f := range again {
				switch {
				case f.Outcome == ingestAdded && reported[f.Name]:
					t.Errorf("%s was added again after the kill", f.Name)
				case f.Outcome == ingestUnchanged && !reported[f.Name]:
					extra++ // written by the killed process after its last report
				case f.Outcome != ingestAdded && f.Outcome != ingestUnchanged:
					t.Errorf("%s: %s %s", f.Name, f.Outcome, f.Error)
				}
			}
			if extra > 1 {
				t.Errorf("%d files were written but not reported before the kill; at most the one in flight may be", extra)
			}
			a = mustOpenAppWith(t, data, embedder)
			all := make(map[string]bool, docs)
			for _, f := range files {
				all[f] = true
			}
			checkAfterCrash(t, a, all, files, marker)
			a.Close()
		})
	}
}

// ingest outcomes as JSON reports them.
const (
	ingestAdded     = "added"
	ingestUnchanged = "unchanged"
)

func mustOpenAppWith(t *testing.T, dir, embedder string) *app {
	t.Helper()
	a, err := openApp(context.Background(), config{data: dir, embedder: embedder, models: os.Getenv("FIXGRAPH_MODELS")}, quiet)
	if err != nil {
		t.Fatalf("opening %s: %v", dir, err)
	}
	return a
}

// ingestAndKill starts `fixgraph ingest --json` on src, reads its report line by line, and kills
// it with SIGKILL once it has reported killAfter files. It returns the files reported as added.
func ingestAndKill(t *testing.T, data, src, embedder string, killAfter int) map[string]bool {
	t.Helper()
	cmd := fixgraphCommand(t, "ingest", "--json", "--data", data, "--embedder", embedder, src)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported := make(map[string]bool)
	sc := bufio.NewScanner(stdout)
	n := 0
	for sc.Scan() {
		var f fixgraph.JobFile
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("ingest --json printed %q: %v", sc.Text(), err)
		}
		if f.Outcome != ingestAdded {
			t.Errorf("%s: %s %s", f.Name, f.Outcome, f.Error)
		}
		reported[f.Name] = true
		if n++; n == killAfter {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	err = cmd.Wait()
	if n < killAfter {
		t.Fatalf("ingest ended after %d files, before the kill: %v\n%s", n, err, stderr.String())
	}
	if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() || st.Signal() != syscall.SIGKILL {
		t.Fatalf("ingest was not killed: %v", err)
	}
	return reported
}

// checkAfterCrash checks the data directory of a that the documents of want are in the graph
// with all their sections and found by their own word, and that the text index holds exactly
// the graph's documents at their current versions.
func checkAfterCrash(t *testing.T, a *app, want map[string]bool, files []string, marker map[string]string) {
	t.Helper()
	ctx := context.Background()
	h := a.index.(*search.Hybrid)
	inGraph := make(map[string]*fixgraph.Document)
	err := a.graph.Scan(ctx, fixgraph.PrefixDocument+":", func(n fixgraph.Node) error {
		d := n.(*fixgraph.Document)
		inGraph[d.ID] = d
		secs, err := a.graph.Neighbors(ctx, []string{d.ID}, fixgraph.RelPartOf, fixgraph.In)
		if err != nil {
			return err
		}
		if len(secs[d.ID]) != sectionsPerDoc {
			t.Errorf("%s has %d sections in the graph, want %d", d.Source, len(secs[d.ID]), sectionsPerDoc)
		}
		if ok, err := h.Holds(d); err != nil || !ok {
			t.Errorf("the search index does not hold %s at version %d (%v)", d.Source, d.Version, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for f := range want {
		if inGraph[fixgraph.DocumentID(f)] == nil {
			t.Errorf("%s was reported before the kill but is not in the graph", f)
		}
	}
	// Every document's word, in the graph or not: a hit must be a section of the graph whose
	// document is there, and a document of the graph is found by its word.
	for _, f := range files {
		hits, err := a.index.Search(ctx, marker[f], 10, fixgraph.SearchFilter{})
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(hits))
		for i, hit := range hits {
			ids[i] = hit.Section.ID
		}
		nodes, err := a.graph.Nodes(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for i, n := range nodes {
			sec, ok := n.(*fixgraph.Section)
			if !ok {
				t.Errorf("search for %q found section %s, which the graph does not hold", marker[f], ids[i])
				continue
			}
			if inGraph[sec.DocumentID] == nil {
				t.Errorf("search for %q found section %s of document %s, which the graph does not hold", marker[f], sec.ID, sec.DocumentID)
			}
			found = found || sec.DocumentID == fixgraph.DocumentID(f)
		}
		if inGraph[fixgraph.DocumentID(f)] != nil && !found {
			t.Errorf("%s is in the graph but a search for its word %q does not find it", f, marker[f])
		}
	}
}

func decodeJobFiles(t *testing.T, out string) []fixgraph.JobFile {
	t.Helper()
	var files []fixgraph.JobFile
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f fixgraph.JobFile
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("ingest --json printed %q: %v", line, err)
		}
		files = append(files, f)
	}
	return files
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
