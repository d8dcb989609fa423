package search

import (
	"slices"
	"testing"
)

func TestVocabularyCorrects(t *testing.T) {
	v := newVocabulary()
	v.add([]string{"warranti", "water", "heater", "drain", "洗衣", "e102"})
	v.add([]string{"water", "waiter", "heater"})
	tests := []struct {
		in, want []string
	}{
		{[]string{"warrenti"}, []string{"warranti"}},                       // one edit
		{[]string{"watter", "heater"}, []string{"heater", "water"}},        // the more frequent of water and waiter
		{[]string{"drain", "e102", "洗衣"}, []string{"drain", "e102", "洗衣"}}, // known or not Latin: untouched
		{[]string{"dra"}, []string{"dra"}},                                 // too short to correct
		{[]string{"zzzzzz"}, []string{"zzzzzz"}},                           // nothing near
	}
	for _, tt := range tests {
		if got := v.correct(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("correct(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, c := range []struct {
		a, b  string
		limit int
		want  int
	}{{"kitten", "sitting", 3, 3}, {"kitten", "sitting", 2, 3}, {"same", "same", 1, 0}, {"abc", "abcdef", 2, 3}, {"flaw", "lawn", 2, 2}} {
		if got := editDistance(c.a, c.b, c.limit); got != c.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", c.a, c.b, c.limit, got, c.want)
		}
	}
}
