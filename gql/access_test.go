package gql_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/gql"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

// restricted is knowledge a bot must never see: one document per way of being hidden, each with a
// phrase, an error code and a FAQ entry of its own.
var restricted = []struct {
	name       string
	visibility fixgraph.Visibility
	status     fixgraph.Status
	department string
	phrase     string
	code       string
}{
	{"internal", fixgraph.VisibilityInternal, fixgraph.StatusPublished, "", "内部折扣码申请流程", "E771"},
	{"draft", fixgraph.VisibilityPublic, fixgraph.StatusDraft, "", "草稿中的新排水方案", "E772"},
	{"legal", fixgraph.VisibilityDepartment, fixgraph.StatusPublished, "legal", "法务专用赔付条款", "E773"},
}

func restrictedPage(phrase, code string) []byte {
	return []byte(fmt.Sprintf(`<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>WF-8012D %[1]s</title></head><body>
<h1>WF-8012D 滚筒洗衣机 %[1]s</h1>
<h2>%[1]s</h2><p>%[1]s：仅限授权人员阅读的说明。</p>
<h2>故障代码</h2>
<table><tr><th>代码</th><th>故障现象</th><th>处理方法</th></tr>
<tr><td>%[2]s</td><td>%[1]s 相关故障</td><td>1. 断电。2. %[1]s。</td></tr></table>
</body></html>`, phrase, code))
}

func restrictedFAQ(phrase string) []byte {
	return []byte(fmt.Sprintf(`<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>WF-8012D 常见问题</title></head><body>
<h1>WF-8012D 滚筒洗衣机 常见问题</h1>
<dl><dt>WF-8012D %[1]s 怎么办？</dt><dd>%[1]s 的答案。</dd>
<dt>WF-8012D 保修多久？</dt><dd>整机保修三年。</dd>
<dt>WF-8012D 能洗羽绒服吗？</dt><dd>可以，用羽绒服程序。</dd></dl>
</body></html>`, phrase))
}

// mustAccessClient loads the fixtures and the restricted documents, and returns a client with the
// restricted documents' ids.
func mustAccessClient(t *testing.T) (*client.Client, map[string]string) {
	t.Helper()
	ctx := context.Background()
	s := fixgraphtest.MustOpen(t)
	s.Pipeline.PDF.Pdftotext = "-"
	s.MustLoadFixtures(t)
	ids := map[string]string{}
	for _, r := range restricted {
		p := *s.Pipeline
		p.Visibility, p.Status, p.Department = r.visibility, r.status, r.department
		res := p.IngestFile(ctx, "restricted/"+r.name+".html", restrictedPage(r.phrase, r.code))
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		ids[r.name] = res.DocumentID
		res = p.IngestFile(ctx, "restricted/"+r.name+"-faq.html", restrictedFAQ(r.phrase))
		if res.Err != nil || res.Kind != fixgraph.KindFAQ {
			t.Fatalf("restricted FAQ: %+v", res)
		}
		ids[r.name+"-faq"] = res.DocumentID
	}
	r := &gql.Resolver{Answers: s.Answers(), Graph: graph.Guarded{Store: s.Graph}, Stock: s.Graph, History: s.Graph}
	return client.New(gql.NewHandler(r, gql.Options{Introspection: true})), ids
}

// TestBotSeesOnlyPublicPublished: a reader key reads public, published knowledge only, through
// every query: search, ask, troubleshoot and each lookup, fields of other nodes included. An
// admin sees everything; an editor of a department sees that department's documents.
func TestBotSeesOnlyPublicPublished(t *testing.T) {
	c, ids := mustAccessClient(t)
	bot := as(&fixgraph.Principal{ID: "key:bot", Role: fixgraph.RoleReader})
	admin := as(&fixgraph.Principal{ID: "key:admin", Role: fixgraph.RoleAdmin})
	legalEditor := as(&fixgraph.Principal{ID: "user:li", Role: fixgraph.RoleEditor, Department: "legal"})
	supportEditor := as(&fixgraph.Principal{ID: "user:wang", Role: fixgraph.RoleEditor, Department: "support"})

	// sees runs every read path for one restricted document and reports which of them showed it.
	sees := func(opt client.Option, name string) []string {
		t.Helper()
		var r = restricted[0]
		for _, x := range restricted {
			if x.name == name {
				r = x
			}
		}
		docID := ids[name]
		var shown []string
		var search struct {
			Search []struct{ Snippet, Heading string }
		}
		c.MustPost(`query($q: String!) { search(query: $q, limit: 20) { heading snippet } }`, &search, client.Var("q", r.phrase), opt)
		for _, h := range search.Search {
			if strings.Contains(h.Heading+h.Snippet, r.phrase) {
				shown = append(shown, "search")
				break
			}
		}
		docIDs := map[string]bool{docID: true, ids[name+"-faq"]: true}
		var ask struct {
			Ask struct {
				Text      string
				ErrorCode *struct{ Code string }
				Citations []struct{ DocumentID string }
			}
		}
		c.MustPost(`query($q: String!) { ask(question: $q) { text errorCode { code } citations { documentId } } }`, &ask, client.Var("q", r.phrase+"怎么办"), opt)
		for _, ci := range ask.Ask.Citations {
			if docIDs[ci.DocumentID] {
				shown = append(shown, "ask")
				break
			}
		}
		c.MustPost(`query($q: String!) { ask(question: $q) { text errorCode { code } citations { documentId } } }`, &ask, client.Var("q", "洗衣机显示"+r.code), opt)
		if ask.Ask.ErrorCode != nil && ask.Ask.ErrorCode.Code == r.code {
			shown = append(shown, "ask code")
		}
		var ts struct{ Troubleshoot []struct{ Code string } }
		c.MustPost(`query($c: String!) { troubleshoot(code: $c) { code } }`, &ts, client.Var("c", r.code), opt)
		if len(ts.Troubleshoot) > 0 {
			shown = append(shown, "troubleshoot")
		}
		var doc struct {
			Document *struct {
				Sections []struct{ ID string }
			}
			Node *struct{ ID string }
		}
		c.MustPost(`query($id: ID!) { document(id: $id) { sections { id } } node(id: $id) { id } }`, &doc, client.Var("id", docID), opt)
		if doc.Document != nil {
			shown = append(shown, "document")
		}
		if doc.Node != nil {
			shown = append(shown, "node")
		}
		// Lookups by the ids of what the document contributed, found as the admin.
		var all struct {
			Document struct {
				Sections []struct {
					ID       string
					Mentions []struct{ ID string }
				}
			}
			Troubleshoot []struct {
				ID     string
				Guides []struct{ ID string }
			}
			Product struct {
				Faqs       []struct{ ID, Question string }
				ErrorCodes []struct{ Code string }
			}
		}
		c.MustPost(`query($id: ID!, $c: String!) { document(id: $id) { sections { id mentions { id } } } troubleshoot(code: $c) { id guides { id } }
  product(model: "WF-8012D") { faqs { id question } errorCodes { code } } }`, &all, client.Var("id", docID), client.Var("c", r.code), admin)
		if len(all.Document.Sections) == 0 || len(all.Troubleshoot) == 0 || len(all.Troubleshoot[0].Guides) == 0 {
			t.Fatalf("the admin does not see %s's sections, code and guide: %+v", name, all)
		}
		var faqID string
		for _, f := range all.Product.Faqs {
			if strings.Contains(f.Question, r.phrase) {
				faqID = f.ID
			}
		}
		var look struct {
			Section     *struct{ ID string }
			ErrorCode   *struct{ ID string }
			RepairGuide *struct{ ID string }
			Faq         *struct{ ID string }
			Product     struct {
				Faqs       []struct{ Question string }
				ErrorCodes []struct{ Code string }
			}
		}
		c.MustPost(`query($s: ID!, $e: ID!, $g: ID!, $f: ID!) { section(id: $s) { id } errorCode(id: $e) { id } repairGuide(id: $g) { id } faq(id: $f) { id }
  product(model: "WF-8012D") { faqs { question } errorCodes { code } } }`, &look,
			client.Var("s", all.Document.Sections[0].ID), client.Var("e", all.Troubleshoot[0].ID), client.Var("g", all.Troubleshoot[0].Guides[0].ID), client.Var("f", faqID), opt)
		if look.Section != nil {
			shown = append(shown, "section")
		}
		if look.ErrorCode != nil {
			shown = append(shown, "errorCode")
		}
		if look.RepairGuide != nil {
			shown = append(shown, "repairGuide")
		}
		if look.Faq != nil {
			shown = append(shown, "faq")
		}
		for _, f := range look.Product.Faqs {
			if strings.Contains(f.Question, r.phrase) {
				shown = append(shown, "product.faqs")
			}
		}
		for _, e := range look.Product.ErrorCodes {
			if e.Code == r.code {
				shown = append(shown, "product.errorCodes")
			}
		}
		return shown
	}
	every := "search ask ask code troubleshoot document node section errorCode repairGuide faq product.faqs product.errorCodes"
	for _, r := range restricted {
		t.Run(r.name, func(t *testing.T) {
			if got := sees(bot, r.name); len(got) > 0 {
				t.Errorf("a reader key sees %s knowledge through: %v", r.name, got)
			}
			if got := sees(func(*client.Request) {}, r.name); len(got) > 0 {
				t.Errorf("a request without a principal sees %s knowledge through: %v", r.name, got)
			}
			if got := strings.Join(sees(admin, r.name), " "); r.status == fixgraph.StatusPublished && got != every {
				t.Errorf("the admin sees %s knowledge only through: %s", r.name, got)
			}
		})
	}
	if got := sees(legalEditor, "legal"); len(got) == 0 {
		t.Error("an editor of legal does not see legal's documents")
	}
	if got := sees(supportEditor, "legal"); len(got) > 0 {
		t.Errorf("an editor of support sees legal's documents through %v", got)
	}
	if got := sees(supportEditor, "internal"); len(got) == 0 {
		t.Error("an editor does not see internal documents")
	}
	var hist struct{ DocumentHistory []struct{ EndReason string } }
	c.MustPost(`query($id: ID!) { documentHistory(id: $id) { endReason } }`, &hist, client.Var("id", ids["internal"]), bot)
	if len(hist.DocumentHistory) != 0 {
		t.Error("a reader sees the history of an internal document")
	}
	// Public knowledge is all still there for the bot.
	var ts struct{ Troubleshoot []struct{ Code string } }
	c.MustPost(`{ troubleshoot(code: "E102") { code } }`, &ts, bot)
	if len(ts.Troubleshoot) == 0 {
		t.Error("a reader no longer sees public knowledge")
	}
}

// TestWritesNeedTheirRole: a reader may not push stock or start jobs, an uploader may not write
// to another department, and administration is for admins only.
func TestWritesNeedTheirRole(t *testing.T) {
	c := mustClient(t)
	bot := as(&fixgraph.Principal{ID: "key:bot", Role: fixgraph.RoleReader})
	legal := as(&fixgraph.Principal{ID: "key:legal", Role: fixgraph.RoleUploader, Department: "legal"})
	for _, tc := range []struct {
		name, query string
		opt         client.Option
		want        string
	}{
		{"reader crawls", `mutation { crawl(input: {seeds: ["http://127.0.0.1:1/"]}) { id } }`, bot, "forbidden"},
		{"uploader crawls for another department", `mutation { crawl(input: {seeds: ["http://127.0.0.1:1/"], department: "support"}) { id } }`, legal, "cannot write to department"},
		{"reader pushes stock", `mutation { setStock(levels: [{sku: "X1", warehouse: "W1", quantity: 1}]) { quantity } }`, bot, "forbidden"},
		{"uploader lists keys", `{ apiKeys { id } }`, legal, "forbidden"},
		{"reader makes a key", `mutation { createAPIKey(name: "x", role: "admin") { secret } }`, bot, "forbidden"},
		{"reader lists jobs", `{ jobs { id } }`, bot, "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out map[string]any
			err := c.Post(tc.query, &out, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v; want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestDeepAndHugeQueriesAreRefused: a query nested past the depth limit, and one asking for
// thousands of fields, are refused before they run, with errors that say why.
func TestDeepAndHugeQueriesAreRefused(t *testing.T) {
	c := mustClient(t)
	// What a bot asks for an error code, as in the README: allowed.
	readme := `{ troubleshoot(code: "E102") { code severity symptom(lang: "zh") product { model name(lang: "zh") }
  guides(lang: "zh") { title steps warnings videos { url title(lang: "zh") }
    parts { sku name(lang: "zh") totalStock stock { quantity updatedAt warehouse { code name } } } citation { document url headingPath } } } }`
	var out map[string]any
	if err := c.Post(readme, &out); err != nil {
		t.Fatalf("the README's troubleshoot query: %v", err)
	}
	// 14 levels: refused for its depth before it runs.
	deep := `{ troubleshoot(code: "E102") { guides { section { document { sections { document { sections { document { sections { document { sections { document { sections { id } } } } } } } } } } } } } }`
	if err := c.Post(deep, &out); err == nil || !strings.Contains(err.Error(), "over the limit of 12") {
		t.Errorf("a query 14 levels deep: %v; want refused for depth", err)
	}
	// 11 levels, under the depth limit, but reading documents × sections four times over.
	wide := `{ troubleshoot(code: "E102") { guides { section { document { sections { document { sections { document { sections { id } } } } } } } } } }`
	if err := c.Post(wide, &out); err == nil || !strings.Contains(err.Error(), "complexity") {
		t.Errorf("a query that fans out over sections three times: %v; want refused for complexity", err)
	}
	var huge strings.Builder
	huge.WriteString("{")
	for i := range 3000 {
		fmt.Fprintf(&huge, " a%d: search(query: \"E102\", limit: 20) { heading }", i)
	}
	huge.WriteString(" }")
	if err := c.Post(huge.String(), &out); err == nil || !strings.Contains(err.Error(), "complexity") {
		t.Errorf("a query of 3,000 searches: %v; want refused for complexity", err)
	}
}
