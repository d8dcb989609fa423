package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/internal/browser"
)

// editorServer serves the real wiring behind the real gate, with the demo corpus loaded, an
// admin account for the browser and a reader key for the bot.
type editorServer struct {
	url       string
	app       *app
	readerKey string
}

const (
	e2eAdmin    = "lihua"
	e2ePassword = "correct horse battery"
)

func newEditorServer(t *testing.T) *editorServer {
	t.Helper()
	var key string
	url, a := serveApp(t, func(ctx context.Context, a *app) {
		if _, err := a.loadFixtures(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.accounts.CreateUser(e2eAdmin, e2ePassword, fixgraph.RoleAdmin, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := a.accounts.CreateUser("wang", e2ePassword, fixgraph.RoleEditor, ""); err != nil {
			t.Fatal(err)
		}
		var err error
		if key, _, err = a.accounts.CreateKey("support bot", fixgraph.RoleReader, "", 0, "test"); err != nil {
			t.Fatal(err)
		}
		a.serving = serving{gate: a.gate("", false, 0, false)}
	})
	return &editorServer{url: url, app: a, readerKey: key}
}

// botAnswer is what a bot reads of an answer.
type botAnswer struct {
	Kind       string
	Text       string
	Confidence float64
	Guide      *struct {
		Title string
		Steps []string
	}
	FAQ     *struct{ Question, Answer string }
	Handoff struct{ Recommended bool }
}

// ask asks the question over GraphQL with the bot's reader key, as a support bot does.
func (s *editorServer) ask(t *testing.T, question string) botAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"query":     `query($q: String!) { ask(question: $q) { kind text confidence guide { title steps } faq { question answer } handoff { recommended } } }`,
		"variables": map[string]any{"q": question},
	})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.readerKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data   struct{ Ask botAnswer }
		Errors []any
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("ask %q: %v %v", question, err, r.Errors)
	}
	return r.Data.Ask
}

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

func textOf(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("reading %s: %v", css, err)
	}
	return s
}

// until waits for a JavaScript condition to hold in the page. An evaluation that fails because
// the page is navigating away counts as not yet.
func until(cond string) chromedp.Action[chromedp.Void] {
	check := chromedp.Evaluate[bool]("!!(" + cond + ")")
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(20 * time.Second)
		var last error
		for time.Now().Before(deadline) {
			ok, err := check(ctx, tg)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			last = err
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		return chromedp.Void{}, fmt.Errorf("waited 20s for %s (last error: %v)", cond, last)
	}
}

// signIn signs in through the editor's sign-in page, starting from a page that needs it.
func signIn(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	do(t, ctx, "signing in",
		chromedp.Navigate(base+"/editor/"),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), e2ePassword),
		chromedp.Click(chromedp.CSS("#signin button[type=submit]")),
		until(`location.pathname === '/editor/' && document.querySelector('.actions') !== null`),
	)
}

// clickTo clicks and waits until the page at path has loaded.
func clickTo(css, path string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Evaluate[chromedp.Void](`window.__old = true`),
		chromedp.Click(chromedp.CSS(css)),
		until(fmt.Sprintf(`window.__old === undefined && location.pathname === %q && document.readyState === 'complete'`, path)),
	}
}

// TestEditorEndToEnd drives the editor in Chromium as a content team would: sign in, find E102,
// edit its Chinese repair guide, preview and publish it, see the bot's answer change, roll back,
// and turn a question the bot could not answer into an FAQ that it then answers.
func TestEditorEndToEnd(t *testing.T) {
	s := newEditorServer(t)
	const question = "WF-8012D 显示E102怎么办"
	before := s.ask(t, question)
	if before.Guide == nil || len(before.Guide.Steps) == 0 || before.Kind != "troubleshoot" {
		t.Fatalf("before editing, the bot's answer is %+v", before)
	}
	const newStep = "先关闭水龙头并拔下电源插头，等待 30 分钟让水冷却（编辑部 2026 年修订）"

	ctx := browser.New(t, browser.Timeout(3*time.Minute))
	signIn(t, ctx, s.url, e2eAdmin)
	browser.Screenshot(t, ctx, "editor-home")

	// Find E102 and open it.
	do(t, ctx, "searching for E102",
		chromedp.SendKeys(chromedp.CSS("#q"), "E102"),
		chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.CSS("#exact")),
	)
	browser.Screenshot(t, ctx, "editor-search")
	if got := textOf(t, ctx, "#exact"); !strings.Contains(got, "WF-8012D E102") {
		t.Fatalf("search shows %q", got)
	}
	do(t, ctx, "opening the error code", clickTo(`#exact a[href*="WF-8012D"]`, "/editor/entity")...)
	do(t, ctx, "the neighbourhood picture", chromedp.WaitVisible(chromedp.CSS("#neighbourhood")))
	browser.Screenshot(t, ctx, "editor-entity-code")
	pic, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#neighbourhood")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"E102 排水泵堵塞处理", "DC31-00178A", "STOCKED_AT"} {
		if !strings.Contains(pic, want) {
			t.Errorf("the neighbourhood picture lacks %q: %q", want, pic)
		}
	}

	// The Chinese guide: edit, save a draft, preview, publish.
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#links a[href*="id=guide"]')].find(a => a.textContent.includes('排水泵堵塞处理')).getAttribute('href')`))
	if err != nil {
		t.Fatalf("the code's links have no Chinese guide: %v", err)
	}
	do(t, ctx, "opening the guide", clickTo(fmt.Sprintf(`#links a[href=%q]`, href), "/editor/entity")...)
	if title := textOf(t, ctx, "h1"); !strings.Contains(title, "排水泵堵塞处理") {
		t.Fatalf("opened %q", title)
	}
	guideURL, _ := chromedp.Run(ctx, chromedp.Location())
	do(t, ctx, "opening the edit form", clickTo("#edit", "/editor/edit")...)
	steps, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#steps")))
	if err != nil || !strings.Contains(steps, before.Guide.Steps[0]) {
		t.Fatalf("the form's steps %q (err %v) do not start with the bot's %q", steps, err, before.Guide.Steps[0])
	}
	do(t, ctx, "editing the steps",
		chromedp.SetValue(chromedp.CSS("#steps"), newStep+"\n"+steps),
		chromedp.SendKeys(chromedp.CSS("#note"), "先断电再检修"),
	)
	browser.Screenshot(t, ctx, "editor-edit")
	do(t, ctx, "saving the draft", clickTo("#save", "/editor/entity")...)
	if got := textOf(t, ctx, "#status"); got != "草稿" {
		t.Fatalf("after saving, the status is %q", got)
	}
	if got := s.ask(t, question); got.Guide == nil || got.Guide.Steps[0] == newStep {
		t.Fatalf("a draft reached the bot: %+v", got.Guide)
	}
	do(t, ctx, "previewing", clickTo("#preview", "/editor/preview")...)
	browser.Screenshot(t, ctx, "editor-preview")
	if got := textOf(t, ctx, "#preview-steps"); !strings.Contains(got, newStep) {
		t.Fatalf("the preview's steps are %q", got)
	}
	do(t, ctx, "publishing",
		chromedp.Navigate(guideURL),
		chromedp.Click(chromedp.CSS("#publish")),
		until(`document.querySelector('#status') && document.querySelector('#status').textContent === '已发布'`),
	)
	after := s.ask(t, question)
	if after.Guide == nil || after.Guide.Steps[0] != newStep {
		t.Fatalf("after publishing, the bot's guide is %+v", after.Guide)
	}

	// The history shows the change; rolling back to the ingested revision restores the bot's answer.
	do(t, ctx, "opening the history", clickTo("#history", "/editor/history")...)
	browser.Screenshot(t, ctx, "editor-history")
	if diff := textOf(t, ctx, "#rev-2 .diff"); !strings.Contains(diff, "+ steps: "+newStep) {
		t.Errorf("revision 2's diff does not show the new step: %q", diff)
	}
	do(t, ctx, "rolling back",
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS("#rev-1 button.rollback")),
		until(`document.querySelector('#rev-4') !== null`),
	)
	if got := textOf(t, ctx, "#rev-4 .rev-head"); !strings.Contains(got, "rolled back") || !strings.Contains(got, e2eAdmin) {
		t.Errorf("the rollback's revision reads %q", got)
	}
	if got := s.ask(t, question); got.Guide == nil || got.Guide.Steps[0] != before.Guide.Steps[0] {
		t.Fatalf("after the rollback, the bot's guide is %+v", got.Guide)
	}

	// The unanswered queue: a question the corpus does not cover becomes an FAQ the bot answers.
	const uncovered = "洗衣机可以洗羽绒服吗？"
	const faqAnswer = "可以。请选择“羽绒服”程序，单件洗涤，使用中性洗涤剂，脱水转速不超过 800 转。"
	if got := s.ask(t, uncovered); !got.Handoff.Recommended {
		t.Fatalf("the corpus answers %q already: %+v", uncovered, got)
	}
	do(t, ctx, "opening the unanswered queue", chromedp.Navigate(s.url+"/editor/unanswered"), chromedp.WaitVisible(chromedp.CSS("#queue")))
	browser.Screenshot(t, ctx, "editor-unanswered")
	idx, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`[...document.querySelectorAll('#queue > li')].findIndex(li => li.querySelector('.question').textContent === %q)`, uncovered)))
	if err != nil || idx < 0 {
		t.Fatalf("the queue does not hold %q (%v): %s", uncovered, err, textOf(t, ctx, "#queue"))
	}
	group := fmt.Sprintf("#queue > li:nth-child(%d)", idx+1)
	do(t, ctx, "turning the question into an FAQ",
		chromedp.Click(chromedp.CSS(group+" summary")),
		chromedp.SendKeys(chromedp.CSS(group+" textarea[name=answer]"), faqAnswer),
	)
	do(t, ctx, "publishing the FAQ", clickTo(group+` button[value=publish]`, "/editor/entity")...)
	if got := textOf(t, ctx, "#status"); got != "已发布" {
		t.Errorf("the new FAQ is %q", got)
	}
	if got := s.ask(t, uncovered); got.Kind != "faq" || got.FAQ == nil || got.FAQ.Answer != faqAnswer {
		t.Fatalf("after publishing the FAQ, the bot answers %+v", got)
	}
	do(t, ctx, "the queue again", chromedp.Navigate(s.url+"/editor/unanswered"))
	if html, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main"))); strings.Contains(html, uncovered) {
		t.Errorf("the answered question is still in the queue")
	}

	// The English toggle.
	do(t, ctx, "switching to English", clickTo("#lang-toggle", "/editor/unanswered")...)
	if got := textOf(t, ctx, "h1"); got != "Unanswered" {
		t.Errorf("in English the queue's title is %q", got)
	}
}

// TestEditorConflict has two editors edit the same FAQ in two browsers: the second save is refused
// with the first editor's revision named, and the second editor's text is still on the page.
func TestEditorConflict(t *testing.T) {
	s := newEditorServer(t)
	var faqID string
	err := s.app.graph.Scan(context.Background(), fixgraph.PrefixFAQ+":", func(n fixgraph.Node) error {
		if f := n.(*fixgraph.FAQ); faqID == "" && f.Language == "zh" {
			faqID = f.ID
		}
		return nil
	})
	if err != nil || faqID == "" {
		t.Fatal("no Chinese FAQ in the fixtures", err)
	}
	a := browser.New(t)
	b := browser.New(t)
	signIn(t, a, s.url, e2eAdmin)
	signIn(t, b, s.url, "wang")
	edit := s.url + "/editor/edit?id=" + faqID
	do(t, a, "A opens the FAQ", chromedp.Navigate(edit), chromedp.WaitVisible(chromedp.CSS("#answer")))
	do(t, b, "B opens the FAQ", chromedp.Navigate(edit), chromedp.WaitVisible(chromedp.CSS("#answer")))
	do(t, a, "A saves", chromedp.SetValue(chromedp.CSS("#answer"), "A 的答案"))
	do(t, a, "A saves", clickTo("#save", "/editor/entity")...)
	do(t, b, "B saves", chromedp.SetValue(chromedp.CSS("#answer"), "B 的答案"))
	do(t, b, "B saves", clickTo("#save", "/editor/edit")...)
	browser.Screenshot(t, b, "editor-conflict")
	if got := textOf(t, b, "#conflict"); !strings.Contains(got, "user:"+e2eAdmin) || !strings.Contains(got, "revision 2") {
		t.Errorf("the conflict notice reads %q", got)
	}
	if got, _ := chromedp.Run(b, chromedp.Value(chromedp.CSS("#answer"))); got != "B 的答案" {
		t.Errorf("B's unsaved text is gone: %q", got)
	}
	cur, err := s.app.edits.Get(faqID)
	if err != nil || cur == nil {
		t.Fatal(err)
	}
	n, _ := cur.Decode()
	if got := n.(*fixgraph.FAQ).Answer; got != "A 的答案" || cur.Rev != 2 {
		t.Errorf("the stored copy is rev %d %q, want A's", cur.Rev, got)
	}
}

// TestEditorEscapesHTML creates an FAQ whose text is markup: every page shows it as text, and no
// script of it runs.
func TestEditorEscapesHTML(t *testing.T) {
	s := newEditorServer(t)
	ctx := browser.New(t)
	signIn(t, ctx, s.url, e2eAdmin)
	const evil = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>粗体</b>`
	do(t, ctx, "creating the FAQ",
		chromedp.Navigate(s.url+"/editor/new?kind=faq"),
		chromedp.SendKeys(chromedp.CSS("#question"), "标签测试 <b>问题</b>"),
		chromedp.SetValue(chromedp.CSS("#answer"), evil),
	)
	do(t, ctx, "saving", clickTo("#save-publish", "/editor/entity")...)
	if got := textOf(t, ctx, "#fields"); !strings.Contains(got, evil) {
		t.Errorf("the answer is not shown as text: %q", got)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('main b, main img, main script').length`)); n != 0 {
		t.Errorf("the FAQ's markup became %d elements", n)
	}
	for _, page := range []string{"/editor/", "/editor/search?q=" + "标签测试"} {
		do(t, ctx, "opening "+page, chromedp.Navigate(s.url+page))
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('main b, main img, main script').length`)); n != 0 {
			t.Errorf("%s: the FAQ's markup became %d elements", page, n)
		}
	}
	do(t, ctx, "the home page", chromedp.Navigate(s.url+"/editor/"))
	do(t, ctx, "the FAQ", clickTo(`.entities a`, "/editor/entity")...)
	do(t, ctx, "the history", clickTo("#history", "/editor/history")...)
	if pwned, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__pwned !== undefined`)); pwned {
		t.Error("a script from the FAQ ran")
	}
}

// TestEditorUploads uploads a good page and a broken PDF from the uploads page: the job finishes
// with one document added and the PDF's error shown against its name.
func TestEditorUploads(t *testing.T) {
	s := newEditorServer(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "dryer-faq.html")
	broken := filepath.Join(dir, "broken.pdf")
	os.WriteFile(good, []byte(`<!doctype html><html lang="zh"><head><title>干衣机常见问题</title></head><body><h1>干衣机常见问题</h1><section class="faq"><h2>干衣机可以烘羊毛衫吗？</h2><p>不建议。羊毛衫请平铺晾干。</p></section></body></html>`), 0o644)
	os.WriteFile(broken, []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage"), 0o644)
	ctx := browser.New(t)
	signIn(t, ctx, s.url, e2eAdmin)
	do(t, ctx, "uploading",
		chromedp.Navigate(s.url+"/editor/uploads"),
		chromedp.SetValue(chromedp.CSS("#upload-department"), "售后服务部"),
		chromedp.SetUploadFiles(chromedp.CSS("#upload-files"), []string{good, broken}),
		chromedp.Click(chromedp.CSS("#upload-submit")),
		until(`document.querySelector('#jobs tr.job-done') !== null`),
	)
	browser.Screenshot(t, ctx, "editor-uploads")
	row := textOf(t, ctx, "#jobs tr.job-done")
	if !strings.Contains(row, "售后服务部") || !strings.Contains(row, "2/2") || !strings.Contains(row, "broken.pdf") {
		t.Errorf("the job's row reads %q", row)
	}
	if failed := textOf(t, ctx, "#jobs tr.job-done .failed"); strings.Contains(failed, "dryer-faq") || !strings.Contains(failed, "broken.pdf: ") {
		t.Errorf("the failed files read %q", failed)
	}
}
