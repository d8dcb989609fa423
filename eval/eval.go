// Package eval measures retrieval quality on a question set: Recall@1, Recall@5, MRR@10 and
// nDCG@10, overall, per language and per question kind. It reads fixgraph's own JSON-lines question
// sets and the E-Manual CSV format.
package eval

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// Question is one question with what counts as its answer.
type Question struct {
	ID       string `json:"id"`
	Question string `json:"question"`
	Lang     string `json:"lang"`
	Kind     string `json:"kind"`
	Variant  string `json:"variant"`
	Expect   Target `json:"expect"`
}

// Target says which sections answer a question. Heading or Code picks sections; Product and
// Source narrow them. Also lists other sections that answer the question as well (a FAQ entry
// and the manual section it repeats, say), judged the same way.
type Target struct {
	Code    string   `json:"code,omitempty"`    // an error code: a section whose heading names it
	Heading string   `json:"heading,omitempty"` // a section heading, compared after normalisation
	Product string   `json:"product,omitempty"` // a section about this model, or about no model
	Source  string   `json:"source,omitempty"`  // the file name its document came from
	Also    []Target `json:"also,omitempty"`
}

// Relevant reports whether a hit answers q.
func (q Question) Relevant(h fixgraph.Hit) bool {
	if q.Expect.matches(h) {
		return true
	}
	return slices.ContainsFunc(q.Expect.Also, func(t Target) bool { return t.matches(h) })
}

func (t Target) matches(h fixgraph.Hit) bool {
	heading := extract.Normalize(h.Section.Heading)
	switch {
	case t.Heading != "" && !strings.EqualFold(heading, extract.Normalize(t.Heading)):
		return false
	case t.Heading == "" && (t.Code == "" || !slices.Contains(extract.ErrorCodes(heading), t.Code)):
		return false
	case t.Product != "" && len(h.Section.Products) > 0 && !slices.Contains(h.Section.Products, t.Product):
		return false
	case t.Source != "" && (h.Document == nil || path.Base(h.Document.Source) != t.Source):
		return false
	}
	return true
}

// Load reads a question set: JSON lines, or the E-Manual CSV (question_id, question, section_path…),
// whose expected heading is the last element of section_path.
func Load(r io.Reader, name string) ([]Question, error) {
	if strings.HasSuffix(strings.ToLower(name), ".csv") {
		return loadCSV(r)
	}
	var out []Question
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var q Question
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "%s line %d: %v", name, line, err)
		}
		if q.Question == "" || q.Expect.Heading == "" && q.Expect.Code == "" {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "%s line %d: a question needs question and expect.heading or expect.code", name, line)
		}
		out = append(out, q)
	}
	return out, sc.Err()
}

func loadCSV(r io.Reader) ([]Question, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "question CSV has no header")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	qi, ok1 := col["question"]
	pi, ok2 := col["section_path"]
	if !ok1 || !ok2 {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "question CSV needs question and section_path columns")
	}
	var out []Question
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "reading question CSV")
		}
		path := strings.Split(rec[pi], ">")
		q := Question{Question: rec[qi], Lang: extract.DetectLanguage(rec[qi]), Kind: "manual", Variant: "real"}
		if i, ok := col["question_id"]; ok {
			q.ID = rec[i]
		}
		q.Expect.Heading = strings.TrimSpace(path[len(path)-1])
		out = append(out, q)
	}
}

// Searcher returns ranked hits for a query.
type Searcher func(ctx context.Context, q string, limit int) ([]fixgraph.Hit, error)

// Scores are the metrics of a group of questions.
type Scores struct {
	N       int     `json:"n"`
	Recall1 float64 `json:"recall@1"`
	Recall5 float64 `json:"recall@5"`
	MRR10   float64 `json:"mrr@10"`
	NDCG10  float64 `json:"ndcg@10"`
}

// Report holds the scores overall and per group, and the questions missed at rank 1.
type Report struct {
	Overall Scores            `json:"overall"`
	Groups  map[string]Scores `json:"groups"` // lang=zh, kind=faq, variant=typo…
	Misses  []Miss            `json:"misses"`
}

// Miss is a question whose first hit was not its answer.
type Miss struct {
	ID, Question, Expected, Got string
	Rank                        int // rank of the first relevant hit, 0 when not in the top 10
}

// Run asks every question and scores the ranks of the first relevant hit. With one relevant
// section per question, nDCG@10 is 1/log2(rank+1).
func Run(ctx context.Context, search Searcher, qs []Question) (*Report, error) {
	type acc struct {
		n, r1, r5 int
		mrr, ndcg float64
	}
	groups := map[string]*acc{}
	add := func(key string, rank int) {
		a := groups[key]
		if a == nil {
			a = &acc{}
			groups[key] = a
		}
		a.n++
		if rank == 1 {
			a.r1++
		}
		if rank >= 1 && rank <= 5 {
			a.r5++
		}
		if rank >= 1 {
			a.mrr += 1 / float64(rank)
			a.ndcg += 1 / math.Log2(float64(rank)+1)
		}
	}
	rep := &Report{Groups: map[string]Scores{}}
	for _, q := range qs {
		hits, err := search(ctx, q.Question, 10)
		if err != nil {
			return nil, fmt.Errorf("question %q: %w", q.ID, err)
		}
		rank := 0
		for i, h := range hits {
			if q.Relevant(h) {
				rank = i + 1
				break
			}
		}
		for _, k := range []string{"", "lang=" + q.Lang, "kind=" + q.Kind, "variant=" + q.Variant} {
			add(k, rank)
		}
		if rank != 1 {
			m := Miss{ID: q.ID, Question: q.Question, Expected: q.Expect.Heading + q.Expect.Code, Rank: rank}
			if len(hits) > 0 {
				m.Got = hits[0].Section.Heading
			}
			rep.Misses = append(rep.Misses, m)
		}
	}
	score := func(a *acc) Scores {
		n := float64(a.n)
		return Scores{N: a.n, Recall1: round(float64(a.r1) / n), Recall5: round(float64(a.r5) / n), MRR10: round(a.mrr / n), NDCG10: round(a.ndcg / n)}
	}
	for k, a := range groups {
		if k == "" {
			rep.Overall = score(a)
			continue
		}
		if !strings.HasSuffix(k, "=") {
			rep.Groups[k] = score(a)
		}
	}
	return rep, nil
}

func round(f float64) float64 { return math.Round(f*1000) / 1000 }

// Write prints the report as a table.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "%-20s %5s %9s %9s %8s %8s\n", "group", "n", "recall@1", "recall@5", "mrr@10", "ndcg@10")
	line := func(name string, s Scores) {
		fmt.Fprintf(w, "%-20s %5d %9.3f %9.3f %8.3f %8.3f\n", name, s.N, s.Recall1, s.Recall5, s.MRR10, s.NDCG10)
	}
	line("all", r.Overall)
	keys := make([]string, 0, len(r.Groups))
	for k := range r.Groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		line(k, r.Groups[k])
	}
}
