package gql_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/gql"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

// mustClient returns an in-process GraphQL client over real embedded stores loaded with the fixtures.
func mustClient(tb testing.TB) *client.Client {
	tb.Helper()
	s := fixgraphtest.MustOpen(tb)
	s.Pipeline.PDF.Pdftotext = "-" // the Type 3 PDF fails alone; nothing here needs it
	s.MustLoadFixtures(tb)
	r := &gql.Resolver{Answers: s.Answers(), Graph: graph.Guarded{Store: s.Graph}, Stock: s.Graph}
	return client.New(gql.NewHandler(r, gql.Options{Introspection: true}))
}

// as sends a request acting for p, as the server's gate would after checking p's key.
func as(p *fixgraph.Principal) client.Option {
	return func(r *client.Request) {
		r.HTTP = r.HTTP.WithContext(fixgraph.WithPrincipal(r.HTTP.Context(), p))
	}
}

type stock struct {
	Quantity  int
	UpdatedAt string
	Warehouse struct{ Code, Name string }
}

type part struct {
	SKU        string
	Name       string
	TotalStock int
	Stock      []stock
}

type guide struct {
	Title    string
	Steps    []string
	Language string
	Videos   []struct{ URL, Title string }
	Parts    []part
	Citation struct{ URL, Heading string }
}

func TestTroubleshootE102(t *testing.T) {
	c := mustClient(t)
	var resp struct {
		Troubleshoot []struct {
			Code     string
			Severity string
			Symptom  string
			Product  struct{ Model, Name string }
			Guides   []guide
		}
	}
	c.MustPost(`query($code: String!) {
	  troubleshoot(code: $code) {
	    code severity symptom(lang: "zh")
	    product { model name(lang: "zh") }
	    guides(lang: "zh") {
	      title steps language
	      videos { url title(lang: "zh") }
	      parts { sku name(lang: "zh") totalStock stock { quantity updatedAt warehouse { code name } } }
	      citation { url heading }
	    }
	  }
	}`, &resp, client.Var("code", "E102"))
	if len(resp.Troubleshoot) != 1 {
		t.Fatalf("troubleshoot(E102) returned %d codes, want 1 (the washer's)", len(resp.Troubleshoot))
	}
	ec := resp.Troubleshoot[0]
	if ec.Code != "E102" || ec.Product.Model != "WF-8012D" || !strings.Contains(ec.Symptom, "排水") {
		t.Errorf("code = %+v", ec)
	}
	if len(ec.Guides) != 2 {
		t.Fatalf("E102 has %d guides, want 2 (Chinese and English manual)", len(ec.Guides))
	}
	g := ec.Guides[0]
	if g.Language != "zh" || len(g.Steps) < 5 || !strings.Contains(strings.Join(g.Steps, ""), "过滤器") {
		t.Errorf("first guide = %+v; want the detailed Chinese guide", g)
	}
	if len(g.Videos) != 1 || !strings.Contains(g.Videos[0].URL, "e102-drain-pump") {
		t.Errorf("videos = %+v", g.Videos)
	}
	if len(g.Parts) != 1 || g.Parts[0].SKU != "DC31-00178A" || g.Parts[0].Name != "排水泵" {
		t.Fatalf("parts = %+v", g.Parts)
	}
	byWH := map[string]int{}
	for _, s := range g.Parts[0].Stock {
		byWH[s.Warehouse.Code] = s.Quantity
		if s.UpdatedAt == "" || s.Warehouse.Name == "" {
			t.Errorf("stock level without time or warehouse name: %+v", s)
		}
	}
	if byWH["WH-SH01"] != 12 || byWH["WH-BJ03"] != 5 || len(byWH) != 3 || g.Parts[0].TotalStock != 17 {
		t.Errorf("stock = %v total %d; want WH-SH01 12, WH-GZ02 0, WH-BJ03 5", byWH, g.Parts[0].TotalStock)
	}
	if !strings.HasSuffix(g.Citation.URL, "#guide-e102") {
		t.Errorf("citation = %+v", g.Citation)
	}
}

func TestTroubleshootProductFilterAndBadCode(t *testing.T) {
	c := mustClient(t)
	tests := []struct {
		code, product string
		want          []string
	}{
		{"E-102", "洗衣机", []string{"WF-8012D"}},
		{"e102", "WF-8012D", []string{"WF-8012D"}},
		{"E102", "dishwasher", nil},
		{"F21", "", []string{"DW-6035"}},
		{"E5", "热水器", []string{"WH-5020"}},
		{"E999", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.product, func(t *testing.T) {
			var resp struct {
				Troubleshoot []struct{ Product struct{ Model string } }
			}
			c.MustPost(`query($c: String!, $p: String) { troubleshoot(code: $c, product: $p) { product { model } } }`,
				&resp, client.Var("c", tt.code), client.Var("p", tt.product))
			var got []string
			for _, ec := range resp.Troubleshoot {
				got = append(got, ec.Product.Model)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("products = %v, want %v", got, tt.want)
			}
		})
	}
	var resp struct{}
	err := c.Post(`{ troubleshoot(code: "hello") { code } }`, &resp)
	if err == nil || !strings.Contains(err.Error(), `"code":"invalid"`) || !strings.Contains(err.Error(), "not an error code") {
		t.Errorf("bad code error = %v; want extensions.code invalid", err)
	}
}

func TestSearch(t *testing.T) {
	c := mustClient(t)
	var resp struct {
		Search []struct {
			Heading     string
			HeadingPath []string
			Score       float64
			Snippet     string
			Document    struct{ Source, Kind string }
		}
	}
	c.MustPost(`{ search(query: "排水泵过滤器怎么清理", limit: 5) { heading headingPath score snippet document { source kind } } }`, &resp)
	if len(resp.Search) == 0 || len(resp.Search) > 5 {
		t.Fatalf("%d hits", len(resp.Search))
	}
	for i, h := range resp.Search {
		if h.Heading == "" || len(h.HeadingPath) == 0 || h.HeadingPath[len(h.HeadingPath)-1] != h.Heading || h.Score <= 0 || h.Snippet == "" || h.Document.Source == "" {
			t.Errorf("hit %d incomplete: %+v", i, h)
		}
		if i > 0 && h.Score > resp.Search[i-1].Score {
			t.Errorf("hits not in score order at %d", i)
		}
	}
	if !strings.Contains(resp.Search[0].Snippet, "排水泵") {
		t.Errorf("top snippet %q does not show the query's words", resp.Search[0].Snippet)
	}

	var faqOnly struct {
		Search []struct{ Document struct{ Kind string } }
	}
	c.MustPost(`{ search(query: "invoice", limit: 10, kinds: ["faq"], language: "en") { document { kind } } }`, &faqOnly)
	if len(faqOnly.Search) == 0 {
		t.Fatal("no FAQ hits for invoice")
	}
	for _, h := range faqOnly.Search {
		if h.Document.Kind != "faq" {
			t.Errorf("kind filter let through %q", h.Document.Kind)
		}
	}

	for _, q := range []string{`{ search(query: "", limit: 5) { heading } }`, `{ search(query: "x", limit: 1000) { heading } }`} {
		if err := c.Post(q, &resp); err == nil || !strings.Contains(err.Error(), `"code":"invalid"`) {
			t.Errorf("%s: err = %v; want invalid", q, err)
		}
	}
}

func TestAsk(t *testing.T) {
	c := mustClient(t)
	type answer struct {
		Kind       string
		Language   string
		Text       string
		Confidence float64
		Product    *struct{ Model string }
		ErrorCode  *struct{ Code string }
		Guide      *guide
		FAQ        *struct{ Question string }
		Clause     *struct {
			Number string
			Page   int
		}
		Citations []struct {
			URL         string
			HeadingPath []string
			Page        int
		}
	}
	ask := func(q string) answer {
		var resp struct{ Ask answer }
		c.MustPost(`query($q: String!) { ask(question: $q) {
		  kind language text confidence
		  product { model } errorCode { code }
		  guide { title steps videos { url } parts { sku totalStock stock { quantity warehouse { code } } } }
		  faq { question } clause { number page }
		  citations { url headingPath page }
		} }`, &resp, client.Var("q", q))
		return resp.Ask
	}

	a := ask("我的洗衣机显示E102怎么办")
	if a.Kind != "troubleshoot" || a.Product == nil || a.Product.Model != "WF-8012D" || a.ErrorCode == nil || a.ErrorCode.Code != "E102" {
		t.Fatalf("ask E102 = %+v", a)
	}
	if a.Guide == nil || len(a.Guide.Steps) == 0 || len(a.Guide.Videos) == 0 || len(a.Guide.Parts) == 0 || len(a.Guide.Parts[0].Stock) < 2 {
		t.Fatalf("guide = %+v; want steps, a video and a part with stock", a.Guide)
	}
	if a.Language != "zh" || a.Confidence < 0.8 || a.Confidence > 1 || len(a.Citations) == 0 {
		t.Errorf("language %s confidence %v citations %v", a.Language, a.Confidence, a.Citations)
	}

	a = ask("My dishwasher shows F21, what should I do?")
	if a.Kind != "troubleshoot" || a.ErrorCode.Code != "F21" || a.Product.Model != "DW-6035" || a.Language != "en" {
		t.Errorf("ask F21 = %+v", a)
	}

	a = ask("How do I get an invoice for my order?")
	if a.Kind != "faq" || a.FAQ == nil || !strings.Contains(strings.ToLower(a.FAQ.Question), "invoice") || a.Text == "" {
		t.Errorf("ask invoice = %+v", a)
	}

	a = ask("保修期从哪天开始算")
	if a.Kind != "policy" || a.Clause == nil || a.Clause.Page == 0 || len(a.Citations) == 0 || a.Citations[0].Page == 0 {
		t.Errorf("ask warranty start = %+v; want a policy clause with its page", a)
	}

	a = ask("qwxz zzkv")
	if a.Kind != "none" || a.Confidence != 0 {
		t.Errorf("ask gibberish = %+v; want none with confidence 0", a)
	}

	var resp struct{}
	if err := c.Post(`{ ask(question: "   ") { kind } }`, &resp); err == nil || !strings.Contains(err.Error(), "question is empty") {
		t.Errorf("empty question: %v", err)
	}
}

func TestLookupsAndSetStock(t *testing.T) {
	c := mustClient(t)
	var prod struct {
		Product struct {
			Model      string
			Category   string
			ErrorCodes []struct{ ID, Code string }
			Manuals    []struct{ Language string }
			Faqs       []struct{ Question string }
		}
	}
	c.MustPost(`{ product(model: "wf-8012d") { model category(lang: "en") errorCodes { id code } manuals { language } faqs { question } } }`, &prod)
	if prod.Product.Model != "WF-8012D" || prod.Product.Category != "washing machine" || len(prod.Product.ErrorCodes) != 12 || len(prod.Product.Manuals) != 2 || len(prod.Product.Faqs) == 0 {
		t.Fatalf("product = %+v", prod.Product)
	}

	var node struct {
		Node struct {
			Typename string `json:"__typename"`
			Code     string
		}
	}
	c.MustPost(`query($id: ID!) { node(id: $id) { __typename ... on ErrorCode { code } } }`, &node, client.Var("id", prod.Product.ErrorCodes[0].ID))
	if node.Node.Typename != "ErrorCode" || node.Node.Code == "" {
		t.Errorf("node = %+v", node)
	}
	var missing struct{ Part *struct{ SKU string } }
	c.MustPost(`{ part(sku: "XX00-00000X") { sku } }`, &missing)
	if missing.Part != nil {
		t.Errorf("unknown part = %+v; want null", missing.Part)
	}

	var set struct {
		SetStock []stock
	}
	const setStock = `mutation { setStock(levels: [{sku: "DC31-00178A", warehouse: "WH-GZ02", quantity: 4, updatedAt: "2026-11-22T10:00:00+08:00"}]) { quantity updatedAt warehouse { code name } } }`
	if err := c.Post(setStock, &set); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("setStock by an anonymous reader: %v; want forbidden", err)
	}
	logistics := as(&fixgraph.Principal{ID: "key:logistics", Role: fixgraph.RoleUploader, Department: "logistics"})
	c.MustPost(setStock, &set, logistics)
	if len(set.SetStock) != 1 || set.SetStock[0].Quantity != 4 || set.SetStock[0].Warehouse.Name != "广州南方仓" {
		t.Fatalf("setStock = %+v", set)
	}
	var p struct{ Part part }
	c.MustPost(`{ part(sku: "DC31-00178A") { sku totalStock stock { quantity warehouse { code } } } }`, &p)
	if p.Part.TotalStock != 21 {
		t.Errorf("total stock after push = %d, want 12+4+5", p.Part.TotalStock)
	}

	var resp struct{}
	if err := c.Post(`mutation { setStock(levels: [{sku: "DC31-00178A", warehouse: "WH-GZ02", quantity: -1}]) { quantity } }`, &resp, logistics); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative quantity: %v", err)
	}
	if err := c.Post(`{ troubleshoot(code: "E102") { nosuchfield } }`, &resp); err == nil || !strings.Contains(err.Error(), "nosuchfield") {
		t.Errorf("malformed query: %v", err)
	}
}

// TestConcurrentRequests runs many requests at once through the shared stores; run with -race.
func TestConcurrentRequests(t *testing.T) {
	c := mustClient(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var resp struct {
				Ask struct {
					Kind  string
					Guide struct {
						Parts []struct{ Stock []struct{ Quantity int } }
					}
				}
			}
			if err := c.Post(`{ ask(question: "E102") { kind guide { parts { stock { quantity } } } } }`, &resp); err != nil || resp.Ask.Kind != "troubleshoot" || len(resp.Ask.Guide.Parts) == 0 {
				t.Errorf("ask: %v %+v", err, resp)
			}
		}()
	}
	wg.Wait()
}

// TestGuidesWithoutVideosOrParts checks that a guide with no video or no part gives empty lists,
// not an error (the edge loader once reported such guides as "not found").
func TestGuidesWithoutVideosOrParts(t *testing.T) {
	c := mustClient(t)
	empty := 0
	for _, code := range []string{"E101", "E104", "E107", "E110", "E111", "E112", "F8", "F13", "E5", "E9"} {
		var resp struct {
			Troubleshoot []struct{ Guides []guide }
		}
		err := c.Post(`query($code: String!) {
		  troubleshoot(code: $code) { guides { title videos { url } parts { sku totalStock } } }
		}`, &resp, client.Var("code", code))
		if err != nil {
			t.Errorf("troubleshoot(%s): %v", code, err)
			continue
		}
		for _, ec := range resp.Troubleshoot {
			for _, g := range ec.Guides {
				if len(g.Videos) == 0 || len(g.Parts) == 0 {
					empty++
				}
			}
		}
	}
	if empty == 0 {
		t.Error("no guide without a video or a part among these codes; the test no longer covers the case")
	}
}
