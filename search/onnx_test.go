package search_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fixgraph/fixgraph/search"
)

// MustONNX opens bge-small-zh-v1.5 on the ONNX Runtime library that scripts/fetch-model.sh fetched,
// and closes it when the test ends.
func MustONNX(tb testing.TB, opts search.ONNXOptions) *search.ONNX {
	tb.Helper()
	model := needModel(tb, "bge-small-zh-v1.5")
	lib := needModel(tb, filepath.Join("onnxruntime", "libonnxruntime.so.1"))
	e, err := search.OpenONNX(model, lib, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := e.Close(); err != nil {
			tb.Error(err)
		}
	})
	return e
}

func mustEmbed(tb testing.TB, e search.Embedder, texts []string, query bool) [][]float32 {
	tb.Helper()
	vecs, err := e.Embed(context.Background(), texts, query)
	if err != nil {
		tb.Fatal(err)
	}
	if len(vecs) != len(texts) {
		tb.Fatalf("%d vectors for %d texts", len(vecs), len(texts))
	}
	return vecs
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// onnxTexts are texts of mixed language and length, for batching tests.
var onnxTexts = []string{
	"洗衣机不排水怎么办",
	"排水泵堵塞，洗衣机无法排水。请关闭电源，打开底部的过滤器盖，清理线屑和异物后重新启动。",
	"热水器漏电保护",
	"My washer shows E102",
	"The drain pump is clogged, so the washing machine cannot pump the water out.",
	"",
	"E4",
	strings.Repeat("冰箱冷藏室温度过高，请检查门封条是否密封良好。", 8),
	"Wi-Fi 连接失败：请确认路由器为 2.4 GHz 频段。",
	"保修期内免费更换主板，保修期外按零件价格收费。",
	"Galaxy S10: turn on Bluetooth from the quick panel.",
	"滚筒洗衣机 XQG80-B14266 显示 E21 错误",
	strings.Repeat("Descale the coffee machine every month. ", 20),
	"空调制热效果差",
	"遥控器没反应",
	"How do I reset the water filter indicator?",
	"微波炉转盘不转",
	"油烟机噪音大",
	"Replace the air filter every 6 months.",
}

func TestONNXEmbed(t *testing.T) {
	e := MustONNX(t, search.ONNXOptions{})
	if e.Dim() != 512 {
		t.Fatalf("Dim() = %d, want 512", e.Dim())
	}

	vecs := mustEmbed(t, e, onnxTexts, false)
	for i, v := range vecs {
		if len(v) != 512 {
			t.Fatalf("vector %d has %d dimensions, want 512", i, len(v))
		}
		var n float64
		for _, f := range v {
			n += float64(f) * float64(f)
		}
		if math.Abs(math.Sqrt(n)-1) > 1e-5 {
			t.Errorf("vector %d (%q) has length %v, want 1", i, onnxTexts[i], math.Sqrt(n))
		}
	}

	t.Run("deterministic", func(t *testing.T) {
		again := mustEmbed(t, e, onnxTexts, false)
		for i := range vecs {
			if d := maxDiff(vecs[i], again[i]); d != 0 {
				t.Errorf("text %d: vectors differ by %g between two calls", i, d)
			}
		}
	})

	t.Run("batch equals one by one", func(t *testing.T) {
		for i, text := range onnxTexts {
			one := mustEmbed(t, e, []string{text}, false)[0]
			if d := maxDiff(one, vecs[i]); d > 1e-4 {
				t.Errorf("text %d (%.20q): alone and in a list differ by %g", i, text, d)
			}
		}
	})

	t.Run("query prefix", func(t *testing.T) {
		q := mustEmbed(t, e, []string{"洗衣机不排水怎么办"}, true)[0]
		p := mustEmbed(t, e, []string{search.BGEQueryPrefix + "洗衣机不排水怎么办"}, false)[0]
		if d := maxDiff(q, p); d > 1e-6 {
			t.Errorf("a query differs by %g from the prefixed passage", d)
		}
		if c := cosine(q, vecs[0]); c > 0.999 {
			t.Errorf("query and passage embeddings of the same text are the same (cosine %.4f): no prefix?", c)
		}
	})

	t.Run("empty list", func(t *testing.T) {
		got, err := e.Embed(context.Background(), nil, false)
		if err != nil || len(got) != 0 {
			t.Errorf("Embed(nil) = %d vectors, %v; want none and no error", len(got), err)
		}
	})

	t.Run("long text is cut", func(t *testing.T) {
		long := []rune(strings.Repeat("洗衣机排水泵堵塞时请清理过滤器，Check the drain filter. ", 200))[:5000]
		v := mustEmbed(t, e, []string{string(long)}, false)[0]
		// Past 510 pieces the text no longer matters.
		longer := mustEmbed(t, e, []string{string(long) + strings.Repeat("热水器漏电", 100)}, false)[0]
		if d := maxDiff(v, longer); d != 0 {
			t.Errorf("text past the cut changed the vector by %g", d)
		}
	})
}

func TestONNXRelevance(t *testing.T) {
	e := MustONNX(t, search.ONNXOptions{})
	tests := []struct {
		query, relevant, unrelated string
	}{
		{"洗衣机不排水怎么办", "排水泵堵塞，洗衣机无法排水", "热水器漏电保护"},
		{"my washing machine does not drain", "The drain pump is clogged, so the washer cannot pump out the water", "The water heater's leakage protection switch trips"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q := mustEmbed(t, e, []string{tt.query}, true)[0]
			p := mustEmbed(t, e, []string{tt.relevant, tt.unrelated}, false)
			rel, unrel := cosine(q, p[0]), cosine(q, p[1])
			t.Logf("cosine(query, relevant) = %.4f, cosine(query, unrelated) = %.4f", rel, unrel)
			if rel <= unrel {
				t.Errorf("the relevant passage (%.4f) is not closer than the unrelated one (%.4f)", rel, unrel)
			}
		})
	}
}

// Batches of texts share the int8 model's activation scale, so their vectors move a little; they
// must still be each text's own.
func TestONNXBatchSize16(t *testing.T) {
	alone := MustONNX(t, search.ONNXOptions{})
	batched := MustONNX(t, search.ONNXOptions{BatchSize: 16})
	want := mustEmbed(t, alone, onnxTexts, false)
	got := mustEmbed(t, batched, onnxTexts, false)
	worst := 1.0
	for i := range got {
		best, bestJ := -2.0, -1
		for j := range want {
			if c := cosine(got[i], want[j]); c > best {
				best, bestJ = c, j
			}
		}
		c := cosine(got[i], want[i])
		worst = min(worst, c)
		if bestJ != i || c < 0.95 {
			t.Errorf("text %d (%.20q) in a batch: cosine %.4f to itself alone, nearest is text %d", i, onnxTexts[i], c, bestJ)
		}
	}
	t.Logf("lowest cosine between a text's vector in a batch of 16 and alone: %.4f", worst)
}

func TestONNXConcurrent(t *testing.T) {
	e := MustONNX(t, search.ONNXOptions{})
	want := mustEmbed(t, e, onnxTexts, false)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			texts := onnxTexts[g:] // each goroutine its own list
			got, err := e.Embed(context.Background(), texts, false)
			if err != nil {
				errs <- err
				return
			}
			for i := range got {
				if d := maxDiff(got[i], want[g+i]); d > 1e-6 {
					errs <- fmt.Errorf("goroutine %d, text %d: differs by %g", g, g+i, d)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestONNXCancelAndClose(t *testing.T) {
	e := MustONNX(t, search.ONNXOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Embed(ctx, onnxTexts, false); !errors.Is(err, context.Canceled) {
		t.Errorf("Embed with a cancelled context: %v, want context.Canceled", err)
	}

	// Two embedders share the process's ONNX Runtime; closing one leaves the other working, and
	// one opened after all were closed starts ONNX Runtime again.
	other := MustONNX(t, search.ONNXOptions{Threads: 1})
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := other.Embed(context.Background(), []string{"x"}, false); err == nil {
		t.Error("Embed after Close succeeded")
	}
	mustEmbed(t, e, []string{"还在工作"}, false)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	again := MustONNX(t, search.ONNXOptions{})
	mustEmbed(t, again, []string{"重新打开"}, false)
}

func TestOpenONNXErrors(t *testing.T) {
	lib := needModel(t, filepath.Join("onnxruntime", "libonnxruntime.so.1"))
	if _, err := search.OpenONNX(t.TempDir(), lib, search.ONNXOptions{}); err == nil {
		t.Error("OpenONNX on an empty directory succeeded")
	}
	model := needModel(t, "bge-small-zh-v1.5")
	if _, err := search.OpenONNX(model, filepath.Join(t.TempDir(), "libonnxruntime.so.1"), search.ONNXOptions{}); err == nil {
		t.Error("OpenONNX with a missing ONNX Runtime library succeeded")
	}
	// A failed load is not remembered.
	e := MustONNX(t, search.ONNXOptions{})
	mustEmbed(t, e, []string{"可以"}, false)
}

// benchTexts returns n different texts of about tokens word pieces each, [CLS] and [SEP] included.
func benchTexts(b *testing.B, e *search.ONNX, tokens, n int) []string {
	sentences := []string{
		"洗衣机显示错误代码E102时，请先检查排水泵是否堵塞。",
		"Clean the drain pump filter and restart the washer.",
		"冰箱冷藏室温度过高，请检查门封条。",
		"If the error persists, contact the service centre.",
		"保修期内免费上门维修。",
	}
	out := make([]string, n)
	for i := range out {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%d. ", i)
		for j := i; len(e.Tokenizer().Encode(sb.String(), 512)) < tokens; j++ {
			sb.WriteString(sentences[j%len(sentences)])
		}
		text := []rune(sb.String())
		for len(e.Tokenizer().Encode(string(text), 512)) > tokens {
			text = text[:len(text)-1]
		}
		out[i] = string(text)
	}
	return out
}

func benchmarkEmbed(b *testing.B, tokens int) {
	for _, batch := range []int{1, 16} {
		b.Run(fmt.Sprintf("BatchSize=%d", batch), func(b *testing.B) {
			e := MustONNX(b, search.ONNXOptions{BatchSize: batch})
			texts := benchTexts(b, e, tokens, 16)
			var pieces int
			for _, t := range texts {
				pieces += len(e.Tokenizer().Encode(t, 512))
			}
			mustEmbed(b, e, texts, false) // warm up
			for b.Loop() {
				mustEmbed(b, e, texts, false)
			}
			b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
			b.ReportMetric(float64(pieces)/float64(len(texts)), "tokens/text")
		})
	}
}

// BenchmarkEmbed64 embeds lists of 16 texts of about 64 tokens.
func BenchmarkEmbed64(b *testing.B) { benchmarkEmbed(b, 64) }

// BenchmarkEmbed256 embeds lists of 16 texts of about 256 tokens.
func BenchmarkEmbed256(b *testing.B) { benchmarkEmbed(b, 256) }
