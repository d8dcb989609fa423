package search

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The special tokens every BERT vocabulary has.
const (
	tokUnk = "[UNK]"
	tokCLS = "[CLS]"
	tokSEP = "[SEP]"
	tokPad = "[PAD]"
)

// maxWordRunes is BERT's max_input_chars_per_word: a longer word becomes a single [UNK].
const maxWordRunes = 100

// WordPiece is a BERT WordPiece tokenizer over a vocab.txt (one token a line, the line number is its
// id). It does what BERT's BasicTokenizer does for a Chinese model, then greedy longest-match-first
// word pieces with the "##" continuation prefix:
//
//   - clean-up: NUL, U+FFFD and control/format characters are dropped, every whitespace becomes a space;
//   - full-width Latin letters and digits become ASCII, and Kangxi radicals, CJK radical supplements
//     and half-width katakana/hangul get their NFKC form, so "ＥＲＲ１０２" and "⽔" (PDF text) tokenize
//     like "err102" and "水" (full-width punctuation such as "，" stays: the vocabulary has it);
//   - every CJK ideograph is a token of its own;
//   - for an uncased vocabulary, lower case and accents stripped (NFD without combining marks);
//   - every punctuation character is a token of its own.
//
// Whether the vocabulary is uncased is read from the vocabulary itself: one with no upper-case
// letters (bge-small-zh-v1.5's has none) cannot represent upper case, so text is lower-cased
// ("E102" becomes e, ##10, ##2 rather than [UNK]). A WordPiece is immutable and safe for
// concurrent use.
type WordPiece struct {
	vocab    map[string]int32
	maxRunes int // longest vocabulary entry in runes, "##" not counted
	lower    bool
	unk      int32
	cls      int32
	sep      int32
	pad      int32
}

// LoadWordPiece reads the vocabulary file at path (a BERT vocab.txt).
func LoadWordPiece(path string) (*WordPiece, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening vocabulary: %w", err)
	}
	defer f.Close()
	w, err := NewWordPiece(f)
	if err != nil {
		return nil, fmt.Errorf("reading vocabulary %q: %w", path, err)
	}
	return w, nil
}

// NewWordPiece reads a vocabulary, one token a line, from r.
func NewWordPiece(r io.Reader) (*WordPiece, error) {
	var tokens []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		tokens = append(tokens, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return newWordPiece(tokens, false)
}

// newWordPiece makes a tokenizer of tokens, whose index is their id ("" for an id without a token).
// The text is lower-cased when lower is set or the vocabulary has no upper-case letters.
func newWordPiece(tokens []string, lower bool) (*WordPiece, error) {
	w := &WordPiece{vocab: make(map[string]int32, len(tokens)), lower: true}
	upper := false
	for id, tok := range tokens {
		if _, dup := w.vocab[tok]; !dup && tok != "" {
			w.vocab[tok] = int32(id)
			if !isSpecialToken(tok) && strings.IndexFunc(tok, unicode.IsUpper) >= 0 {
				upper = true
			}
			n := utf8.RuneCountInString(strings.TrimPrefix(tok, "##"))
			w.maxRunes = max(w.maxRunes, n)
		}
	}
	w.lower = lower || !upper
	for _, s := range []struct {
		tok string
		id  *int32
	}{{tokUnk, &w.unk}, {tokCLS, &w.cls}, {tokSEP, &w.sep}, {tokPad, &w.pad}} {
		v, ok := w.vocab[s.tok]
		if !ok {
			return nil, fmt.Errorf("vocabulary has no %s token", s.tok)
		}
		*s.id = v
	}
	return w, nil
}

// isSpecialToken reports whether tok is a bracketed or angled marker such as [CLS] or <S>.
func isSpecialToken(tok string) bool {
	n := len(tok)
	return n >= 3 && (tok[0] == '[' && tok[n-1] == ']' || tok[0] == '<' && tok[n-1] == '>')
}

// Size is the number of ids in the vocabulary.
func (w *WordPiece) Size() int { return len(w.vocab) }

// Lowercase reports whether the vocabulary is uncased, so text is lower-cased and accents stripped.
func (w *WordPiece) Lowercase() bool { return w.lower }

// ID returns the id of a vocabulary token.
func (w *WordPiece) ID(token string) (int64, bool) {
	id, ok := w.vocab[token]
	return int64(id), ok
}

// PadID is the id of [PAD].
func (w *WordPiece) PadID() int64 { return int64(w.pad) }

// Tokenize splits text into vocabulary tokens, without [CLS] and [SEP]. It is meant for tests and
// debugging; Encode is what models get.
func (w *WordPiece) Tokenize(text string) []string {
	var out []string
	w.pieces(text, -1, func(id int32, piece string) { out = append(out, piece) })
	return out
}

// Encode returns the ids of [CLS], text's word pieces and [SEP], at most maxLen of them: pieces past
// maxLen-2 are cut (and not even computed). maxLen below 2 is taken as 2.
func (w *WordPiece) Encode(text string, maxLen int) []int64 {
	maxLen = max(maxLen, 2)
	ids := make([]int64, 1, min(maxLen, len(text)+2))
	ids[0] = int64(w.cls)
	w.pieces(text, maxLen-2, func(id int32, _ string) { ids = append(ids, int64(id)) })
	return append(ids, int64(w.sep))
}

// pieces calls emit for each word piece of text, stopping after limit pieces (no limit when limit < 0).
func (w *WordPiece) pieces(text string, limit int, emit func(id int32, piece string)) {
	if limit == 0 {
		return
	}
	text = foldCompat(text)
	n := 0
	var buf []byte // scratch for "##"+piece lookups
	// word handles one whitespace-, CJK- and punctuation-delimited word; false means stop.
	word := func(s string) bool {
		if utf8.RuneCountInString(s) > maxWordRunes {
			emit(w.unk, tokUnk)
			n++
			return n != limit
		}
		// Greedy longest match first; one unmatched position makes the whole word [UNK].
		type match struct {
			id    int32
			start int
			end   int
		}
		var found []match
		for start := 0; start < len(s); {
			end, runes := start, 0
			for end < len(s) && runes < w.maxRunes {
				_, size := utf8.DecodeRuneInString(s[end:])
				end += size
				runes++
			}
			matched := false
			for end > start {
				buf = buf[:0]
				if start > 0 {
					buf = append(buf, "##"...)
				}
				buf = append(buf, s[start:end]...)
				if id, ok := w.vocab[string(buf)]; ok {
					found = append(found, match{id, start, end})
					matched = true
					break
				}
				_, size := utf8.DecodeLastRuneInString(s[start:end])
				end -= size
			}
			if !matched {
				emit(w.unk, tokUnk)
				n++
				return n != limit
			}
			start = end
		}
		for _, m := range found {
			piece := s[m.start:m.end]
			if m.start > 0 {
				piece = "##" + piece
			}
			emit(m.id, piece)
			n++
			if n == limit {
				return false
			}
		}
		return true
	}
	// raw handles a whitespace-delimited run without CJK ideographs: normalise, then split punctuation.
	raw := func(s string) bool {
		if s == "" {
			return true
		}
		if w.lower {
			s = stripAccents(strings.ToLower(s))
		} else {
			s = norm.NFC.String(s)
		}
		start := 0
		for i, r := range s {
			if isPunct(r) {
				if i > start && !word(s[start:i]) {
					return false
				}
				end := i + utf8.RuneLen(r)
				if !word(s[i:end]) {
					return false
				}
				start = end
			}
		}
		return start >= len(s) || word(s[start:])
	}
	var cur strings.Builder
	for _, r := range text {
		switch {
		case r == 0 || r == utf8.RuneError || isControl(r):
			continue
		case isSpace(r):
			if !raw(cur.String()) {
				return
			}
			cur.Reset()
		case isCJK(r):
			if !raw(cur.String()) {
				return
			}
			cur.Reset()
			if !raw(string(r)) {
				return
			}
		default:
			cur.WriteRune(r)
		}
	}
	raw(cur.String())
}

// foldCompat maps full-width ASCII letters and digits to ASCII, and gives Kangxi radicals, CJK
// radical supplements and half-width CJK forms their NFKC form. Other text is left alone.
func foldCompat(s string) string {
	needs := strings.IndexFunc(s, func(r rune) bool {
		return isFullwidthAlnum(r) || isNFKCFolded(r)
	}) >= 0
	if !needs {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case isFullwidthAlnum(r):
			b.WriteRune(r - 0xFEE0)
		case isNFKCFolded(r):
			b.WriteString(norm.NFKC.String(string(r)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isFullwidthAlnum(r rune) bool {
	return r >= 0xFF10 && r <= 0xFF19 || r >= 0xFF21 && r <= 0xFF3A || r >= 0xFF41 && r <= 0xFF5A
}

func isNFKCFolded(r rune) bool {
	return r >= 0x2E80 && r <= 0x2FDF || r >= 0xFF61 && r <= 0xFFEE
}

// stripAccents decomposes s (NFD) and drops the combining marks, as BERT does for uncased models.
func stripAccents(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	d := norm.NFD.String(s)
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, d)
}

// isSpace is BERT's whitespace: space, tab, newline, carriage return, the Zs category, and the line and
// paragraph separators that BERT's split on white space also splits at. (Control characters such as
// vertical tab are dropped before this is asked.)
func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r)
}

// isControl is BERT's control character: categories Cc and Cf, except tab, newline and carriage return.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf)
}

// isPunct is BERT's punctuation: all non-alphanumeric printable ASCII, and the Unicode P categories.
func isPunct(r rune) bool {
	if r >= 33 && r <= 47 || r >= 58 && r <= 64 || r >= 91 && r <= 96 || r >= 123 && r <= 126 {
		return true
	}
	return r > 127 && unicode.IsPunct(r)
}

// isCJK reports whether r is in the CJK ideograph blocks BERT splits into single characters.
func isCJK(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF ||
		r >= 0x3400 && r <= 0x4DBF ||
		r >= 0x20000 && r <= 0x2A6DF ||
		r >= 0x2A700 && r <= 0x2B73F ||
		r >= 0x2B740 && r <= 0x2B81F ||
		r >= 0x2B820 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF ||
		r >= 0x2F800 && r <= 0x2FA1F
}
