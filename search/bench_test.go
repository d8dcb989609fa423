package search_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/search"
)

// benchWords is the vocabulary of the generated sections of the benchmarks.
var benchWords = strings.Fields(`drain pump filter hose door lock seal heater element thermostat
valve inlet outlet spin drum motor board display error code warranty return delivery install
排水 水泵 过滤器 门锁 加热 温度 进水 漏水 保修 退货 安装 噪音 震动 电机 主板 显示 故障 清洁 软水 镁棒`)

func benchSection(rng *rand.Rand, d *fixgraph.Document, i int) *fixgraph.Section {
	words := make([]string, 40)
	for j := range words {
		words[j] = benchWords[rng.IntN(len(benchWords))]
	}
	code := fmt.Sprintf("E%d", 100+i%50)
	return &fixgraph.Section{
		ID: fmt.Sprintf("sec:%07d", i), DocumentID: d.ID, Heading: code + " " + strings.Join(words[:3], " "),
		HeadingPath: []string{"manual", code}, Text: strings.Join(words, " "),
	}
}

// mustBenchText indexes n generated sections, 100 to a document.
func mustBenchText(b *testing.B, n int) *search.Text {
	b.Helper()
	ctx := context.Background()
	ix := mustText(b, b.TempDir())
	rng := rand.New(rand.NewPCG(1, 1))
	for start := 0; start < n; start += 100 {
		d := doc(fmt.Sprintf("doc-%d.html", start), 1)
		var secs []*fixgraph.Section
		for i := start; i < min(start+100, n); i++ {
			secs = append(secs, benchSection(rng, d, i))
		}
		if err := ix.Update(ctx, d, secs, nil); err != nil {
			b.Fatal(err)
		}
	}
	return ix
}

func BenchmarkTextSearch10k(b *testing.B) {
	ix := mustBenchText(b, 10000)
	ctx := context.Background()
	queries := []string{"drain pump filter blocked", "洗衣机排水泵堵塞", "E123 door lock", "warrenty for the motor"}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := ix.Search(ctx, queries[i%len(queries)], 10, fixgraph.SearchFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTextIndex(b *testing.B) {
	ctx := context.Background()
	ix := mustText(b, b.TempDir())
	rng := rand.New(rand.NewPCG(2, 2))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d := doc(fmt.Sprintf("doc-%d.html", i), 1)
		secs := make([]*fixgraph.Section, 100)
		for j := range secs {
			secs[j] = benchSection(rng, d, i*100+j)
		}
		if err := ix.Update(ctx, d, secs, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(100, "sections/op")
}

// BenchmarkVectorsNearest is the quantised scan with re-rank over 100,000 vectors of the default
// model's 512 dimensions; BenchmarkVectorsExact is the float scan it replaces.
func BenchmarkVectorsNearest(b *testing.B) { benchmarkVectors(b, false) }
func BenchmarkVectorsExact(b *testing.B)   { benchmarkVectors(b, true) }

func benchmarkVectors(b *testing.B, exact bool) {
	const n, dim = 100000, 512
	rng := rand.New(rand.NewPCG(3, 3))
	random := func() []float32 {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		normalize(v)
		return v
	}
	v := mustVectors(b, b.TempDir(), dim)
	d := doc("bulk", 1)
	secs := make([]*fixgraph.Section, n)
	vecs := make([][]float32, n)
	for i := range secs {
		secs[i] = &fixgraph.Section{ID: fmt.Sprintf("sec:%07d", i), Text: "x"}
		vecs[i] = random()
	}
	if err := search.PutVectors(v, d, secs, vecs); err != nil {
		b.Fatal(err)
	}
	q := random()
	b.ResetTimer()
	for b.Loop() {
		if exact {
			v.Exact(q, 10)
		} else {
			v.Nearest(q, 10, fixgraph.SearchFilter{})
		}
	}
}

func BenchmarkHybridSearch10k(b *testing.B) {
	ctx := context.Background()
	h := &search.Hybrid{Text: mustBenchText(b, 10000), Vectors: mustVectors(b, b.TempDir(), 64)}
	// The vectors come from the hash embedder: this measures fusion and both scans, not a model.
	rng := rand.New(rand.NewPCG(1, 1))
	for start := 0; start < 10000; start += 100 {
		d := doc(fmt.Sprintf("doc-%d.html", start), 1)
		var secs []*fixgraph.Section
		for i := start; i < start+100; i++ {
			secs = append(secs, benchSection(rng, d, i))
		}
		if err := h.Vectors.Update(ctx, d, secs, nil); err != nil {
			b.Fatal(err)
		}
	}
	queries := []string{"drain pump filter blocked", "洗衣机排水泵堵塞", "E123 door lock"}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := h.Search(ctx, queries[i%len(queries)], 10, fixgraph.SearchFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}
