package ingest

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// Not every manual keeps its codes in a table. Some give each code a heading ("E21 – Drain
// fault", "What does 5E mean?") with the steps under it; some list them in running text, one a
// line ("E1: no water supply"). proseCodes reads both, for the codes a document's tables do not
// define already.

// proseCode is an error code that a document's running text defines.
type proseCode struct {
	code    string   // as printed
	meaning string   // what the heading or line says it means
	steps   []string // the numbered steps under a code's heading
	section int      // index of the section it is in (or heads)
}

// headingNumberRE is the number a heading may start with: 4.2, 3., (2), 第3章.
var headingNumberRE = regexp.MustCompile(`^(?:\d+(?:\.\d+)*\.?|[(（]\d+[)）]|第[一二三四五六七八九十\d]+[章节条])\s*`)

// codeLineRE is a line that starts with a code and says what it means: "E1: no water",
// "E21 – Drain fault", "F3  Door open".
var codeLineRE = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9.\-]{0,9}\*?)(\s*(?:[:：=–—]|\s-\s|\s{2,}|\t)|\s)\s*(\S.*)$`)

// headingCode reads a code a heading is about: a code at its start (after a section number) or
// with a cue word ("Error E21", "显示E4时", "What does 5E mean?"), and the rest of the heading as
// its meaning.
func headingCode(heading string) (code, meaning string, ok bool) {
	h := strings.TrimSpace(extract.Normalize(heading))
	h = headingNumberRE.ReplaceAllString(h, "")
	codes := extract.TextCodes(h)
	if len(codes) != 1 {
		return "", "", false
	}
	code = codes[0]
	i := strings.Index(h, code)
	if i < 0 {
		return "", "", false
	}
	meaning = strings.TrimSpace(h[:i] + " " + h[i+len(code):])
	meaning = strings.Trim(meaning, " -–—:：()（）|")
	if utf8.RuneCountInString(meaning) < 2 {
		meaning = ""
	}
	return code, meaning, true
}

// listCues are the words of a heading over a list of codes: "Error codes", "故障代码",
// "Fehlermeldungen", "Display messages".
var listCues = []string{"code", "error", "fault", "alarm", "message", "代码", "故障", "错误", "报警", "提示", "代碼",
	"fehler", "störung", "meldung", "erreur", "défaut", "código", "avería", "codice", "errore", "guasto"}

// listsCodes reports whether a section's own heading says it lists codes.
func listsCodes(heading string) bool {
	h := strings.ToLower(heading)
	for _, c := range listCues {
		if strings.Contains(h, c) {
			return true
		}
	}
	return false
}

// codeLines reads the lines of a section's text that each start with a code and say what it
// means ("E1: no water supply"). They count only in a section whose own heading says it lists
// codes (cued), and a line starting with a bare number counts only when the number is written as
// a code (03, 950100), not as an item of a numbered list (1, 2.).
func codeLines(text string, cued bool) []proseCode {
	if !cued {
		return nil
	}
	var out []proseCode
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.ReplaceAll(line, " | ", "  "))
		m := codeLineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		code, ok := extract.LooksLikeCode(m[1])
		if !ok || onlyDigits(code) && len(code) < 2 || onlyDigits(code) && strings.HasPrefix(line[len(m[1]):], ".") {
			continue
		}
		if !extract.StrongCode(code) && strings.TrimSpace(m[2]) == "" && !strings.Contains(m[2], "  ") {
			continue // "DP C240…": a word or number that only a space parts from the text is no code
		}
		rest := strings.TrimSpace(m[3])
		if utf8.RuneCountInString(rest) < 3 || strings.Count(rest, " ") == 0 && !isWide(firstRune(rest)) {
			continue // "E1 E2", a code and one word: a reference, not a definition
		}
		out = append(out, proseCode{code: code, meaning: rest})
	}
	return out
}

// proseCodes reads the codes that the sections' headings and lines define, leaving out those in
// known (the keys of the codes the document's tables define). paths are the sections' heading
// paths, their own heading last. A heading names a code when it or a heading above it has a cue
// word, or when two or more headings start with codes of one shape (E21, E22).
func proseCodes(paths [][]string, bodies []string, known map[string]bool) []proseCode {
	var out []proseCode
	seen := make(map[string]bool)
	add := func(pc proseCode) {
		k := fixgraph.CodeKey(pc.code)
		if known[k] || seen[k] {
			return
		}
		seen[k] = true
		out = append(out, pc)
	}
	var uncued []proseCode
	shapes := make(map[string]int)
	for i, path := range paths {
		if len(path) == 0 {
			continue
		}
		cued := extract.HasCodeCue(strings.Join(path, "\n"))
		own := path[len(path)-1]
		if code, meaning, ok := headingCode(own); ok {
			if question(path[len(path)-1]) {
				meaning = firstSentence(bodies[i]) // "What does 5E mean?": the answer says
			}
			pc := proseCode{code: code, meaning: meaning, steps: bodySteps(bodies[i]), section: i}
			if cued {
				add(pc)
			} else {
				uncued = append(uncued, pc)
				shapes[codeShapeClass(code)]++
			}
			continue
		}
		for _, pc := range codeLines(bodies[i], listsCodes(own)) {
			pc.section = i
			add(pc)
		}
	}
	for _, pc := range uncued {
		if shapes[codeShapeClass(pc.code)] >= 2 {
			add(pc)
		}
	}
	return out
}

func onlyDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// question reports whether a heading asks something.
func question(h string) bool {
	h = strings.TrimSpace(h)
	return strings.HasSuffix(h, "?") || strings.HasSuffix(h, "？") || strings.ContainsAny(h, "吗么") && strings.Contains(h, "什")
}

// firstSentence returns a text's first sentence.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.IndexAny(s, ".。!！?？"); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// codeShapeClass is a code's shape: its letters as they are and each digit as 9 (E21 → E99).
func codeShapeClass(code string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '9'
		}
		return r
	}, strings.ToUpper(code))
}

// bodySteps returns the numbered steps of a section's text, or its text as one step when it is
// short and has none.
func bodySteps(body string) []string {
	body = strings.TrimSpace(body)
	if body == "" {
		return nil
	}
	if steps := splitSteps(strings.ReplaceAll(body, "\n", " ")); len(steps) > 1 {
		return steps
	}
	if utf8.RuneCountInString(body) <= 400 {
		return []string{strings.Join(strings.Fields(body), " ")}
	}
	return nil
}

// addProseCode adds a code that running text defines: the error code of model, described by the
// section, with a repair guide of the steps under its heading.
func addProseCode(b *fixgraph.Batch, doc *fixgraph.Document, model string, pc proseCode, sec *fixgraph.Section) {
	ec := &fixgraph.ErrorCode{
		ID:      fixgraph.ErrorCodeID(model, pc.code),
		Code:    pc.code,
		Product: model,
		Symptom: text(doc.Language, pc.meaning),
		FixedIn: extract.FixedInFirmware(sec.Text),
	}
	markDanger(ec)
	b.Add(ec)
	if model != "" {
		b.Link(fixgraph.ProductID(model), fixgraph.RelHasError, ec.ID)
	}
	b.Link(sec.ID, fixgraph.RelMentions, ec.ID)
	b.Link(sec.ID, fixgraph.RelDescribes, ec.ID)
	guide := &fixgraph.RepairGuide{
		Code:       pc.code,
		Product:    model,
		Title:      strings.TrimSpace(pc.code + " " + pc.meaning),
		Steps:      pc.steps,
		SectionID:  sec.ID,
		DocumentID: doc.ID,
		Language:   doc.Language,
	}
	addGuide(b, ec, sec, guide)
}
