package editor_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
)

// TestSeedTakesTheNarrowestAudience: a working copy made from what a department's editor sees
// of a shared node, which holds the department's internal text, gets the department's audience,
// whichever of the contributing documents' ids sorts first; publishing it as it stands never
// gives the text to public readers.
func TestSeedTakesTheNarrowestAudience(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const secret = "INTERNAL: replace board X"
	for i, src := range []string{"support/a.html", "support/zzzz.html"} {
		doc := &fixgraph.Document{ID: fixgraph.DocumentID(src), Source: src, ContentHash: "s", Kind: fixgraph.KindManual,
			Department: "support", Visibility: fixgraph.VisibilityDepartment, Status: fixgraph.StatusPublished, IngestedAt: time.Now().UTC()}
		b := &fixgraph.Batch{Document: doc}
		b.Add(&fixgraph.ErrorCode{ID: e102, Code: "E102", Product: "WF-8012D", Symptom: fixgraph.Text{"zh": secret}})
		if _, err := e.stores.Graph.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
		support := fixgraph.WithPrincipal(ctx, &fixgraph.Principal{ID: "user:sup", Name: "sup", Role: fixgraph.RoleEditor, Department: "support"})
		wc, err := e.svc.Current(support, e102)
		if err != nil {
			t.Fatal(err)
		}
		var ec fixgraph.ErrorCode
		if err := json.Unmarshal(wc.Node, &ec); err != nil {
			t.Fatal(err)
		}
		if ec.Symptom["zh"] != secret || wc.Visibility != fixgraph.VisibilityDepartment || wc.Department != "support" {
			t.Errorf("%d (%s): working copy says %q with audience %s/%s; want support's text, for support only", i, doc.ID, ec.Symptom["zh"], wc.Visibility, wc.Department)
		}
		if _, err := e.stores.Graph.Remove(ctx, doc.ID); err != nil {
			t.Fatal(err)
		}
	}
}
