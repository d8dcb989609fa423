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
		scores := map[uint64]float64{}
		for i := range n {
			scores[uint64(i)] = float64(rng.IntN(50)) // many ties
		}
		var all []scored
		for num, s := range scores {
			all = append(all, scored{num, s})
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
