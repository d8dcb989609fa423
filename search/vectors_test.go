package search_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/search"
)

// hashEmbedder is a deterministic stand-in for a model, for unit tests only: words and single CJK
// characters are hashed into signed buckets and the vector normalised.
type hashEmbedder struct{ dim int }

func (h hashEmbedder) Dim() int { return h.dim }

func (h hashEmbedder) Embed(_ context.Context, texts []string, _ bool) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, h.dim)
		for _, tok := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			var parts []string
			for _, r := range tok {
				if unicode.Is(unicode.Han, r) {
					parts = append(parts, string(r))
				}
			}
			if len(parts) == 0 {
				parts = []string{tok}
			}
			for _, p := range parts {
				f := fnv.New64a()
				f.Write([]byte(p))
				x := f.Sum64()
				sign := float32(1)
				if x>>63 == 1 {
					sign = -1
				}
				v[x%uint64(h.dim)] += sign
			}
		}
		normalize(v)
		out[i] = v
	}
	return out, nil
}

func normalize(v []float32) {
	var n float64
	for _, f := range v {
		n += float64(f) * float64(f)
	}
	if n == 0 {
		v[0] = 1
		return
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(n))
	}
}

func mustVectors(tb testing.TB, dir string, dim int) *search.Vectors {
	tb.Helper()
	v, err := search.OpenVectors(dir, hashEmbedder{dim})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

func TestVectorsPersistAndFilter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v, err := search.OpenVectors(dir, hashEmbedder{64})
	if err != nil {
		t.Fatal(err)
	}
	pub, draft := doc("a.html", 1), doc("b.html", 1)
	draft.Status = fixgraph.StatusDraft
	drain := section(pub, "排水", "洗衣机 不 排水 drain pump")
	heat := section(pub, "加热", "热水器 加热 heater")
	empty := section(pub, "空", "")
	other := section(draft, "排水草稿", "洗衣机 不 排水 drain pump draft")
	if err := v.Update(ctx, pub, []*fixgraph.Section{drain, heat, empty}, nil); err != nil {
		t.Fatal(err)
	}
	if err := v.Update(ctx, draft, []*fixgraph.Section{other}, nil); err != nil {
		t.Fatal(err)
	}
	if v.Len() != 3 {
		t.Fatalf("Len = %d, want 3 (the empty section is not indexed)", v.Len())
	}
	published := fixgraph.SearchFilter{Statuses: []fixgraph.Status{fixgraph.StatusPublished}}
	hits, err := v.Search(ctx, "drain pump 排水", 2, published)
	if err != nil || len(hits) != 2 || hits[0].Section.ID != drain.ID || hits[0].Score <= hits[1].Score {
		t.Fatalf("Search = %v, %v; want drain first, draft filtered out", ids(hits), err)
	}
	v.Close()

	v = mustVectors(t, dir, 64)
	if v.Len() != 3 {
		t.Fatalf("after reopening, Len = %d", v.Len())
	}
	if got, _ := v.Search(ctx, "drain pump 排水", 2, published); !slices.Equal(ids(got), ids(hits)) {
		t.Errorf("after reopening, hits %v, want %v", ids(got), ids(hits))
	}
	// Replacing the document's sections removes the old ones, in memory and on disk.
	if err := v.Update(ctx, pub, []*fixgraph.Section{heat}, []string{drain.ID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := v.Search(ctx, "drain pump", 10, published); !slices.Equal(ids(got), []string{heat.ID}) {
		t.Errorf("after removing drain, hits %v", ids(got))
	}

	// Another model (another dimension) empties the index rather than mixing vectors.
	v.Close()
	v = mustVectors(t, dir, 32)
	if v.Len() != 0 {
		t.Errorf("index of dimension 64 opened for 32 holds %d vectors", v.Len())
	}
	if s, _ := v.Stamp(pub.ID); s != "" {
		t.Errorf("stamp %q survived the dimension change", s)
	}
}

// TestQuantisedScanRecall compares the sign-code scan with re-ranking against the exact float scan
// on clustered random vectors that share one large common direction, the shape real embeddings
// have (without centring the codes, this recall falls to 0.64).
func TestQuantisedScanRecall(t *testing.T) {
	const n, dim, clusters = 20000, 128, 200
	rng := rand.New(rand.NewPCG(1, 2))
	common := make([]float32, dim)
	for j := range common {
		common[j] = 6 * float32(rng.NormFloat64())
	}
	centers := make([][]float32, clusters)
	for i := range centers {
		centers[i] = make([]float32, dim)
		for j := range centers[i] {
			centers[i][j] = float32(rng.NormFloat64())
		}
	}
	point := func() []float32 {
		c := centers[rng.IntN(clusters)]
		v := make([]float32, dim)
		for j := range v {
			v[j] = common[j] + c[j] + float32(rng.NormFloat64())
		}
		normalize(v)
		return v
	}
	v := mustVectors(t, t.TempDir(), dim)
	d := doc("bulk", 1)
	var secs []*fixgraph.Section
	var vecs [][]float32
	for i := range n {
		secs = append(secs, &fixgraph.Section{ID: fmt.Sprintf("sec:%06d", i), Text: "x"})
		vecs = append(vecs, point())
	}
	if err := search.PutVectors(v, d, secs, vecs); err != nil {
		t.Fatal(err)
	}
	var found, total int
	for range 100 {
		q := point()
		want := ids(v.Exact(q, 10))
		got := ids(v.Nearest(q, 10, fixgraph.SearchFilter{}))
		for _, id := range want {
			total++
			if slices.Contains(got, id) {
				found++
			}
		}
	}
	recall := float64(found) / float64(total)
	t.Logf("recall@10 of the quantised scan against the exact scan: %.3f", recall)
	if recall < 0.98 {
		t.Errorf("recall@10 = %.3f, want ≥ 0.98", recall)
	}
}

func TestHybridFusion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	text := mustText(t, filepath.Join(dir, "text"))
	h := &search.Hybrid{Text: text, Vectors: mustVectors(t, filepath.Join(dir, "vec"), 64)}
	d := doc("m.html", 1)
	row := section(d, "E102", "不排水 排水泵堵塞 drain pump blocked")
	guide := section(d, "清理排水泵", "拔下电源 清理过滤器 drain pump filter cleaning")
	other := section(d, "门锁", "门锁故障 door lock")
	if err := h.Update(ctx, d, []*fixgraph.Section{row, guide, other}, nil); err != nil {
		t.Fatal(err)
	}
	hits, err := h.Search(ctx, "洗衣机显示E102 drain pump", 3, fixgraph.SearchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) < 2 || hits[0].Section.ID != row.ID {
		t.Errorf("hybrid hits = %v; want the row holding E102 first", ids(hits))
	}
	for _, m := range []search.Mode{search.ModeBM25, search.ModeVector} {
		hm, err := h.WithMode(m)
		if err != nil {
			t.Fatal(err)
		}
		if hits, err := hm.Search(ctx, "door lock", 1, fixgraph.SearchFilter{}); err != nil || len(hits) != 1 || hits[0].Section.ID != other.ID {
			t.Errorf("%s: hits %v, %v", m, ids(hits), err)
		}
	}
	if _, err := (&search.Hybrid{Text: text}).WithMode(search.ModeVector); fixgraph.CodeOf(err) != fixgraph.EUNSUPPORTED {
		t.Errorf("vector mode without vectors: %v", err)
	}
	if _, err := search.ParseMode("semantic"); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("ParseMode(semantic) = %v", err)
	}
}

// TestHybridProductScope checks that a question naming a model is answered from that model's
// sections, and not from the title section that merely repeats the model's name.
func TestHybridProductScope(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := &search.Hybrid{Text: mustText(t, filepath.Join(dir, "text")), Vectors: mustVectors(t, filepath.Join(dir, "vec"), 64)}
	var want string
	for _, model := range []string{"WF-8012D", "DW-6035"} {
		d := doc(model+".html", 1)
		title := section(d, "Aurora "+model+" User Manual", "This manual covers the "+model+".")
		warranty := section(d, "Warranty", "The warranty covers parts and labour for two years.")
		title.Products, warranty.Products = []string{model}, []string{model}
		if err := h.Update(ctx, d, []*fixgraph.Section{title, warranty}, nil); err != nil {
			t.Fatal(err)
		}
		if model == "DW-6035" {
			want = warranty.ID
		}
	}
	hits, err := h.Search(ctx, "What is the warranty on the DW-6035?", 3, fixgraph.SearchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Section.ID != want {
		t.Errorf("hits = %v; want the DW-6035 warranty section %s first", ids(hits), want)
	}
	// A model no section is about does not narrow the search to nothing.
	if hits, _ := h.Search(ctx, "warranty XX-9999", 3, fixgraph.SearchFilter{}); len(hits) < 2 {
		t.Errorf("unknown model: hits = %v", ids(hits))
	}
}

// namedEmbedder is hashEmbedder under a model name, as the ONNX embedder gives one.
type namedEmbedder struct {
	hashEmbedder
	name string
}

func (n namedEmbedder) ModelName() string { return n.name }

// TestVectorsModelChange empties an index that another model of the same dimension made, and
// keeps one that the same model, or an embedder from before models were recorded, made.
func TestVectorsModelChange(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d := doc("a.html", 1)
	sec := section(d, "Drain pump", "Clean the drain pump filter.")
	open := func(emb search.Embedder) *search.Vectors {
		t.Helper()
		v, err := search.OpenVectors(dir, emb)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := open(hashEmbedder{16}) // an index from before models were recorded
	if err := v.Update(ctx, d, []*fixgraph.Section{sec}, nil); err != nil || v.Len() != 1 {
		t.Fatalf("Update: %v, Len %d", err, v.Len())
	}
	v.Close()
	for _, c := range []struct {
		emb  search.Embedder
		want int
	}{
		{namedEmbedder{hashEmbedder{16}, "model-a"}, 1}, // unrecorded: taken as the same model
		{namedEmbedder{hashEmbedder{16}, "model-a"}, 1},
		{namedEmbedder{hashEmbedder{16}, "model-b"}, 0},
	} {
		v := open(c.emb)
		if v.Len() != c.want {
			t.Errorf("opened with %v: Len = %d, want %d", c.emb, v.Len(), c.want)
		}
		v.Close()
	}
}
