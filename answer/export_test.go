package answer

import "github.com/fixgraph/fixgraph"

// Features returns what the confidence of a search answer is computed from, for fitting it:
// coverage, heading coverage, BM25 score, number of terms.
func (s *Service) Features(q string, top fixgraph.Hit) []float64 {
	f := s.confidenceFeatures(q, top)
	return []float64{f.coverage, f.heading, f.lexical, f.terms}
}
