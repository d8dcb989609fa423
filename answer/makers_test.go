package answer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

// TestSameCodeTwoMakers ingests two makers' manuals that print no model number and both define
// E21 and 03, each with its own meaning. The codes stay apart, one per manual, and a question
// that does not say which product gets no confident answer.
func TestSameCodeTwoMakers(t *testing.T) {
	s := fixgraphtest.MustOpen(t)
	manual := func(title, meaning21, meaning03 string) []byte {
		return []byte(`<html><head><title>` + title + `</title></head><body><h1>` + title + `</h1>
<h2>Error codes</h2><table><tr><th>Display</th><th>Meaning</th><th>Remedy</th></tr>
<tr><td>E21</td><td>` + meaning21 + `</td><td>Call the service.</td></tr>
<tr><td>03</td><td>` + meaning03 + `</td><td>Check it.</td></tr></table></body></html>`)
	}
	ctx := context.Background()
	for name, data := range map[string][]byte{
		"heatpump.html": manual("Aquaclean pool heat pump user guide", "Water flow too low", "Sensor open circuit"),
		"ebike.html":    manual("Veloz e-bike display manual", "Wheel speed sensor fault", "Brakes engaged"),
	} {
		if res := s.Pipeline.IngestFile(ctx, name, data); res.Err != nil {
			t.Fatalf("%s: %v", name, res.Err)
		}
	}
	svc := s.Answers()
	for _, code := range []string{"E21", "03"} {
		ecs, err := svc.Troubleshoot(ctx, code, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(ecs) != 2 || ecs[0].ID == ecs[1].ID || ecs[0].Product == ecs[1].Product {
			t.Fatalf("troubleshoot(%s) gave %d codes %+v, want one per manual", code, len(ecs), ecs)
		}
	}
	ans, err := svc.Ask(ctx, "The display shows E21, what should I do?")
	if err != nil {
		t.Fatal(err)
	}
	if ans.Confidence >= 0.8 {
		t.Errorf("an E21 two makers define answered at confidence %.2f; the question names no product", ans.Confidence)
	}
	if len(ans.Notes) == 0 || !strings.Contains(ans.Notes[0], "Aquaclean") || !strings.Contains(ans.Notes[0], "Veloz") {
		t.Errorf("notes %q do not ask which of the two products", ans.Notes)
	}
}

// TestUnknownCodeIsNoConfidentAnswer asks about a code no manual defines. Search finds the rows of
// other codes, which must not answer it with confidence.
func TestUnknownCodeIsNoConfidentAnswer(t *testing.T) {
	svc := mustService(t)
	for _, q := range []string{"洗衣机显示E987怎么办", "My dishwasher shows F77, what now?"} {
		ans, err := svc.Ask(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if ans.Confidence >= 0.5 {
			t.Errorf("%q: answered %s (%v) at confidence %.2f", q, ans.Kind, ans.ErrorCode, ans.Confidence)
		}
	}
}
