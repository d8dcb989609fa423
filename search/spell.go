package search

import "strings"

// Spelling correction looks every Latin query term up in the index's terms and searches the
// terms near one it lacks; unbounded, a query of thousands of made-up words cost seconds of CPU
// (about 3 s against bleve's dictionary and 13 s against the vocabulary of 20,000 words, here).
// A spellBudget bounds what one query may spend, whatever its length. Real questions have a
// typo or two among a few dozen words, inside it: on 100,000 random words (the worst case for the
// vocabulary's search, which prunes by shared prefixes) one search for a term of seven letters or
// more takes about 33,000 candidates, 40,000 steps and 4 ms; on real words, fewer.
const (
	maxSpellLookups    = 64      // Latin terms of a query looked up to see whether they need correcting
	maxSpellFixes      = 8       // unknown terms of a query searched for a nearer term
	maxSpellCandidates = 100_000 // index terms examined over one query's searches
	maxSpellSteps      = 150_000 // edit-distance computations (vocabulary: rows of the table) over one query
	maxSpellLen        = 24      // longer terms are no typos of a word and are left alone
)

// spellBudget is the work one query's spelling correction has left. A term whose search runs out
// of it stays as written, so an exhausted budget never yields a worse correction, only none.
type spellBudget struct {
	lookups    int
	fixes      int
	candidates int
	steps      int
}

func newSpellBudget() *spellBudget {
	return &spellBudget{lookups: maxSpellLookups, fixes: maxSpellFixes, candidates: maxSpellCandidates, steps: maxSpellSteps}
}

// spellable reports whether a term is one typo correction works on: four to maxSpellLen letters a–z.
func spellable(term string) bool { return latin(term) && len(term) <= maxSpellLen }

// latin reports whether a term is made of four or more letters a–z: the terms the vocabulary counts.
func latin(term string) bool {
	return len(term) >= 4 && strings.TrimFunc(term, func(c rune) bool { return c >= 'a' && c <= 'z' }) == ""
}

// maxEdits is how far a correction may be from the term: one edit for terms of four to six
// letters, two for longer ones.
func maxEdits(term string) int {
	if len(term) > 6 {
		return 2
	}
	return 1
}
