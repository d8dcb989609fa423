package lexicon

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph/extract"
)

//go:embed *.json
var files embed.FS

// Classes of what a message is recognised as.
const (
	Danger    = "danger"
	Complaint = "complaint"
)

// Match is one recognised term of a text.
type Match struct {
	Class  string // Danger or Complaint
	Hazard string // for danger: smoke, fire, sparks, burning, gas, shock, water_electric, injury, explosion
	Term   string // the lexicon's term
	Text   string // the words of the text that matched it
	Lang   string // the lexicon that matched
}

// Lexicon is one language's word lists, as its JSON file holds them.
type Lexicon struct {
	Language      string              `json:"language"`
	Danger        map[string][]string `json:"danger"` // hazard → terms
	Near          []Near              `json:"near"`
	Harmless      []string            `json:"harmless"`      // phrases in which a term is no signal
	HarmlessAfter []string            `json:"harmlessAfter"` // words after a term that make it the name of a feature ("fire mode", "火力档")
	Complaint     []string            `json:"complaint"`     // one is enough
	Anger         []string            `json:"anger"`         // AngerMin of them make a complaint
	AngerMin      int                 `json:"angerMin"`      //
	AngerHarmless []string            `json:"angerHarmless"` // phrases in which an anger word is not one
	Negation      []string            `json:"negation"`      // cues before a term that deny it
	NotNegation   []string            `json:"notNegation"`   // phrases holding a cue that deny nothing ("不停", "won't stop")
	NegationAfter []string            `json:"negationAfter"` // cues right after a term that deny it ("都没有")
	Boundaries    []string            `json:"boundaries"`    // words a negation does not reach across ("但是", "but")
	Window        int                 `json:"window"`        // units between a negation cue and the term, at most
	FuzzyMinRunes int                 `json:"fuzzyMinRunes"` // words this long match one slip away; 0: exact only
	RealWords     []string            `json:"realWords"`     // words that are no slip for a term even when one edit away
	Actions       []string            `json:"actions"`       // what a safety step tells one to do
	Safety        map[string]Safety   `json:"safety"`        // hazard ("" for any) → how to find its safety step
	Severity      struct {
		Strong    []string `json:"strong"`    // wording that marks danger on its own
		Medium    []string `json:"medium"`    // wording that marks danger with another
		Threshold int      `json:"threshold"` // strong counts 2, medium 1
	} `json:"severity"`

	compiled *compiled
}

// Near is a hazard recognised by two words close together: water and a socket.
type Near struct {
	Hazard string   `json:"hazard"`
	Window int      `json:"window"` // units between them, at most
	A      []string `json:"a"`
	B      []string `json:"b"`
}

// Safety says how to find a hazard's safety step in the knowledge, and what to say without one.
type Safety struct {
	Query   string   `json:"query"`
	Default string   `json:"default"`
	Related []string `json:"related"` // hazards whose safety steps serve this one too
}

type term struct {
	units  []string
	text   string
	hazard string
}

type compiled struct {
	danger, complaint, anger, harmless, angerHarmless []term
	harmlessAfter                                     []term
	negation, notNegation, negAfter, boundaries       []term
	actions, strong, medium                           []term
	nearA, nearB                                      [][]term
	real                                              map[string]bool
}

var (
	loadOnce sync.Once
	all      []*Lexicon
	loadErr  error
)

// All returns the embedded lexicons, Chinese first.
func All() []*Lexicon {
	loadOnce.Do(func() {
		for _, name := range []string{"zh.json", "en.json"} {
			l, err := load(name)
			if err != nil {
				loadErr = err
				return
			}
			all = append(all, l)
		}
	})
	if loadErr != nil {
		panic(loadErr) // embedded data: a broken file is caught by the package's tests
	}
	return all
}

// For returns the lexicon of lang ("zh" or "en"), English for any other.
func For(lang string) *Lexicon {
	for _, l := range All() {
		if l.Language == lang {
			return l
		}
	}
	return All()[len(All())-1]
}

func load(name string) (*Lexicon, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var l Lexicon
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("reading lexicon %q: %w", name, err)
	}
	c := &compiled{real: map[string]bool{}}
	terms := func(ss []string, hazard string) []term {
		var out []term
		for _, s := range ss {
			if u := units(Fold(s)); len(u) > 0 {
				out = append(out, term{units: unitStrings(u), text: s, hazard: hazard})
			}
		}
		return out
	}
	for hazard, ts := range l.Danger {
		c.danger = append(c.danger, terms(ts, hazard)...)
	}
	// Longer terms first, so that a match names the most specific term.
	slices.SortStableFunc(c.danger, func(a, b term) int { return len(b.units) - len(a.units) })
	c.complaint = terms(l.Complaint, "")
	c.anger = terms(l.Anger, "")
	c.harmless = terms(l.Harmless, "")
	c.harmlessAfter = terms(l.HarmlessAfter, "")
	c.angerHarmless = terms(l.AngerHarmless, "")
	c.negation = terms(l.Negation, "")
	c.notNegation = terms(l.NotNegation, "")
	c.negAfter = terms(l.NegationAfter, "")
	c.boundaries = terms(l.Boundaries, "")
	c.actions = terms(l.Actions, "")
	c.strong = terms(l.Severity.Strong, "")
	c.medium = terms(l.Severity.Medium, "")
	for _, n := range l.Near {
		c.nearA = append(c.nearA, terms(n.A, n.Hazard))
		c.nearB = append(c.nearB, terms(n.B, n.Hazard))
	}
	for _, w := range l.RealWords {
		c.real[Fold(w)] = true
	}
	if l.Window <= 0 {
		l.Window = 4
	}
	if l.AngerMin <= 0 {
		l.AngerMin = 2
	}
	if l.Severity.Threshold <= 0 {
		l.Severity.Threshold = 2
	}
	l.compiled = c
	return &l, nil
}

// Fold returns s as it is compared: NFKC, Simplified Chinese, lower case, one kind of apostrophe.
func Fold(s string) string {
	s = strings.ToLower(extract.Simplified(extract.Normalize(s)))
	return strings.NewReplacer("’", "'", "‘", "'", "`", "'").Replace(s)
}

// unit is one Han character or one Latin word or number of a folded text, or a clause boundary.
type unit struct {
	s        string
	han      bool
	boundary bool
}

func unitStrings(us []unit) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.s
	}
	return out
}

// units splits folded text into units. Sentence punctuation ends a clause; other punctuation and
// spaces only separate.
func units(s string) []unit {
	var out []unit
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			out = append(out, unit{s: strings.Trim(word.String(), "'")})
			word.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			flush()
			out = append(out, unit{s: string(r), han: true})
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' && word.Len() > 0:
			word.WriteRune(r)
		case strings.ContainsRune(",.!?;:，。！？；：…\n、", r):
			flush()
			if len(out) > 0 && !out[len(out)-1].boundary {
				out = append(out, unit{s: string(r), boundary: true})
			}
		default:
			flush()
		}
	}
	flush()
	return slices.DeleteFunc(out, func(u unit) bool { return u.s == "" })
}

// text is a folded text split into units, ready to match terms of one lexicon.
type text struct {
	us      []unit
	lex     *Lexicon
	present map[string]bool // the units the text has
}

func (l *Lexicon) text(s string) *text { return &text{us: units(Fold(s)), lex: l} }

// eq reports whether a text unit matches a term unit: the same, or for a long enough word, one
// slip away and no real word of its own.
func (t *text) eq(u unit, w string) bool {
	if u.s == w {
		return true
	}
	min := t.lex.FuzzyMinRunes
	if d := len(u.s) - len(w); d > utf8.UTFMax || d < -utf8.UTFMax { // more than one letter apart
		return false
	}
	if min == 0 || u.han || u.boundary || utf8.RuneCountInString(w) < min || t.lex.compiled.real[u.s] {
		return false
	}
	return oneSlip(u.s, w)
}

// at reports whether term tm matches at unit i.
func (t *text) at(i int, tm term) bool {
	if i+len(tm.units) > len(t.us) {
		return false
	}
	for j, w := range tm.units {
		if t.us[i+j].boundary || !t.eq(t.us[i+j], w) {
			return false
		}
	}
	return true
}

// exactAt is at without slips, for cues.
func (t *text) exactAt(i int, tm term) bool {
	if i < 0 || i+len(tm.units) > len(t.us) {
		return false
	}
	for j, w := range tm.units {
		if t.us[i+j].s != w {
			return false
		}
	}
	return true
}

// covered reports whether units [i, j) lie inside an occurrence of one of phrases.
func (t *text) covered(i, j int, phrases []term) bool {
	for _, p := range phrases {
		n := len(p.units)
		for s := max(0, j-n); s <= i; s++ {
			if s+n >= j && t.exactAt(s, p) {
				return true
			}
		}
	}
	return false
}

// negated reports whether the term at units [i, j) is denied: a negation cue ends at most Window
// units before it in the same clause (and is not part of a phrase that denies nothing), or a cue
// after it says it is absent.
func (t *text) negated(i, j int) bool {
	c := t.lex.compiled
	for k := i - 1; k >= 0 && k >= i-1-t.lex.Window; k-- {
		if t.us[k].boundary {
			break
		}
		for _, cue := range c.negation {
			s := k - len(cue.units) + 1
			if t.exactAt(s, cue) && !t.covered(s, k+1, c.notNegation) {
				return true
			}
		}
		if slices.ContainsFunc(c.boundaries, func(b term) bool { return t.exactAt(k-len(b.units)+1, b) }) {
			break
		}
	}
	for k := j; k < len(t.us) && k <= j+2; k++ {
		if t.us[k].boundary {
			break
		}
		for _, cue := range c.negAfter {
			if t.exactAt(k, cue) {
				return true
			}
		}
	}
	return false
}

// find returns the spans where one of terms occurs, not negated and not inside a harmless phrase.
// Overlapping occurrences keep the first (the longest term, as terms are sorted).
func (t *text) find(terms []term, harmless []term) []span {
	var out []span
	taken := make([]bool, len(t.us))
	if t.present == nil {
		t.present = make(map[string]bool, len(t.us))
		for _, u := range t.us {
			t.present[u.s] = true
		}
	}
	min := t.lex.FuzzyMinRunes
	for _, tm := range terms {
		// A term whose first word is not in the text, and too short to match one slip away, cannot match.
		if first := tm.units[0]; !t.present[first] && (min == 0 || utf8.RuneCountInString(first) < min) {
			continue
		}
		for i := range t.us {
			if !t.at(i, tm) {
				continue
			}
			j := i + len(tm.units)
			if slices.Contains(taken[i:j], true) || t.covered(i, j, harmless) || t.negated(i, j) || t.featureName(j) {
				continue
			}
			for k := i; k < j; k++ {
				taken[k] = true
			}
			out = append(out, span{i, j, tm})
		}
	}
	slices.SortFunc(out, func(a, b span) int { return a.i - b.i })
	return out
}

// featureName reports whether the unit at j, right after a term, makes the term the name of a
// feature: "fire mode", "火力档".
func (t *text) featureName(j int) bool {
	return slices.ContainsFunc(t.lex.compiled.harmlessAfter, func(w term) bool { return t.exactAt(j, w) })
}

type span struct {
	i, j int
	tm   term
}

func (t *text) words(s span) string {
	var b strings.Builder
	for k := s.i; k < s.j; k++ {
		if k > s.i && !(t.us[k].han && t.us[k-1].han) {
			b.WriteByte(' ')
		}
		b.WriteString(t.us[k].s)
	}
	return b.String()
}

// Recognise returns the danger and complaint terms of a customer's message, by every lexicon.
func Recognise(msg string) []Match {
	var out []Match
	us := units(Fold(msg)) // folding (OpenCC above all) costs more than matching: once for all lexicons
	for _, l := range All() {
		out = append(out, l.recognise(&text{us: us, lex: l})...)
	}
	return out
}

// Recognise returns the danger and complaint terms of msg by this lexicon: danger terms and near
// pairs, complaint terms, and anger words when there are AngerMin of them.
func (l *Lexicon) Recognise(msg string) []Match { return l.recognise(l.text(msg)) }

func (l *Lexicon) recognise(t *text) []Match {
	c := l.compiled
	var out []Match
	found := t.find(c.danger, c.harmless)
	for _, s := range found {
		out = append(out, Match{Class: Danger, Hazard: s.tm.hazard, Term: s.tm.text, Text: t.words(s), Lang: l.Language})
	}
	// A near pair counts only where no term was found already.
	overlaps := func(s span) bool {
		return slices.ContainsFunc(found, func(f span) bool { return s.i < f.j && f.i < s.j })
	}
	for n, near := range l.Near {
		as, bs := t.find(c.nearA[n], c.harmless), t.find(c.nearB[n], c.harmless)
	pairs:
		for _, a := range as {
			for _, b := range bs {
				lo, hi := min(a.j, b.j), max(a.i, b.i)
				if hi-lo > near.Window || a.i == b.i || overlaps(a) || overlaps(b) {
					continue
				}
				out = append(out, Match{Class: Danger, Hazard: near.Hazard, Term: a.tm.text + "+" + b.tm.text,
					Text: t.words(span{min(a.i, b.i), max(a.j, b.j), term{}}), Lang: l.Language})
				break pairs
			}
		}
	}
	for _, s := range t.find(c.complaint, c.harmless) {
		out = append(out, Match{Class: Complaint, Term: s.tm.text, Text: t.words(s), Lang: l.Language})
	}
	if angry := t.find(c.anger, c.angerHarmless); len(angry) >= l.AngerMin {
		for _, s := range angry {
			out = append(out, Match{Class: Complaint, Hazard: "anger", Term: s.tm.text, Text: t.words(s), Lang: l.Language})
		}
	}
	return out
}

// Hazards returns the hazards of the danger matches, in order of first appearance.
func Hazards(ms []Match) []string {
	var out []string
	for _, m := range ms {
		if m.Class == Danger && !slices.Contains(out, m.Hazard) {
			out = append(out, m.Hazard)
		}
	}
	return out
}

// Mentions reports whether text names a term of hazard (any hazard when empty), not negated.
func (l *Lexicon) Mentions(s, hazard string) bool {
	for _, m := range l.Recognise(s) {
		if m.Class == Danger && (hazard == "" || m.Hazard == hazard) {
			return true
		}
	}
	return false
}

// CountActions returns how many of the lexicon's safety actions text names (unplug, turn off the gas…).
func (l *Lexicon) CountActions(s string) int {
	t := l.text(s)
	return len(t.find(l.compiled.actions, nil))
}

// Dangerous reports whether a fault's own wording (its meaning, cause, remedy and warnings) marks
// it as dangerous, by every lexicon, and the wording that did: a strong term ("危险", "risk of
// fire", "can kill") counts 2, a medium one ("立即断电", "do not attempt to repair") 1, and the
// threshold (2) makes it dangerous.
func Dangerous(texts ...string) (bool, []string) {
	us := units(Fold(strings.Join(texts, "\n")))
	for _, l := range All() {
		t := &text{us: us, lex: l}
		strong, medium := t.find(l.compiled.strong, l.compiled.harmless), t.find(l.compiled.medium, nil)
		if 2*len(strong)+len(medium) >= l.Severity.Threshold {
			var why []string
			for _, sp := range append(strong, medium...) {
				why = append(why, sp.tm.text)
			}
			return true, why
		}
	}
	return false, nil
}

// oneSlip reports whether a and b differ by one letter missing, added, changed, or two
// neighbours swapped.
func oneSlip(a, b string) bool {
	x, y := []rune(a), []rune(b)
	if len(x) > len(y) {
		x, y = y, x
	}
	switch len(y) - len(x) {
	case 0:
		var diff []int
		for i := range x {
			if x[i] != y[i] {
				diff = append(diff, i)
			}
		}
		switch len(diff) {
		case 1:
			return true
		case 2:
			i, j := diff[0], diff[1]
			return j == i+1 && x[i] == y[j] && x[j] == y[i]
		}
		return false
	case 1:
		i := 0
		for i < len(x) && x[i] == y[i] {
			i++
		}
		return string(x[i:]) == string(y[i+1:])
	}
	return false
}
