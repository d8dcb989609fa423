package answer

import "github.com/fixgraph/fixgraph"

// Features returns what the confidence of a search answer is computed from (for calibration).
func (s *Service) Features(q string, hits []fixgraph.Hit) []float64 {
	top := hits[0]
	qt := s.Index.Analyze(q)
	cov := coverage(qt, s.Index.Analyze(top.Section.Heading+" "+top.Section.Text))
	head := coverage(qt, s.Index.Analyze(top.Section.Heading))
	margin := 1.0
	if len(hits) > 1 && top.Score > 0 {
		margin = min(1, (top.Score-hits[1].Score)/top.Score*4)
	}
	return []float64{cov, head, margin, top.Score, float64(len(qt))}
}
