package extract

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph"
)

// Error codes come in many shapes: E102 and F21, but also Eb, FA, dE, 5E, Err01, ER1, E-01,
// F07-E, E.21, d.E., INIt, LOC, 03 and 950100. Shape alone cannot tell 03 or LOC from a number or
// a word, so where a code is read decides how much shape is enough: in a table column that a
// header or its content marks as codes, any short token of a code's shape is one; in running text
// and in questions a code needs a strong shape (letters and digits together) or a cue word next to
// it (显示, 代码, 故障, error, code, display, Fehler…).

var (
	// codeShapeRE is any token a manual prints as a code.
	codeShapeRE = regexp.MustCompile(`^(?:[A-Za-z]{1,4}[-.]?\d{1,6}(?:[-.]?[A-Za-z0-9]{1,3})?|\d{1,6}(?:[-.]?[A-Za-z]{1,3}\d?)?|[A-Za-z](?:\.?[A-Za-z]){1,4}\.?)$`)
	// strongCodeRE is a code shape that is rarely anything else: letters and digits together.
	strongCodeRE = regexp.MustCompile(`^(?:[A-Za-z]{1,4}[-.]?\d{1,6}(?:[-.]?[A-Za-z0-9]{1,3})?|\d{1,2}[A-Za-z]{1,2})$`)
	// codeRunRE finds the Latin and digit runs of a text that may hold a code, with the dots and
	// dashes inside them.
	codeRunRE = regexp.MustCompile(`[A-Za-z0-9](?:[A-Za-z0-9]|[-.][A-Za-z0-9])*\.?\*?`)
)

// spacedShapeRE is a code printed with a space between its letters and digits: E 21, Err 01.
var spacedShapeRE = regexp.MustCompile(`^([A-Za-z]{1,3}) (\d{1,4})$`)

// notCodes are short words that stand in code columns without being codes: placeholders,
// references and conjunctions, in the languages manuals come in.
var notCodes = map[string]bool{
	"NA": true, "N": true, "NONE": true, "NO": true, "SEE": true, "NOTE": true, "ALL": true, "AND": true, "OR": true,
	"UND": true, "ODER": true, "BIS": true, "TO": true, "THE": true, "OU": true, "ET": true, "Y": true, "O": true, "E": true,
	"ON": true, "OFF": true, "OK": true, "YES": true, "JA": true, "NEIN": true, "SIEHE": true, "VOIR": true,
	"NR": true, "NO.": true, "PAGE": true, "SEITE": true, "TAB": true,
}

// CodeShape returns code as printed without the quotes, brackets, label prefix and footnote
// marks around it (“净水Err02” → Err02, E14* → E14), and whether that has the shape of an error
// code. Use it where the context already says the text is a code, such as a code column.
func CodeShape(s string) (string, bool) {
	s = strings.TrimSpace(Normalize(s))
	s = strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsPunct(r) && r != '.' && r != '-' || unicode.IsSymbol(r) || unicode.IsSpace(r) || r == '†' || r == '‡'
	})
	// A label written before the code in another script: 净水Err02, 故障码E1.
	if i := strings.IndexFunc(s, func(r rune) bool { return r < utf8.RuneSelf }); i > 0 {
		s = s[i:]
	}
	s = strings.TrimRight(s, "*†‡¹²³ ")
	s = strings.TrimLeft(s, "-.")
	shape := s
	if m := spacedShapeRE.FindStringSubmatch(s); m != nil {
		shape = m[1] + m[2] // "E 21", printed with a space, has the shape of E21
	}
	if s == "" || len(s) > 10 || !codeShapeRE.MatchString(shape) {
		return "", false
	}
	key := fixgraph.CodeKey(s)
	if key == "" || len(key) > 8 || notCodes[key] {
		return "", false
	}
	if !strings.ContainsFunc(key, unicode.IsDigit) && len(key) > 5 {
		return "", false
	}
	if !dottedLetters(s) {
		s = strings.TrimSuffix(s, ".") // the end of a sentence, not of the code
	}
	return s, true
}

// dottedLetters reports whether s is letters each followed by a dot (d.E.), whose last dot is
// part of the code rather than the end of a sentence.
func dottedLetters(s string) bool {
	return len(s) >= 4 && strings.HasSuffix(s, ".") && strings.Count(s, ".") >= 2 && !strings.ContainsFunc(s, unicode.IsDigit)
}

// StrongCode reports whether a code as printed has a shape that is rarely anything but a code:
// letters and digits together (E21, Err01, F07-E, 5E), and not a product model or part number
// (WH-5020, DC31-00178A).
func StrongCode(code string) bool {
	return strongCodeRE.MatchString(code) && len(ProductModels(code)) == 0 && len(PartNumbers(code)) == 0
}

// codeSeparators split the codes that share a cell: "E16 / E17", "Err01、Err04、Err05", "E1，E3 或 E4".
var codeSeparators = regexp.MustCompile(`\s*(?:[/、,，;；&+|]|\s(?:or|und|oder|ou|o|y|et|and|或|及|和)\s|或|及|和)\s*|\s+`)

// CellCodes reads a table cell of a code column: the codes it starts with, as printed, and the
// text after them (a code's name where code and name share a cell: "E04 Fehler niedriger Druck").
// A cell that starts with no code gives none.
func CellCodes(cell string) (codes []string, rest string) {
	cell = strings.TrimSpace(Normalize(cell))
	if code, ok := CodeShape(cell); ok && strings.Contains(cell, " ") {
		return []string{code}, "" // "E 21" alone in its cell
	}
	for cell != "" {
		loc := codeSeparators.FindStringIndex(cell)
		tok, next := cell, ""
		if loc != nil {
			if loc[0] == 0 {
				cell = cell[loc[1]:]
				continue
			}
			tok, next = cell[:loc[0]], cell[loc[1]:]
		}
		code, ok := CodeShape(tok)
		if !ok {
			break
		}
		if !strings.ContainsFunc(code, unicode.IsDigit) && !isCodeLike(code) {
			break // "Der Ventilator…", "Druck": a word, not a code
		}
		if !slices.ContainsFunc(codes, func(c string) bool { return fixgraph.CodeKey(c) == fixgraph.CodeKey(code) }) {
			codes = append(codes, code)
		}
		cell = next
	}
	return codes, strings.TrimSpace(cell)
}

// codeCues are words that, next to a code in running text or a question, say it is a code:
// display, error, code, fault and their kin in Chinese, English, German, French, Spanish and
// Italian. They are matched in lower case.
var codeCues = []string{
	"显示", "代码", "故障", "错误", "报警", "报", "提示", "出现", "闪", "屏幕", "代號", "顯示", "錯誤",
	"display", "shows", "showing", "shown", "screen", "error", "err", "code", "fault", "alarm", "blink", "flash", "appear", "indicat", "message",
	"anzeige", "zeigt", "fehler", "störung", "meldung",
	"affiche", "erreur", "défaut", "code",
	"pantalla", "muestra", "código", "avería",
	"errore", "codice", "guasto", "visualizza",
	"mean", "bedeut", "意思", "含义", "signifi",
}

// HasCodeCue reports whether s holds a word that says a code is meant.
func HasCodeCue(s string) bool {
	s = strings.ToLower(s)
	for _, c := range codeCues {
		if strings.Contains(s, c) {
			return true
		}
	}
	return false
}

// TextCodes returns the error codes that running text names, as printed, in order: tokens of a
// strong code shape (E21, Err01, 5E) next to a cue word (显示E4时, "If E21 appears", "code 5E"), or
// at the start of a heading-like line ("E21 – Drain fault"). Several codes joined by 、, / or "or"
// after one cue all count.
func TextCodes(s string) []string {
	s = Normalize(s)
	var out []string
	locs := codeRunRE.FindAllStringIndex(s, -1)
	for i, loc := range locs {
		tok := s[loc[0]:loc[1]]
		code, ok := CodeShape(tok)
		if !ok || !StrongCode(strings.TrimSuffix(code, ".")) {
			continue
		}
		// The cue may stand before the code, or after it, within a few words.
		before := s[max(0, loc[0]-24):loc[0]]
		after := s[loc[1]:min(len(s), loc[1]+24)]
		cued := HasCodeCue(before) || HasCodeCue(after) || strings.TrimSpace(s[:loc[0]]) == ""
		if !cued && i > 0 && len(out) > 0 {
			// A code in a list after a cued code: "E1, E3 or E4".
			gap := s[locs[i-1][1]:loc[0]]
			cued = codeSeparators.MatchString(gap) && len(strings.TrimSpace(gap)) <= 4 && fixgraph.CodeKey(out[len(out)-1]) == fixgraph.CodeKey(strings.TrimSuffix(s[locs[i-1][0]:locs[i-1][1]], "*"))
		}
		if cued && !slices.ContainsFunc(out, func(c string) bool { return fixgraph.CodeKey(c) == fixgraph.CodeKey(code) }) {
			out = append(out, code)
		}
	}
	return out
}

// CodeCandidate is a token of a question that may name an error code.
type CodeCandidate struct {
	Code   string // as written
	Strong bool   // letters and digits together, or a cue word in the question
}

// QuestionCodes returns the tokens of a question that may be error codes, strongest first: codes
// of a strong shape, then, when the question has a cue word (显示, display, error…), any other
// token of a code's shape (03, Eb, INIt). Callers look them up: only codes the graph knows count.
func QuestionCodes(q string) []CodeCandidate {
	q = JoinCodes(Normalize(q)) // "e 102" is E102
	cue := HasCodeCue(q)
	var strong, weak []CodeCandidate
	seen := map[string]bool{}
	for _, tok := range codeRunRE.FindAllString(q, -1) {
		code, ok := CodeShape(tok)
		if !ok {
			continue
		}
		key := fixgraph.CodeKey(code)
		if seen[key] {
			continue
		}
		seen[key] = true
		switch {
		case StrongCode(strings.TrimSuffix(code, ".")):
			strong = append(strong, CodeCandidate{Code: code, Strong: true})
		case cue && isCodeLike(tok):
			weak = append(weak, CodeCandidate{Code: code, Strong: false})
		}
	}
	// A code typed with a space inside it ("Err 01", "LE 2") is tried joined too, when the
	// question says a code is meant ("on 2 doors" is no code).
	for _, m := range spacedCodeInTextRE.FindAllStringSubmatch(q, -1) {
		if !cue {
			break
		}
		code := m[1] + m[2]
		if key := fixgraph.CodeKey(code); !seen[key] && StrongCode(code) {
			seen[key] = true
			strong = append(strong, CodeCandidate{Code: code, Strong: true})
		}
	}
	return append(strong, weak...)
}

// spacedCodeInTextRE is letters and digits a space apart, standing alone: "Err 01".
var spacedCodeInTextRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9])([A-Za-z]{1,3}) (\d{1,4})(?:$|[^A-Za-z0-9])`)

// isCodeLike reports whether a token that is not a strong code may still be one in a question with
// a cue: digits, or letters that are not an ordinary lower-case or capitalised word of three or
// more letters (Eb, FA, dE and INIt are; "what", "Does" are not).
func isCodeLike(tok string) bool {
	tok = strings.TrimRight(tok, ".*")
	if strings.ContainsFunc(tok, unicode.IsDigit) {
		return true
	}
	if utf8.RuneCountInString(tok) <= 2 {
		return true
	}
	rest := []rune(tok)[1:]
	for _, r := range rest {
		if unicode.IsUpper(r) {
			return true // LOC, INIt, dE
		}
	}
	return unicode.IsLower([]rune(tok)[0]) && strings.Contains(tok, ".")
}

// MentionedCodes returns the keys (see fixgraph.CodeKey) of the codes among known that a text
// names: tokens of a strong code shape, and other code-shaped tokens (03, Eb) next to a cue word,
// so that a page number or a word is not taken for a code of the same spelling.
func MentionedCodes(s string, known map[string]bool) []string {
	if len(known) == 0 {
		return nil
	}
	s = Normalize(s)
	var locs [][]int
	for _, loc := range codeRunRE.FindAllStringIndex(s, -1) {
		code, ok := CodeShape(s[loc[0]:loc[1]])
		if ok && known[fixgraph.CodeKey(code)] {
			locs = append(locs, loc)
			continue
		}
		// F1-F3, E1.E2: codes joined by a dash or a dot, not one code.
		for start, i := loc[0], loc[0]; i <= loc[1]; i++ {
			if i == loc[1] || s[i] == '-' || s[i] == '.' {
				if i > start {
					locs = append(locs, []int{start, i})
				}
				start = i + 1
			}
		}
	}
	var out []string
	for _, loc := range locs {
		code, ok := CodeShape(s[loc[0]:loc[1]])
		if !ok {
			continue
		}
		key := fixgraph.CodeKey(code)
		if !known[key] || slices.Contains(out, key) {
			continue
		}
		if !StrongCode(strings.TrimSuffix(code, ".")) {
			before := s[max(0, loc[0]-24):loc[0]]
			after := s[loc[1]:min(len(s), loc[1]+24)]
			if !HasCodeCue(before) && !HasCodeCue(after) {
				continue
			}
		}
		out = append(out, key)
	}
	return out
}

// LooksLikeCode reports whether s, standing alone (a code someone typed into a lookup), is an
// error code: a code's shape, and digits or the mixed case that words lack (E102, 03, Eb, INIt, LOC;
// not "hello").
func LooksLikeCode(s string) (string, bool) {
	code, ok := CodeShape(s)
	if !ok || !strings.ContainsFunc(code, unicode.IsDigit) && !isCodeLike(code) {
		return "", false
	}
	return code, true
}
