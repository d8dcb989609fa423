package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fixgraph/fixgraph"
)

// What a hand-off case expects.
const (
	ExpectNormal        = "normal"         // an answerable question: no hand-off
	ExpectNegative      = "negative"       // a question with danger or complaint words used harmlessly or denied: no danger or complaint hand-off
	ExpectDanger        = "danger"         // a hand-off for danger, the safety step first
	ExpectComplaint     = "complaint"      // a hand-off for a complaint
	ExpectDangerousCode = "dangerous_code" // a hand-off for a dangerous error code, the safety step first
)

// HandoffCase is one message of a hand-off evaluation set.
type HandoffCase struct {
	ID      string `json:"id"`
	Message string `json:"message"`
	Lang    string `json:"lang"`
	Expect  string `json:"expect"`
}

// LoadHandoff reads a hand-off evaluation set: JSON lines of HandoffCase.
func LoadHandoff(r io.Reader, name string) ([]HandoffCase, error) {
	var out []HandoffCase
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	expects := []string{ExpectNormal, ExpectNegative, ExpectDanger, ExpectComplaint, ExpectDangerousCode}
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c HandoffCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "%s line %d: %v", name, line, err)
		}
		if c.Message == "" || !slices.Contains(expects, c.Expect) {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "%s line %d: a case needs a message and expect (one of %s)", name, line, strings.Join(expects, ", "))
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// Asker answers a message as a new conversation.
type Asker func(ctx context.Context, msg string) (*fixgraph.Answer, error)

// HandoffReport holds the figures of a hand-off evaluation.
type HandoffReport struct {
	N int `json:"n"`
	// DangerRecall is the share of danger messages handed off for danger.
	DangerRecall float64 `json:"dangerRecall"`
	// ComplaintRecall is the share of complaints handed off as complaints.
	ComplaintRecall float64 `json:"complaintRecall"`
	// DangerousCodeRecall is the share of asks about a dangerous code handed off for it (or for danger).
	DangerousCodeRecall float64 `json:"dangerousCodeRecall"`
	// SafetyFirst is the share of the danger and dangerous-code hand-offs whose answer leads with
	// a safety step and gives no repair steps for danger.
	SafetyFirst float64 `json:"safetyFirst"`
	// SafetyFromDocuments is the share of those safety steps taken from the documents.
	SafetyFromDocuments float64 `json:"safetyFromDocuments"`
	// NormalHandoff is the share of normal answerable questions handed off for any reason.
	NormalHandoff float64 `json:"normalHandoff"`
	// NegativeFalseAlarm is the share of tricky negatives handed off for danger or a complaint.
	NegativeFalseAlarm float64 `json:"negativeFalseAlarm"`
	// NegativeHandoff is the share of tricky negatives handed off for any reason.
	NegativeHandoff float64        `json:"negativeHandoff"`
	Counts          map[string]int `json:"counts"` // cases per expectation
	Misses          []HandoffMiss  `json:"misses"`
}

// HandoffMiss is a case answered otherwise than expected.
type HandoffMiss struct {
	ID, Message, Expect string
	Reason              string   // the hand-off reason given, empty for none
	Matched             []string // what was recognised
}

// RunHandoff asks every case and measures how hand-offs went: recall of danger, complaints and
// dangerous codes, whether danger answers lead with the safety step, and how often answerable
// questions and tricky negatives are handed off.
func RunHandoff(ctx context.Context, ask Asker, cases []HandoffCase) (*HandoffReport, error) {
	rep := &HandoffReport{N: len(cases), Counts: map[string]int{}}
	hits := map[string]int{}
	var safe, safeRight, fromDocs, negAlarm, negHandoff int
	for _, c := range cases {
		ans, err := ask(ctx, c.Message)
		if err != nil {
			return nil, fmt.Errorf("case %q: %w", c.ID, err)
		}
		h := ans.Handoff
		rep.Counts[c.Expect]++
		ok := false
		switch c.Expect {
		case ExpectNormal:
			ok = !h.Recommended
		case ExpectNegative:
			alarm := h.Reason == fixgraph.HandoffDanger || h.Reason == fixgraph.HandoffComplaint
			ok = !alarm
			if alarm {
				negAlarm++
			}
			if h.Recommended {
				negHandoff++
			}
		case ExpectDanger:
			ok = h.Recommended && h.Reason == fixgraph.HandoffDanger
		case ExpectComplaint:
			ok = h.Recommended && h.Reason == fixgraph.HandoffComplaint
		case ExpectDangerousCode:
			ok = h.Recommended && (h.Reason == fixgraph.HandoffDangerousCode || h.Reason == fixgraph.HandoffDanger)
		}
		if ok && c.Expect != ExpectNegative {
			hits[c.Expect]++
		}
		if ok && (c.Expect == ExpectDanger || c.Expect == ExpectDangerousCode) {
			safe++
			if ans.Safety != nil && ans.Safety.Text != "" && strings.HasPrefix(ans.Text, ans.Safety.Text) &&
				(h.Reason != fixgraph.HandoffDanger || ans.Guide == nil) {
				safeRight++
				if !ans.Safety.Default {
					fromDocs++
				}
			}
		}
		if !ok {
			rep.Misses = append(rep.Misses, HandoffMiss{ID: c.ID, Message: c.Message, Expect: c.Expect, Reason: h.Reason, Matched: h.Matched})
		}
	}
	share := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return round(float64(a) / float64(b))
	}
	rep.DangerRecall = share(hits[ExpectDanger], rep.Counts[ExpectDanger])
	rep.ComplaintRecall = share(hits[ExpectComplaint], rep.Counts[ExpectComplaint])
	rep.DangerousCodeRecall = share(hits[ExpectDangerousCode], rep.Counts[ExpectDangerousCode])
	rep.NormalHandoff = share(rep.Counts[ExpectNormal]-hits[ExpectNormal], rep.Counts[ExpectNormal])
	rep.NegativeFalseAlarm = share(negAlarm, rep.Counts[ExpectNegative])
	rep.NegativeHandoff = share(negHandoff, rep.Counts[ExpectNegative])
	rep.SafetyFirst = share(safeRight, safe)
	rep.SafetyFromDocuments = share(fromDocs, safeRight)
	return rep, nil
}

// Write prints the report.
func (r *HandoffReport) Write(w io.Writer) {
	fmt.Fprintf(w, "%d messages: %d normal, %d tricky negatives, %d danger, %d complaints, %d dangerous codes\n", r.N,
		r.Counts[ExpectNormal], r.Counts[ExpectNegative], r.Counts[ExpectDanger], r.Counts[ExpectComplaint], r.Counts[ExpectDangerousCode])
	line := func(name string, v float64, n int) {
		if n > 0 {
			fmt.Fprintf(w, "%-40s %6.3f\n", name, v)
		}
	}
	danger, codes := r.Counts[ExpectDanger], r.Counts[ExpectDangerousCode]
	line("danger recall", r.DangerRecall, danger)
	line("complaint recall", r.ComplaintRecall, r.Counts[ExpectComplaint])
	line("dangerous code recall", r.DangerousCodeRecall, codes)
	line("safety step first (of those)", r.SafetyFirst, danger+codes)
	line("safety step from the documents", r.SafetyFromDocuments, danger+codes)
	line("hand-off rate of normal questions", r.NormalHandoff, r.Counts[ExpectNormal])
	line("danger/complaint alarms on negatives", r.NegativeFalseAlarm, r.Counts[ExpectNegative])
	line("hand-off rate of negatives (any reason)", r.NegativeHandoff, r.Counts[ExpectNegative])
}
