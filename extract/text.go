package extract

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize applies NFKC (full-width ＥＲＲ１０２ becomes ERR102, Kangxi radicals become the common
// characters) and collapses runs of white space to one space.
func Normalize(s string) string {
	return strings.Join(strings.Fields(norm.NFKC.String(s)), " ")
}

// DetectLanguage returns "zh" when Han characters make up a fair share of the letters in s, else "en".
func DetectLanguage(s string) string {
	var han, letters int
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
			letters++
		case unicode.IsLetter(r):
			letters++
		}
	}
	// A Han character carries about as much as an English word of five letters.
	if letters > 0 && han*5 >= (letters-han) {
		return "zh"
	}
	return "en"
}

// LanguageTag reduces a BCP 47 tag such as zh-CN or en-US to its language.
func LanguageTag(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	l, _, _ := strings.Cut(tag, "-")
	l, _, _ = strings.Cut(l, "_")
	return l
}

// Clean collapses runs of white space to one space and trims the ends, leaving the text as written
// otherwise. Stored text is cleaned; what is compared, indexed or searched is normalised.
func Clean(s string) string { return strings.Join(strings.Fields(s), " ") }

// CleanBlock is Clean for multi-line text: it keeps line breaks and drops empty lines.
func CleanBlock(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = Clean(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
