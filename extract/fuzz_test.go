package extract

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzExtract runs the normaliser and the error-code, part-number and model extractors on
// arbitrary text and checks what the index and the answers rely on: normalising is idempotent,
// every extracted value has the canonical shape and comes from the text, and joining spaced codes
// for the index neither loses nor invents a code.
//
//	go test ./extract -run '^$' -fuzz '^FuzzExtract$' -fuzztime 3m
func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		"我的洗衣机显示E102怎么办",
		"error code E-102 appears", "my washer says e 102", "洗碗机显示F21", "故障码E1是什么意思",
		"显示Ｅ１０２", "E1/E3 都可能出现", "codes F1, F2 and F21.", "型号 WF-8012D 的洗衣机",
		"配件 DC31-00178A 排水泵", "the size10 bag and office 365", "E1024 is a serial", "firmware 1.2, E5.3 beta",
		"It showed C0.", "AUR-CS-RP-2024 WH-5020 dw-6035", "e-1 02 E -1 F_2 H-3.", "\u3000Ｅ－１０２\t\n ¨a ﬁ ⽔",
		"zh-CN", "EN_us", "line one\n\n  line two  \n",
	} {
		f.Add(s)
	}
	var (
		codeShape  = regexp.MustCompile(`^[EFHCPLU]\d{1,3}$`)
		partShape  = regexp.MustCompile(`^[A-Z]{2}\d{2}-\d{5}[A-Z]?$`)
		modelShape = regexp.MustCompile(`^[A-Z]{2,3}-\d{4}[A-Z]?$`)
	)
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if again := Normalize(n); again != n {
			t.Fatalf("Normalize is not idempotent: %q → %q → %q", s, n, again)
		}
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q is not UTF-8", s, n)
		}
		if n != strings.TrimSpace(n) || strings.Contains(n, "  ") {
			t.Fatalf("Normalize(%q) = %q keeps runs of space", s, n)
		}

		codes := ErrorCodes(n)
		for i, c := range codes {
			if !codeShape.MatchString(c) {
				t.Fatalf("ErrorCodes(%q) gave %q", n, c)
			}
			if slices.Contains(codes[:i], c) {
				t.Fatalf("ErrorCodes(%q) gave %q twice", n, c)
			}
			if got := CanonicalCode(c); got != c {
				t.Fatalf("CanonicalCode(%q) = %q", c, got)
			}
		}
		if joined := ErrorCodes(JoinCodes(n)); !sameSet(joined, codes) {
			t.Fatalf("ErrorCodes(%q) = %q but after JoinCodes %q", n, codes, joined)
		}
		if c := CanonicalCode(s); c != "" && !codeShape.MatchString(c) {
			t.Fatalf("CanonicalCode(%q) = %q", s, c)
		}

		parts := PartNumbers(n)
		for _, p := range parts {
			if !partShape.MatchString(p) || !strings.Contains(n, p) {
				t.Fatalf("PartNumbers(%q) gave %q", n, p)
			}
		}
		models := ProductModels(n)
		for _, m := range models {
			if !modelShape.MatchString(m) || !strings.Contains(strings.ToUpper(n), m) {
				t.Fatalf("ProductModels(%q) gave %q", n, m)
			}
		}
		for _, tok := range Tokens(n) {
			if tok == "" || strings.ContainsAny(tok, "- ") {
				t.Fatalf("Tokens(%q) gave %q", n, tok)
			}
		}

		if l := DetectLanguage(n); l != "zh" && l != "en" {
			t.Fatalf("DetectLanguage(%q) = %q", n, l)
		}
		if tag := LanguageTag(s); strings.ContainsAny(tag, "-_") || tag != strings.ToLower(tag) {
			t.Fatalf("LanguageTag(%q) = %q", s, tag)
		}
		if c := Clean(s); c != strings.TrimSpace(c) || strings.Contains(c, "  ") || strings.ContainsAny(c, "\n\t") {
			t.Fatalf("Clean(%q) = %q", s, c)
		}
		for _, l := range strings.Split(CleanBlock(s), "\n") {
			if l != Clean(l) || l == "" && CleanBlock(s) != "" {
				t.Fatalf("CleanBlock(%q) has the line %q", s, l)
			}
		}
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b)
}
