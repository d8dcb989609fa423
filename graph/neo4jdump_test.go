package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
)

var everyRel = []fixgraph.Rel{fixgraph.RelHasError, fixgraph.RelFixedBy, fixgraph.RelNeedsPart, fixgraph.RelStockedAt,
	fixgraph.RelHasVideo, fixgraph.RelPartOf, fixgraph.RelMentions, fixgraph.RelAbout, fixgraph.RelFitsIn,
	fixgraph.RelDescribes, fixgraph.RelManualFor, fixgraph.RelHasClause}

// graphState reads everything the store answers through its read methods: every node, every
// owner's contribution to it, its edges of every relation with their owners, and every document's
// history.
func graphState(t *testing.T, s store) string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	var out strings.Builder
	err := s.Scan(ctx, "", func(n fixgraph.Node) error {
		ids = append(ids, n.NodeID())
		v, err := json.Marshal(n)
		fmt.Fprintf(&out, "node %s %s\n", n.NodeID(), v)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := s.Contributions(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		for _, c := range cs[id] {
			fmt.Fprintf(&out, "contrib %s %s %s\n", id, c.Owner, c.Data)
		}
		for _, rel := range everyRel {
			links, err := s.Links(ctx, []string{id}, rel, fixgraph.Out)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range links[id] {
				fmt.Fprintf(&out, "edge %s %s %s %s\n", id, rel, l.Other, l.Owner)
			}
		}
		if fixgraph.KindOf(id) == fixgraph.PrefixDocument {
			h, err := s.History(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range h {
				v, _ := json.Marshal(r)
				fmt.Fprintf(&out, "revision %s %d %s\n", id, r.Document.Version, v)
			}
		}
	}
	gen, err := s.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&out, "generation %d\n", gen)
	return out.String()
}

// TestNeo4jExportImport exports a graph with shared nodes, pushed stock, ended versions and a
// removed document, empties the server, imports the export and reads the same graph back; an
// import into a graph that is not empty, or of an export cut short, is refused.
func TestNeo4jExportImport(t *testing.T) {
	ctx := context.Background()
	s := MustOpenNeo4j(t)
	for _, b := range []*fixgraph.Batch{
		manualBatch("a.html", "h1", "不排水"),
		manualBatch("a.html", "h2", "排水慢"),
		manualBatch("b.html", "h1", "排水泵堵塞"),
		manualBatch("c.html", "h1", "门锁故障"),
	} {
		if _, err := s.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetStock(ctx, []*fixgraph.StockLevel{{SKU: "DC31-00178A", Warehouse: "SH01", Quantity: 7}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(ctx, fixgraph.DocumentID("c.html")); err != nil {
		t.Fatal(err)
	}
	want := graphState(t, s)
	if !strings.Contains(want, "revision doc:") || !strings.Contains(want, "edge ") || !strings.Contains(want, "generation 6") {
		t.Fatalf("the test graph lacks revisions, edges or writes:\n%s", want)
	}
	var export bytes.Buffer
	if err := s.Export(ctx, &export); err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{`"FGNode"`, `"FGContrib"`, `"FGRevision"`, `"FGMeta"`, `{"edge":`} {
		if !strings.Contains(export.String(), label) {
			t.Errorf("the export has no %s", label)
		}
	}

	if err := s.Import(ctx, bytes.NewReader(export.Bytes())); fixgraph.CodeOf(err) != fixgraph.ECONFLICT {
		t.Errorf("import into a graph that is not empty = %v; want a conflict", err)
	}
	if got := graphState(t, s); got != want {
		t.Errorf("a refused import changed the graph:\n%s\nwant\n%s", got, want)
	}

	if err := s.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Fatalf("after Wipe, Empty = %v, %v", empty, err)
	}
	lines := bytes.SplitAfter(export.Bytes(), []byte("\n"))
	for name, data := range map[string][]byte{
		"cut short":     bytes.Join(lines[:len(lines)/2], nil),
		"no end":        bytes.Join(lines[:len(lines)-2], nil),
		"not JSON":      []byte("{\"export\":\"fixgraph-neo4j\",\"version\":1}\n{\"node\":"),
		"not export":    []byte(`{"export":"something else","version":1}`),
		"bad label":     []byte("{\"export\":\"fixgraph-neo4j\",\"version\":1}\n{\"node\":{\"labels\":[\"FGNode) DETACH DELETE (x\"],\"props\":{}}}\n"),
		"dangling edge": []byte("{\"export\":\"fixgraph-neo4j\",\"version\":1}\n{\"edge\":{\"from\":\"a:1\",\"to\":\"b:2\",\"props\":{}}}\n{\"end\":{\"nodes\":0,\"edges\":1}}\n"),
	} {
		if err := s.Import(ctx, bytes.NewReader(data)); fixgraph.CodeOf(err) != fixgraph.EUNREADABLE {
			t.Errorf("import of an export %s = %v; want it unreadable", name, err)
		}
		if err := s.Wipe(ctx); err != nil {
			t.Fatal(err)
		}
	}

	if err := s.Import(ctx, bytes.NewReader(export.Bytes())); err != nil {
		t.Fatal(err)
	}
	got := graphState(t, s)
	if got != want {
		t.Errorf("the imported graph differs:\n%s\nwant\n%s", got, want)
	}
	// Integers stay integers: the generation counts on from where it was.
	if _, err := s.Apply(ctx, manualBatch("d.html", "h1", "显示E102")); err != nil {
		t.Fatal(err)
	}
	if gen, err := s.Generation(ctx); err != nil || gen != 7 {
		t.Errorf("after the import and one write the generation is %d, %v; want 7", gen, err)
	}
	var again bytes.Buffer
	if err := s.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Import(ctx, bytes.NewReader(export.Bytes())); err != nil {
		t.Fatal(err)
	}
	if err := s.Export(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if a, b := sortedLines(export.String()), sortedLines(again.String()); !slices.Equal(a, b) {
		t.Errorf("exporting the imported graph gives another export:\n%s\nwant\n%s", strings.Join(b, "\n"), strings.Join(a, "\n"))
	}
}

func sortedLines(s string) []string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(l)
	return l
}

// TestNeo4jExportDuringWrites exports the graph while documents are being written: each export
// is one state of the graph, holding as many documents as writes it counts, each with both its
// sections; the last export holds the writers off from the start, as Export does after its tries.
func TestNeo4jExportDuringWrites(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := MustOpenNeo4j(t)
	done := make(chan error, 1)
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			if _, err := s.Apply(ctx, manualBatch(fmt.Sprintf("w%04d.html", i), "h", fmt.Sprintf("故障%d", i))); err != nil && ctx.Err() == nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var last int64
	defer func(n int) { exportTries = n }(exportTries)
	for i := range 3 {
		if i == 2 {
			exportTries = 0
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			gen, err := s.Generation(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if int64(gen) >= last+5 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the writer wrote nothing for 20 s (generation %d)", gen)
			}
		}
		var export bytes.Buffer
		if err := s.Export(ctx, &export); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(export.String(), "exportLock") {
			t.Errorf("the export holds the lock's property")
		}
		var h exportHeader
		docs, partOf := 0, map[string]int{}
		for i, line := range strings.Split(strings.TrimSpace(export.String()), "\n") {
			if i == 0 {
				if err := json.Unmarshal([]byte(line), &h); err != nil {
					t.Fatal(err)
				}
				continue
			}
			var l exportLine
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatal(err)
			}
			if l.Node != nil && l.Node.Props["kind"] == fixgraph.PrefixDocument {
				docs++
			}
			if l.Edge != nil && l.Edge.Props["rel"] == string(fixgraph.RelPartOf) {
				partOf[l.Edge.To]++
			}
		}
		if int64(docs) != h.Generation {
			t.Errorf("an export at generation %d holds %d documents", h.Generation, docs)
		}
		for doc, n := range partOf {
			if n != 2 {
				t.Errorf("an export at generation %d holds %d sections of %s, want 2", h.Generation, n, doc)
			}
		}
		t.Logf("an export at generation %d: %d documents", h.Generation, docs)
		last = h.Generation
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
