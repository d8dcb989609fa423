package gql_test

import (
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"
)

// TestAskSafety reads a danger hand-off, a complaint and a dangerous code through the API: the
// reason, the matched terms and hazards, the safety step with its citation, and the severity.
func TestAskSafety(t *testing.T) {
	c := mustClient(t)
	type answer struct {
		Kind, Text string
		ErrorCode  *struct{ Code, Severity string }
		Guide      *struct{ Title string }
		Safety     *struct {
			Hazard, Text string
			Default      bool
			Citation     *struct{ URL string }
		}
		Handoff struct {
			Recommended      bool
			Reason           string
			Matched, Hazards []string
			ErrorCode        string
		}
	}
	ask := func(q string) answer {
		var resp struct{ Ask answer }
		c.MustPost(`query($q: String!) { ask(question: $q) {
		  kind text errorCode { code severity } guide { title }
		  safety { hazard text default citation { url } }
		  handoff { recommended reason matched hazards errorCode }
		} }`, &resp, client.Var("q", q))
		return resp.Ask
	}
	a := ask("洗衣机显示E102，插头那里在冒烟，还有焦味")
	if a.Kind != "safety" || a.Handoff.Reason != "danger" || strings.Join(a.Handoff.Matched, " ") != "冒烟 焦味" ||
		strings.Join(a.Handoff.Hazards, " ") != "smoke burning" || a.Handoff.ErrorCode != "E102" || a.Guide != nil {
		t.Errorf("danger: %+v", a)
	}
	if a.Safety == nil || a.Safety.Default || a.Safety.Citation == nil || !strings.Contains(a.Safety.Citation.URL, "wf-8012d-zh.html#") || !strings.HasPrefix(a.Text, a.Safety.Text) {
		t.Errorf("danger's safety step: %+v, text %q", a.Safety, a.Text)
	}
	if a := ask("我要投诉你们的售后，再不处理我就打12315"); a.Kind != "handoff" || a.Handoff.Reason != "complaint" || strings.Join(a.Handoff.Matched, " ") != "投诉 12315" || a.Safety != nil {
		t.Errorf("complaint: %+v", a)
	}
	if a := ask("热水器显示E5怎么办"); a.Handoff.Reason != "dangerous_code" || a.ErrorCode == nil || a.ErrorCode.Severity != "danger" || a.Safety == nil || !strings.HasPrefix(a.Text, a.Safety.Text) {
		t.Errorf("dangerous code: %+v", a)
	}
}
