package answer

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// Graph is what answers read from the knowledge graph.
type Graph interface {
	Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error)
	Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error)
	ErrorCodes(ctx context.Context, code string) ([]*fixgraph.ErrorCode, error)
	Scan(ctx context.Context, prefix string, fn func(fixgraph.Node) error) error
}

// Index finds sections for a query and tells which tokens it makes of a text.
type Index interface {
	Search(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error)
	Analyze(s string) []string
}

// Service answers questions from the graph and the index.
type Service struct {
	Graph Graph
	Index Index
	// StockMaxAge is how old a stock count may be before an answer says so (0 means
	// fixgraph.DefaultStockMaxAge).
	StockMaxAge time.Duration
	Now         func() time.Time // nil means time.Now
	// HandoffThreshold is the confidence under which answers recommend a person (0 means
	// DefaultHandoffThreshold).
	HandoffThreshold float64
}

// Published is the filter for what bots may see: published knowledge only.
var Published = fixgraph.SearchFilter{Statuses: []fixgraph.Status{fixgraph.StatusPublished}}

// Search returns up to limit hits for q with their sections, documents and snippets, of what the
// context's principal may read.
func (s *Service) Search(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	if strings.TrimSpace(q) == "" {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "query is empty")
	}
	if limit <= 0 || limit > 100 {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "limit must be between 1 and 100")
	}
	raw, err := s.Index.Search(ctx, q, limit, fixgraph.PrincipalFrom(ctx).Narrow(f))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(raw))
	for i, h := range raw {
		ids[i] = h.Section.ID
	}
	nodes, err := s.Graph.Nodes(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("loading hit sections: %w", err)
	}
	docIDs := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if sec, ok := n.(*fixgraph.Section); ok {
			docIDs = append(docIDs, sec.DocumentID)
		}
	}
	docs, err := s.docs(ctx, docIDs)
	if err != nil {
		return nil, err
	}
	terms := s.Index.Analyze(q)
	hits := make([]fixgraph.Hit, 0, len(raw))
	for i, n := range nodes {
		sec, ok := n.(*fixgraph.Section)
		if !ok || docs[sec.DocumentID] == nil {
			continue // the index is ahead of or behind the graph; the graph wins
		}
		hits = append(hits, fixgraph.Hit{Section: sec, Document: docs[sec.DocumentID], Score: raw[i].Score, Lexical: raw[i].Lexical, Snippet: Snippet(sec.Text, terms, 160)})
	}
	return hits, nil
}

func (s *Service) docs(ctx context.Context, ids []string) (map[string]*fixgraph.Document, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	nodes, err := s.Graph.Nodes(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("loading documents: %w", err)
	}
	out := make(map[string]*fixgraph.Document, len(ids))
	for _, n := range nodes {
		if d, ok := n.(*fixgraph.Document); ok {
			out[d.ID] = d
		}
	}
	return out, nil
}

// Troubleshoot returns the error codes named code, narrowed to product when given (a model, or a
// category such as 洗衣机 or dishwasher). An unknown code is not an error: the list is empty.
func (s *Service) Troubleshoot(ctx context.Context, code, product string) ([]*fixgraph.ErrorCode, error) {
	c, ok := extract.LooksLikeCode(code)
	if !ok {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "%q is not an error code (expected a code as the display shows it, such as E102, E-01, Eb, 5E, Err01 or 03)", code)
	}
	codes, err := s.Graph.ErrorCodes(ctx, c)
	if err != nil {
		return nil, err
	}
	if product == "" {
		return codes, nil
	}
	products, err := s.products(ctx)
	if err != nil {
		return nil, err
	}
	wanted := matchProducts(product, products)
	return slices.DeleteFunc(codes, func(ec *fixgraph.ErrorCode) bool { return !slices.Contains(wanted, ec.Product) }), nil
}

func (s *Service) products(ctx context.Context) ([]*fixgraph.Product, error) {
	var out []*fixgraph.Product
	err := s.Graph.Scan(ctx, fixgraph.PrefixProduct+":", func(n fixgraph.Node) error {
		if p, ok := n.(*fixgraph.Product); ok {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// categories maps the words customers use for an appliance to one key per kind of appliance.
var categories = map[string][]string{
	"washer":      {"洗衣机", "滚筒", "washing machine", "washer", "laundry"},
	"dishwasher":  {"洗碗机", "dishwasher", "dish washer"},
	"waterheater": {"热水器", "water heater", "boiler"},
	"aircon":      {"空调", "air conditioner", "air-conditioner", "aircon"},
	"fridge":      {"冰箱", "refrigerator", "fridge"},
	"phone":       {"手机", "phone", "smartphone", "galaxy"},
}

func categoryKeys(s string) []string {
	s = strings.ToLower(s)
	var out []string
	for key, words := range categories {
		for _, w := range words {
			if strings.Contains(s, w) {
				// "dishwasher" contains "washer": the longer word wins.
				if key == "washer" && strings.Contains(s, "dishwasher") && !strings.Contains(strings.ReplaceAll(s, "dishwasher", ""), w) {
					continue
				}
				out = append(out, key)
				break
			}
		}
	}
	return out
}

// matchProducts returns the models of the products that text names by model or by category.
func matchProducts(text string, products []*fixgraph.Product) []string {
	norm := extract.Normalize(text)
	var out []string
	for _, m := range extract.ProductModels(norm) {
		for _, p := range products {
			if p.Model == m {
				out = append(out, m)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	keys := categoryKeys(norm)
	for _, p := range products {
		var desc []string
		for _, t := range []fixgraph.Text{p.Category, p.Name} {
			for _, v := range t {
				desc = append(desc, v)
			}
		}
		pk := categoryKeys(strings.Join(desc, " "))
		for _, k := range keys {
			if slices.Contains(pk, k) {
				out = append(out, p.Model)
				break
			}
		}
	}
	return out
}

// Snippet returns up to n runes of text around the first place where the longest of terms appears.
func Snippet(text string, terms []string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	sorted := slices.Clone(terms)
	slices.SortStableFunc(sorted, func(a, b string) int { return utf8.RuneCountInString(b) - utf8.RuneCountInString(a) })
	lower := strings.ToLower(text)
	at := -1
	for _, t := range sorted {
		if i := strings.Index(lower, strings.ToLower(t)); i >= 0 {
			at = utf8.RuneCountInString(lower[:i])
			break
		}
	}
	runes := []rune(text)
	start := max(0, at-n/3)
	if at < 0 {
		start = 0
	}
	end := min(len(runes), start+n)
	start = max(0, end-n)
	out := string(runes[start:end])
	if start > 0 {
		out = "…" + out
	}
	if end < len(runes) {
		out += "…"
	}
	return out
}

// Coverage is the share of the query's tokens that the text has, weighting words and bigrams over
// single CJK characters: how much of a question a section answers, as confidence reads it.
func Coverage(queryTerms, textTerms []string) float64 {
	have := make(map[string]bool, len(textTerms))
	for _, t := range textTerms {
		have[t] = true
	}
	var got, total float64
	for _, t := range slices.Compact(slices.Sorted(slices.Values(queryTerms))) {
		w := 1.0
		if utf8.RuneCountInString(t) == 1 {
			w = 0.25
		}
		total += w
		if have[t] {
			got += w
		}
	}
	if total == 0 {
		return 0
	}
	return got / total
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
