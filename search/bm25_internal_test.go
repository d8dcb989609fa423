package search

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTopScoresMatchesFullSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{0, 1, 7, 100, 5000} {
		scores := make([]float64, n)
		var all []scored
		for i := range n {
			scores[i] = float64(rng.IntN(50)) // many ties; 0 is no match
			if scores[i] > 0 {
				all = append(all, scored{uint64(i), scores[i]})
			}
		}
		slices.SortFunc(all, func(a, b scored) int {
			return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.num, b.num))
		})
		for _, limit := range []int{1, 10, 50} {
			want := all[:min(limit, len(all))]
			if got := topScores(scores, limit); !slices.Equal(got, want) {
				t.Errorf("n=%d limit=%d: topScores = %v, want %v", n, limit, got, want)
			}
		}
	}
}
