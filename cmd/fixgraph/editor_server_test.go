package main

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/editor"
	"github.com/fixgraph/fixgraph/internal/servertest"
	"github.com/fixgraph/fixgraph/search"
)

// TestEditorOnServers publishes, detaches, rolls back and archives through the editor on the
// server-backed deployment (the Bolt server and Weaviate): what the bots read changes with each
// step, as it does on the embedded stores.
func TestEditorOnServers(t *testing.T) {
	url := servertest.Neo4jURL(t)
	weaviateURL := servertest.WeaviateURL(t, search.WeaviateClasses...)
	ctx := context.Background()
	a, err := openApp(ctx, config{data: t.TempDir(), graph: url, vectors: weaviateURL, embedder: "none"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.loadFixtures(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := a.editor(false)
	if err != nil {
		t.Fatal(err)
	}
	ed := h.Service
	admin := fixgraph.WithPrincipal(ctx, fixgraph.Local)
	bot := fixgraph.WithPrincipal(ctx, &fixgraph.Principal{ID: "key:bot", Name: "bot", Role: fixgraph.RoleReader})
	ask := func(q string) *fixgraph.Answer {
		t.Helper()
		ans, err := a.answers.Ask(bot, q)
		if err != nil {
			t.Fatal(err)
		}
		return ans
	}

	// A guide's steps, edited and published; then rolled back to what ingest made.
	const q = "WF-8012D 显示E102怎么办"
	before := ask(q)
	if before.Guide == nil || before.Guide.Language != "zh" {
		t.Fatalf("before: %+v", before.Guide)
	}
	g := *before.Guide
	g.Steps = append([]string{"先断电，再检修。"}, g.Steps...)
	if _, err := ed.Save(admin, g.ID, 0, editorChange(&g)); err != nil {
		t.Fatal(err)
	}
	if got := ask(q); got.Guide.Steps[0] == "先断电，再检修。" {
		t.Fatal("a draft reached the bot")
	}
	e, err := ed.Transition(admin, g.ID, 2, "publish")
	if err != nil {
		t.Fatal(err)
	}
	if got := ask(q); got.Guide == nil || got.Guide.Steps[0] != "先断电，再检修。" {
		t.Fatalf("after publishing: %+v", got.Guide)
	}
	if _, err := ed.Rollback(admin, g.ID, e.Rev, 1); err != nil {
		t.Fatal(err)
	}
	if got := ask(q); got.Guide == nil || got.Guide.Steps[0] != before.Guide.Steps[0] {
		t.Fatalf("after the rollback: %+v", got.Guide)
	}

	// A link ingest made, detached: the English guide no longer fixes E102.
	codeID := fixgraph.ErrorCodeID("WF-8012D", "E102")
	guides, err := a.answers.Guides(admin, codeID)
	if err != nil || len(guides) != 2 {
		t.Fatalf("E102 has guides %v (%v)", guides, err)
	}
	var english string
	for _, gd := range guides {
		if gd.Language == "en" {
			english = gd.ID
		}
	}
	cur, err := ed.Current(admin, codeID)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := cur.Decode()
	change := editorChange(code)
	change.Detached = []fixgraph.Edge{{From: codeID, Rel: fixgraph.RelFixedBy, To: english}}
	if _, err := ed.Save(admin, codeID, cur.Rev, change); err != nil {
		t.Fatal(err)
	}
	if _, err := ed.Transition(admin, codeID, 2, "publish"); err != nil {
		t.Fatal(err)
	}
	n, err := a.answers.Graph.Neighbors(bot, []string{codeID}, fixgraph.RelFixedBy, fixgraph.Out)
	if err != nil || slices.Contains(n[codeID], english) || len(n[codeID]) != 1 {
		t.Errorf("after detaching, E102 is fixed by %v (%v)", n[codeID], err)
	}
	if got := ask("What should I do when my WF-8012D shows E102?"); got.Guide != nil && got.Guide.ID == english {
		t.Errorf("the bot still gives the detached guide")
	}

	// A new FAQ, published and then archived.
	const uncovered = "洗衣机可以洗羽绒服吗？"
	faq := &fixgraph.FAQ{ID: fixgraph.HashID(fixgraph.PrefixFAQ, "editor", uncovered), Question: uncovered, Answer: "可以，请选择羽绒服程序。", Language: "zh"}
	if _, err := ed.Save(admin, faq.ID, 0, editorChange(faq)); err != nil {
		t.Fatal(err)
	}
	if _, err := ed.Transition(admin, faq.ID, 1, "publish"); err != nil {
		t.Fatal(err)
	}
	if got := ask(uncovered); got.Kind != fixgraph.AnswerFAQ || got.FAQ == nil || got.FAQ.ID != faq.ID {
		t.Fatalf("after publishing the FAQ the bot answers %s %+v", got.Kind, got.FAQ)
	}
	if _, err := ed.Transition(admin, faq.ID, 2, "archive"); err != nil {
		t.Fatal(err)
	}
	if got := ask(uncovered); got.FAQ != nil && got.FAQ.ID == faq.ID {
		t.Errorf("the archived FAQ still answers")
	}
}

func editorChange(n fixgraph.Node) editor.Change {
	return editor.Change{Node: n, Visibility: fixgraph.VisibilityPublic}
}
