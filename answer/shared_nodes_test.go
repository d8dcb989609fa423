package answer_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

// TestSharedNodesKeepDepartmentText: department a publishes an internal manual that describes
// the fixture corpus's WF-8012D, its E102, the guide's part and video — nodes the public
// manuals describe too. A public key's troubleshoot, ask (Chinese and English), guides and node
// reads never carry a's text, in any field; a's own editor sees it.
func TestSharedNodesKeepDepartmentText(t *testing.T) {
	ctx := context.Background()
	s := fixgraphtest.MustOpen(t)
	s.MustLoadFixtures(t)
	svc := s.Answers()
	const secret = "INTERNAL: replace board X"
	e102 := fixgraph.ErrorCodeID("WF-8012D", "E102")
	product, part := fixgraph.ProductID("WF-8012D"), fixgraph.PartID("DC31-00178A")

	guides, err := s.Graph.Neighbors(ctx, []string{e102}, fixgraph.RelFixedBy, fixgraph.Out)
	if err != nil || len(guides[e102]) == 0 {
		t.Fatalf("the fixtures' E102 has no guide: %v, %v", guides, err)
	}
	videos, err := s.Graph.Neighbors(ctx, guides[e102], fixgraph.RelHasVideo, fixgraph.Out)
	if err != nil {
		t.Fatal(err)
	}
	var videoIDs []string
	for _, l := range videos {
		videoIDs = append(videoIDs, l...)
	}
	vs, err := s.Graph.Nodes(ctx, videoIDs)
	if err != nil || len(vs) == 0 {
		t.Fatalf("the fixtures' E102 guide has no video: %v, %v", videoIDs, err)
	}

	src := "a/wf-8012d-internal.html"
	doc := &fixgraph.Document{ID: fixgraph.DocumentID(src), Source: src, Title: secret, ContentHash: "a1", Kind: fixgraph.KindManual,
		Language: "zh", Department: "a", Visibility: fixgraph.VisibilityDepartment, Status: fixgraph.StatusPublished, IngestedAt: time.Now().UTC()}
	b := &fixgraph.Batch{Document: doc}
	sec := &fixgraph.Section{ID: fixgraph.HashID(fixgraph.PrefixSection, doc.ID, "E102"), DocumentID: doc.ID, Heading: "E102 " + secret,
		HeadingPath: []string{"E102 " + secret}, Text: secret + "，E102 排水故障", Language: "zh", Products: []string{"WF-8012D"}}
	b.Add(sec,
		&fixgraph.Product{ID: product, Model: "WF-8012D", Name: fixgraph.Text{"zh": secret, "fr": secret}, Brand: secret},
		&fixgraph.ErrorCode{ID: e102, Code: "E102", Product: "WF-8012D", Symptom: fixgraph.Text{"zh": secret, "en": secret},
			Cause: fixgraph.Text{"zh": secret, "en": secret}, Severity: "high", FixedIn: secret},
		&fixgraph.Part{ID: part, SKU: "DC31-00178A", Name: fixgraph.Text{"zh": secret, "en": secret}})
	for _, v := range vs {
		if v, ok := v.(*fixgraph.Video); ok {
			b.Add(&fixgraph.Video{ID: v.ID, URL: v.URL, Title: fixgraph.Text{"zh": secret, "en": secret}})
		}
	}
	b.Link(sec.ID, fixgraph.RelPartOf, doc.ID)
	b.Link(sec.ID, fixgraph.RelMentions, e102)
	b.Link(product, fixgraph.RelHasError, e102)
	if r := s.Pipeline.Write(ctx, src, b); r.Err != nil {
		t.Fatal(r.Err)
	}

	show := func(v any) string {
		t.Helper()
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	bot := fixgraph.WithPrincipal(ctx, &fixgraph.Principal{ID: "key:bot", Name: "bot", Role: fixgraph.RoleReader})
	reads := map[string]string{}
	codes, err := svc.Troubleshoot(bot, "E102", "WF-8012D")
	if err != nil || len(codes) != 1 {
		t.Fatalf("troubleshoot E102 as the public bot = %v, %v", codes, err)
	}
	reads["troubleshoot"] = show(codes)
	for _, q := range []string{"WF-8012D 显示E102怎么办", "My WF-8012D shows error E102, what should I do?", "E102 " + secret} {
		ans, err := svc.Ask(bot, q)
		if err != nil {
			t.Fatal(err)
		}
		ans.Question = "" // the third question names the secret itself
		reads["ask "+q] = show(ans)
	}
	gs, err := svc.Guides(bot, e102)
	if err != nil {
		t.Fatal(err)
	}
	reads["guides"] = show(gs)
	ns, err := svc.Graph.Nodes(bot, append([]string{product, part, e102}, videoIDs...))
	if err != nil {
		t.Fatal(err)
	}
	reads["nodes"] = show(ns)
	for read, v := range reads {
		if strings.Contains(v, "INTERNAL") {
			t.Errorf("the public bot's %s shows department a's internal text:\n%s", read, v)
		}
	}
	if ec := codes[0]; ec.Symptom["zh"] == "" || ec.FixedIn != "" || ec.Severity == "high" {
		t.Errorf("the public bot's E102 = %+v; want the public manuals' symptom, no fixed-in version, their severity", ec)
	}

	own := fixgraph.WithPrincipal(ctx, &fixgraph.Principal{ID: "user:ann", Name: "ann", Role: fixgraph.RoleEditor, Department: "a"})
	codes, err = svc.Troubleshoot(own, "E102", "WF-8012D")
	if err != nil || len(codes) != 1 || codes[0].Symptom["zh"] != secret || codes[0].FixedIn != secret {
		t.Errorf("troubleshoot E102 as a's editor = %s, %v; want a's own symptom and fixed-in version", show(codes), err)
	}
}
