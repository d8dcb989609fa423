package ingest

import (
	"context"
	"encoding/json"
	"io/fs"
	"maps"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
	"github.com/fixgraph/fixgraph/fixtures"
)

const (
	mobile       = "13812345678"
	mobileMasked = "138****5678"
	email        = "li.lei@example.com"
	emailMasked  = "l***@example.com"
	hotline      = "400-820-1234"
)

// piiBatch returns a batch with one node of every kind, with a mobile number in each free-text
// field and a number in fields that are not free text.
func piiBatch() *fixgraph.Batch {
	doc := &fixgraph.Document{ID: "doc:1", Source: "uploads/" + mobile + ".html", Title: "回访记录 " + mobile, Kind: fixgraph.KindFAQ}
	b := &fixgraph.Batch{Document: doc}
	b.Add(
		doc, // the document may also be among the nodes: it is masked once
		&fixgraph.Section{ID: "sec:1", DocumentID: doc.ID, Heading: "联系 " + mobile, HeadingPath: []string{"回访记录 " + mobile, "联系 " + mobile, "其他"},
			Text: "客户电话" + mobile + "，邮箱 " + email + "，客服热线 " + hotline + "。"},
		&fixgraph.FAQ{ID: "faq:1", Question: "能否回电 " + mobile + "？", Variants: []string{"打 " + mobile, "不变的问法"}, Answer: "请拨打 " + hotline + " 或写信给 " + email},
		&fixgraph.ErrorCode{ID: "code:WF-8012D:E102", Code: "E102", Product: "WF-8012D",
			Symptom: fixgraph.Text{"zh": "用户 " + mobile + " 报告排水慢", "en": "drains slowly"}, Cause: fixgraph.Text{"en": "Reported by " + email}},
		&fixgraph.RepairGuide{ID: "guide:1", Title: "回电 " + mobile, Code: "E102", Product: "WF-8012D",
			Steps: []string{"断电", "联系 " + mobile}, Warnings: []string{"勿告知他人 " + email}},
		&fixgraph.PolicyClause{ID: "clause:1", Number: "第二条", Title: "投诉电话 " + mobile, Text: "Complaints: " + email},
		&fixgraph.Product{ID: "product:WF-8012D", Model: "WF-8012D", Name: fixgraph.Text{"zh": "样机 " + mobile}, Category: fixgraph.Text{"zh": "洗衣机 " + mobile}},
		&fixgraph.Part{ID: "part:DC31-00178A", SKU: "DC31-00178A", Name: fixgraph.Text{"zh": "排水泵（" + mobile + " 预留）"}},
		&fixgraph.Video{ID: "video:1", URL: "https://video.example.com/" + mobile, Title: fixgraph.Text{"zh": "演示 " + mobile}},
		&fixgraph.Warehouse{ID: "wh:SH01", Code: "SH01", Name: "上海仓 联系人 " + mobile},
		&fixgraph.StockLevel{ID: "stock:DC31-00178A@SH01", SKU: "DC31-00178A", Warehouse: "SH01", Quantity: 12, UpdatedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)},
	)
	return b
}

func TestMaskBatch(t *testing.T) {
	b := piiBatch()
	sharedSymptom := b.Nodes[3].(*fixgraph.ErrorCode).Symptom
	sharedSteps := b.Nodes[4].(*fixgraph.RepairGuide).Steps

	found := MaskBatch(b, extract.PIIOptions{})

	want := map[extract.PIIKind]int{extract.PIIPhone: 17, extract.PIIEmail: 5}
	if !maps.Equal(found, want) {
		t.Errorf("MaskBatch found %v, want %v", found, want)
	}
	// Free text: masked everywhere.
	free := []struct {
		name string
		got  string
	}{
		{"document title", b.Document.Title},
	}
	add := func(name string, s ...string) {
		for _, v := range s {
			free = append(free, struct{ name, got string }{name, v})
		}
	}
	for _, n := range b.Nodes {
		switch n := n.(type) {
		case *fixgraph.Section:
			add("section heading", n.Heading)
			add("section heading path", n.HeadingPath[:2]...)
			add("section text", n.Text)
		case *fixgraph.FAQ:
			add("FAQ question", n.Question)
			add("FAQ variant", n.Variants[0])
			add("FAQ answer", n.Answer)
		case *fixgraph.ErrorCode:
			add("error code symptom", n.Symptom["zh"])
			add("error code cause", n.Cause["en"])
		case *fixgraph.RepairGuide:
			add("guide title", n.Title)
			add("guide step", n.Steps[1])
			add("guide warning", n.Warnings[0])
		case *fixgraph.PolicyClause:
			add("clause title", n.Title)
			add("clause text", n.Text)
		case *fixgraph.Product:
			add("product name", n.Name["zh"])
			add("product category", n.Category["zh"])
		case *fixgraph.Part:
			add("part name", n.Name["zh"])
		case *fixgraph.Video:
			add("video title", n.Title["zh"])
		case *fixgraph.Warehouse:
			add("warehouse name", n.Name)
		}
	}
	for _, f := range free {
		t.Run(f.name, func(t *testing.T) {
			if strings.Contains(f.got, mobile) || strings.Contains(f.got, email) {
				t.Errorf("%s still holds personal data: %q", f.name, f.got)
			}
			if !strings.Contains(f.got, mobileMasked) && !strings.Contains(f.got, emailMasked) {
				t.Errorf("%s shows no masked form: %q", f.name, f.got)
			}
		})
	}
	// What is not free text, or holds no personal data, stays as it was.
	sec := b.Nodes[1].(*fixgraph.Section)
	faq := b.Nodes[2].(*fixgraph.FAQ)
	video := b.Nodes[8].(*fixgraph.Video)
	kept := []struct{ name, got, want string }{
		{"document source, masked as a file name", b.Document.Source, "uploads/" + mobileMasked + ".html"},
		{"document id, made from the source as written", b.Document.ID, "doc:1"},
		{"video URL's path", video.URL, "https://video.example.com/" + mobile},
		{"unchanged heading path entry", sec.HeadingPath[2], "其他"},
		{"unchanged variant", faq.Variants[1], "不变的问法"},
		{"English symptom", b.Nodes[3].(*fixgraph.ErrorCode).Symptom["en"], "drains slowly"},
		{"product model", b.Nodes[6].(*fixgraph.Product).Model, "WF-8012D"},
		{"part SKU", b.Nodes[7].(*fixgraph.Part).SKU, "DC31-00178A"},
	}
	for _, k := range kept {
		if k.got != k.want {
			t.Errorf("%s = %q, want %q", k.name, k.got, k.want)
		}
	}
	if !strings.Contains(sec.Text, hotline) || !strings.Contains(faq.Answer, hotline) {
		t.Errorf("the hotline was masked: %q / %q", sec.Text, faq.Answer)
	}
	// Maps and slices are replaced, not written into.
	if sharedSymptom["zh"] != "用户 "+mobile+" 报告排水慢" || sharedSteps[1] != "联系 "+mobile {
		t.Errorf("MaskBatch wrote into shared values: %q, %q", sharedSymptom["zh"], sharedSteps[1])
	}
}

func TestMaskBatchOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  extract.PIIOptions
		want map[extract.PIIKind]int
	}{
		{"disabled", extract.PIIOptions{Disabled: true}, nil},
		{"e-mail only", extract.PIIOptions{Kinds: []extract.PIIKind{extract.PIIEmail}}, map[extract.PIIKind]int{extract.PIIEmail: 5}},
		{"e-mail domain kept", extract.PIIOptions{Kinds: []extract.PIIKind{extract.PIIEmail}, KeepEmailDomains: []string{"example.com"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := piiBatch()
			before, _ := json.Marshal(b.Nodes)
			found := MaskBatch(b, tt.opt)
			if !maps.Equal(found, tt.want) {
				t.Errorf("found %v, want %v", found, tt.want)
			}
			after, _ := json.Marshal(b.Nodes)
			if changed := string(before) != string(after); changed != (tt.want != nil) {
				t.Errorf("batch changed: %v, want %v", changed, tt.want != nil)
			}
		})
	}
	if found := MaskBatch(nil, extract.PIIOptions{}); found != nil {
		t.Errorf("MaskBatch(nil) = %v", found)
	}
}

// TestMaskBatchKeepsHotlineInFixtureFAQ ingests the demo FAQ with masking on: the service hotline
// customers need survives, and nothing in it is taken for personal data.
func TestMaskBatchKeepsHotlineInFixtureFAQ(t *testing.T) {
	const name = "faq/faq-general-zh.html"
	data, err := fs.ReadFile(fixtures.Corpus, name)
	if err != nil {
		t.Fatal(err)
	}
	p := &Pipeline{Now: fixedNow}
	b, err := p.Parse(context.Background(), name, data)
	if err != nil {
		t.Fatal(err)
	}
	unmasked, _ := json.Marshal(b.Nodes)
	found := MaskBatch(b, extract.PIIOptions{KeepEmailDomains: []string{"aurora.com.cn"}})
	if found != nil {
		t.Errorf("masking found personal data in the demo FAQ: %v", found)
	}
	masked, _ := json.Marshal(b.Nodes)
	if string(masked) != string(unmasked) {
		t.Error("masking changed the demo FAQ")
	}
	sections, faqs := 0, 0
	for _, n := range b.Nodes {
		switch n := n.(type) {
		case *fixgraph.Section:
			if strings.Contains(n.Text, hotline) {
				sections++
			}
		case *fixgraph.FAQ:
			if strings.Contains(n.Answer, hotline) {
				faqs++
			}
		}
	}
	if sections == 0 || faqs == 0 {
		t.Errorf("after masking, %s appears in %d sections and %d FAQ answers; want both", hotline, sections, faqs)
	}
}

// TestMaskBatchLeavesTheCorpusAlone masks every fixture: the demo corpus holds model and part
// numbers, error codes, prices, dates, hotlines and URLs, but no personal data.
func TestMaskBatchLeavesTheCorpusAlone(t *testing.T) {
	p := &Pipeline{Now: fixedNow}
	err := fs.WalkDir(fixtures.Corpus, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		t.Run(name, func(t *testing.T) {
			if path.Ext(name) == ".pdf" {
				requirePdftotext(t) // the Type 3 policy needs it
			}
			data, err := fs.ReadFile(fixtures.Corpus, name)
			if err != nil {
				t.Fatal(err)
			}
			b, err := p.Parse(context.Background(), name, data)
			if err != nil {
				t.Fatal(err)
			}
			if found := MaskBatch(b, extract.PIIOptions{}); found != nil {
				t.Errorf("found %v", found)
				for _, s := range b.Sections() {
					if strings.Contains(s.Text, "*") {
						t.Logf("section %q: %s", s.Heading, s.Text)
					}
				}
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
