package ingest

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
)

// TestProseCodes reads codes that manuals define outside tables: one code per heading with the
// steps under it, lines listing codes under a heading that says so, and a question heading. Words
// and numbers of a code's shape elsewhere (A4 paper, a model number) are not codes.
func TestProseCodes(t *testing.T) {
	page := `<html lang="en"><head><title>Breeze washer guide</title></head><body>
<h1>Breeze washer guide</h1>
<h2>Troubleshooting</h2>
<h3>E21 – Drain fault</h3><ol><li>Unplug the washer.</li><li>Clean the drain filter.</li></ol>
<h3>E22 – Heater fault</h3><p>Call the service centre.</p>
<h2>Display messages</h2>
<p>LOC: Child lock is on, hold Start for 3 seconds</p>
<p>dE: Door is open, close the door firmly</p>
<h2>What does 5E mean?</h2><p>The water did not drain in time. Check that the hose is not kinked.</p>
<h2>Paper and models</h2>
<h3>A4 paper</h3><p>Use A4 or Letter paper.</p>
<p>Model WF-8012D: 8 kg drum</p>
</body></html>`
	b, err := (&Pipeline{}).Parse(context.Background(), "breeze.html", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*fixgraph.ErrorCode{}
	steps := map[string][]string{}
	for _, n := range b.Nodes {
		switch n := n.(type) {
		case *fixgraph.ErrorCode:
			got[n.Code] = n
		case *fixgraph.RepairGuide:
			steps[n.Code] = n.Steps
		}
	}
	want := map[string]string{"E21": "Drain fault", "E22": "Heater fault", "LOC": "Child lock is on", "dE": "Door is open", "5E": "water did not drain"}
	for code, meaning := range want {
		ec := got[code]
		if ec == nil {
			t.Errorf("no code %s; got %v", code, slices.Sorted(maps.Keys(got)))
			continue
		}
		if !strings.Contains(ec.Symptom.In("en"), meaning) {
			t.Errorf("%s means %q, want %q", code, ec.Symptom.In("en"), meaning)
		}
	}
	if len(got) != len(want) {
		t.Errorf("codes %v, want exactly %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	if !slices.Equal(steps["E21"], []string{"Unplug the washer.", "Clean the drain filter."}) {
		t.Errorf("E21 steps %q", steps["E21"])
	}
	if b.Document.Kind != fixgraph.KindManual {
		t.Errorf("kind %s, want manual", b.Document.Kind)
	}
}

// TestHTMLCodeColumnByContent reads an HTML table whose code column's header names no role.
func TestHTMLCodeColumnByContent(t *testing.T) {
	page := `<html lang="en"><head><title>Aircon AC-3 guide</title></head><body><h1>Aircon AC-3 guide</h1><h2>Indicator lamps</h2>
<table><tr><th>Indicator</th><th>Meaning</th><th>What to do</th></tr>
<tr><td>P1</td><td>Outdoor unit protection</td><td>Wait ten minutes.</td></tr>
<tr><td>dF</td><td>Defrosting</td><td>Nothing; heating resumes by itself.</td></tr>
<tr><td>88</td><td>Display board fault</td><td>Call the service centre.</td></tr></table></body></html>`
	b, err := (&Pipeline{}).Parse(context.Background(), "ac3.html", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range b.Nodes {
		if ec, ok := n.(*fixgraph.ErrorCode); ok {
			got[ec.Code] = ec.Symptom.In("en")
		}
	}
	want := map[string]string{"P1": "Outdoor unit protection", "dF": "Defrosting", "88": "Display board fault"}
	if !maps.Equal(got, want) {
		t.Errorf("codes %v, want %v", got, want)
	}
}

// TestTraditionalHeaders reads a code table whose header is in Traditional Chinese.
func TestTraditionalHeaders(t *testing.T) {
	page := `<html lang="zh-Hant"><head><title>除濕機 DH-2000 說明書</title></head><body><h1>除濕機 DH-2000 說明書</h1><h2>故障代碼</h2>
<table><tr><th>顯示</th><th>故障現象</th><th>處理方法</th></tr>
<tr><td>E1</td><td>濕度感應器異常</td><td>請聯絡維修中心</td></tr>
<tr><td>FL</td><td>水箱已滿</td><td>倒掉水箱的水</td></tr></table></body></html>`
	b, err := (&Pipeline{}).Parse(context.Background(), "dh.html", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string][]string{}
	for _, n := range b.Nodes {
		if g, ok := n.(*fixgraph.RepairGuide); ok {
			steps[g.Code] = g.Steps
		}
	}
	if len(steps["E1"]) != 1 || steps["E1"][0] != "請聯絡維修中心" || len(steps["FL"]) != 1 {
		t.Errorf("guides %q, want the remedy column's steps, as written", steps)
	}
}
