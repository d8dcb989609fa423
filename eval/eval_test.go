package eval

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
)

func hit(heading string) fixgraph.Hit {
	return fixgraph.Hit{Section: &fixgraph.Section{Heading: heading}}
}

func TestLoadCSVAndJSONL(t *testing.T) {
	csv := "question_id,question,section_path,section_link,answer\n37,How can I turn on the GPS ?,Settings>Lock screen and security>Location,http://x,\"a, b\"\n"
	qs, err := Load(strings.NewReader(csv), "s10.csv")
	if err != nil || len(qs) != 1 || qs[0].Expect.Heading != "Location" || qs[0].ID != "37" || qs[0].Lang != "en" {
		t.Fatalf("CSV = %+v, %v", qs, err)
	}
	jsonl := `{"id":"m1","question":"E102怎么办","lang":"zh","kind":"code","variant":"plain","expect":{"code":"E102","product":"WF-8012D"}}` + "\n\n" +
		`{"id":"f1","question":"发票","lang":"zh","kind":"faq","variant":"plain","expect":{"heading":"发票怎么开？"}}`
	qs, err = Load(strings.NewReader(jsonl), "q.jsonl")
	if err != nil || len(qs) != 2 || qs[0].Expect.Code != "E102" {
		t.Fatalf("JSONL = %+v, %v", qs, err)
	}
	if _, err := Load(strings.NewReader(`{"id":"x","question":"no expectation"}`), "bad.jsonl"); fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad line: %v", err)
	}
	if !qs[1].Relevant(hit("发票怎么开?")) || !qs[0].Relevant(hit("E102 排水泵堵塞处理")) || qs[0].Relevant(hit("E1021")) {
		t.Error("relevance does not normalise or match codes as tokens")
	}
}

func TestRunScores(t *testing.T) {
	qs := []Question{{ID: "a", Lang: "en", Kind: "faq"}, {ID: "b", Lang: "en", Kind: "faq"}, {ID: "c", Lang: "zh", Kind: "manual"}}
	for i := range qs {
		qs[i].Question = qs[i].ID
		qs[i].Expect.Heading = "right"
	}
	// a: rank 1, b: rank 3, c: not found.
	ranked := map[string][]fixgraph.Hit{
		"a": {hit("right"), hit("x")},
		"b": {hit("x"), hit("y"), hit("right")},
		"c": {hit("x")},
	}
	rep, err := Run(context.Background(), func(_ context.Context, q string, _ int) ([]fixgraph.Hit, error) { return ranked[q], nil }, qs)
	if err != nil {
		t.Fatal(err)
	}
	want := Scores{N: 3, Recall1: round(1.0 / 3), Recall5: round(2.0 / 3), MRR10: round((1 + 1.0/3) / 3), NDCG10: round((1 + 1/math.Log2(4)) / 3)}
	if rep.Overall != want {
		t.Errorf("overall = %+v, want %+v", rep.Overall, want)
	}
	if g := rep.Groups["lang=en"]; g.N != 2 || g.Recall1 != 0.5 || g.Recall5 != 1 {
		t.Errorf("lang=en = %+v", g)
	}
	if len(rep.Misses) != 2 || rep.Misses[0].Rank != 3 || rep.Misses[1].Rank != 0 {
		t.Errorf("misses = %+v", rep.Misses)
	}
}
