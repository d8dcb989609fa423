package search_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
	"github.com/fixgraph/fixgraph/search"
)

func needModel(tb testing.TB, name string) string { return fixgraphtest.NeedModel(tb, name) }

// MustWordPiece loads bge-small-zh-v1.5's vocabulary.
func MustWordPiece(tb testing.TB) *search.WordPiece {
	tb.Helper()
	w, err := search.LoadWordPiece(needModel(tb, "bge-small-zh-v1.5/vocab.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// The expected ids are what Hugging Face's BertTokenizer gives with lower-casing on (checked with
// transformers.js 4.3.1 on the same vocab.txt), except where the cases say the tokenizer folds
// compatibility characters on purpose.
func TestWordPieceEncode(t *testing.T) {
	w := MustWordPiece(t)
	if !w.Lowercase() {
		t.Error("bge-small-zh-v1.5's vocabulary has no upper case, so text must be lower-cased")
	}
	if w.Size() != 21128 {
		t.Errorf("vocabulary size %d, want 21128", w.Size())
	}
	tests := []struct {
		name string
		text string
		want []int64
		toks string // the pieces, space-separated, when worth checking
	}{
		{"chinese, one token a character", "洗衣机不排水怎么办？",
			[]int64{101, 3819, 6132, 3322, 679, 2961, 3717, 2582, 720, 1215, 8043, 102}, "洗 衣 机 不 排 水 怎 么 办 ？"},
		{"upper case becomes pieces, not [UNK]", "My washer shows E102",
			[]int64{101, 8422, 9947, 9856, 8658, 8118, 12298, 8904, 102}, "my was ##her show ##s e1 ##02"},
		{"error codes and hyphens", "ERR102 and err-102",
			[]int64{101, 10451, 8180, 8311, 8144, 8256, 10451, 8180, 118, 8667, 102}, "er ##r ##10 ##2 and er ##r - 102"},
		{"model numbers between full-width punctuation", "型号：XQB80-Z8188；错误代码E4",
			[]int64{101, 1798, 1384, 8038, 166, 8326, 8204, 8538, 118, 168, 9313, 8544, 8039, 7231, 6428, 807, 4772, 147, 8159, 102}, ""},
		{"accents stripped", "Café naïve ÜBER", []int64{101, 8377, 11469, 8857, 8624, 102}, "cafe na ##ive uber"},
		{"white space and apostrophes", "don't   stop\tme\nnow\r\n", []int64{101, 9524, 112, 162, 11467, 8450, 9666, 102}, "don ' t stop me now"},
		{"ascii punctuation", "Hello, world!", []int64{101, 8701, 117, 8572, 106, 102}, "hello , world !"},
		{"latin word glued to chinese", "WiFi密码忘了怎么办?", []int64{101, 8306, 2166, 4772, 2563, 749, 2582, 720, 1215, 136, 102}, ""},
		{"kana run is one word", "日本語のテキスト", []int64{101, 3189, 3315, 6295, 561, 11903, 10781, 10579, 102}, "日 本 語 の ##テ ##キ ##スト"},
		{"hangul decomposes to jamo, as in BERT", "한국어", []int64{101, 303, 10928, 9877, 13454, 13479, 11953, 13463, 13472, 102}, ""},
		{"curly quotes and ellipsis are not in the vocabulary", "“引号”…", []int64{101, 100, 2471, 1384, 100, 100, 102}, "[UNK] 引 号 [UNK] [UNK]"},
		{"format characters dropped", "zero\u200bwidth soft\u00adhyphen", []int64{101, 10397, 10958, 12672, 8199, 12567, 9943, 12465, 8329, 102}, ""},
		{"line separator splits", "tab\u2028line", []int64{101, 10476, 8323, 102}, "tab line"},
		{"empty", "", []int64{101, 102}, ""},
		{"a word of 100 characters is still pieces", strings.Repeat("a", 100) + " ok",
			slices.Concat([]int64{101, 10876}, slices.Repeat([]int64{10226}, 48), []int64{8139, 8270, 102}), ""},
		{"a word over 100 characters is [UNK]", strings.Repeat("a", 101) + " ok", []int64{101, 100, 8270, 102}, ""},
		// Deliberate folding, beyond BERT: full-width letters and digits (BERT keeps them apart,
		// as ｅ ##ｒ ##ｒ ##１０ ##２) and Kangxi radicals from PDF text read like the plain forms.
		{"full-width letters and digits fold to ascii", "ＥＲＲ１０２", []int64{101, 10451, 8180, 8311, 8144, 102}, "er ##r ##10 ##2"},
		{"kangxi radicals fold to ideographs", "⽔温过⾼", []int64{101, 3717, 3946, 6814, 7770, 102}, "水 温 过 高"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := w.Encode(tt.text, 512)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Encode(%q) = %v, want %v (pieces %q)", tt.text, got, tt.want, w.Tokenize(tt.text))
			}
			if tt.toks != "" {
				if got := strings.Join(w.Tokenize(tt.text), " "); got != tt.toks {
					t.Errorf("Tokenize(%q) = %q, want %q", tt.text, got, tt.toks)
				}
			}
		})
	}
}

func TestWordPieceTruncates(t *testing.T) {
	w := MustWordPiece(t)
	long := strings.Repeat("洗衣机不排水 error E102 ", 500)
	tests := []struct {
		maxLen, want int
	}{{512, 512}, {10, 10}, {3, 3}, {2, 2}, {1, 2}, {0, 2}}
	for _, tt := range tests {
		ids := w.Encode(long, tt.maxLen)
		if len(ids) != tt.want || ids[0] != 101 || ids[len(ids)-1] != 102 {
			t.Errorf("Encode(long, %d): %d ids from %v to %v, want %d from [CLS] to [SEP]", tt.maxLen, len(ids), ids[:min(3, len(ids))], ids[len(ids)-1], tt.want)
		}
	}
	// The cut keeps the start: the first pieces are those of the whole text.
	full := w.Tokenize(long)
	if got := w.Encode(long, 10)[1:9]; !slices.Equal(got, pieceIDs(t, w, full[:8])) {
		t.Errorf("Encode(long, 10) = %v, not the first 8 pieces %v", got, full[:8])
	}
}

func pieceIDs(tb testing.TB, w *search.WordPiece, pieces []string) []int64 {
	tb.Helper()
	out := make([]int64, len(pieces))
	for i, p := range pieces {
		id, ok := w.ID(p)
		if !ok {
			tb.Fatalf("piece %q is not in the vocabulary", p)
		}
		out[i] = id
	}
	return out
}

func TestWordPieceCasedVocabulary(t *testing.T) {
	vocab := "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nE\n##rr\ne\n,\n"
	w, err := search.NewWordPiece(strings.NewReader(vocab))
	if err != nil {
		t.Fatal(err)
	}
	if w.Lowercase() {
		t.Fatal("a vocabulary with upper case must keep case")
	}
	if got, want := w.Encode("Err,ERR", 16), []int64{2, 5, 6, 8, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if _, err := search.NewWordPiece(strings.NewReader("[PAD]\n[CLS]\n")); err == nil {
		t.Error("a vocabulary without [UNK] and [SEP] must be refused")
	}
}

func BenchmarkWordPiece(b *testing.B) {
	w := MustWordPiece(b)
	text := strings.Repeat("洗衣机显示错误代码E102时，请先检查排水泵是否堵塞。Check the drain pump filter. ", 20)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		w.Encode(text, 512)
	}
}
