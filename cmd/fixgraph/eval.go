package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
	"github.com/fixgraph/fixgraph/eval"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/search"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlags("eval", stderr, &cfg)
	questions := fs.String("questions", "", "question set: JSON lines, or the E-Manual CSV (default: the fixtures' questions)")
	modeName := fs.String("mode", "hybrid", "retrieval to measure: bm25, vector or hybrid")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	misses := fs.Bool("misses", false, "list the questions whose first hit was wrong (with --handoff: the messages handed off otherwise than expected)")
	handoff := fs.Bool("handoff", false, "measure hand-offs instead of retrieval: danger and complaint recall and the hand-off rate of normal questions (default set: the fixtures' handoff.jsonl)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *handoff {
		return runEvalHandoff(ctx, cfg, *modeName, *questions, *asJSON, *misses, stdout, log)
	}
	mode, err := search.ParseMode(*modeName)
	if err != nil {
		return err
	}
	var qs []eval.Question
	if *questions == "" {
		f, ferr := fixtures.Eval.Open("eval/questions.jsonl")
		if ferr != nil {
			return ferr
		}
		qs, err = eval.Load(f, "questions.jsonl")
		f.Close()
	} else {
		f, ferr := os.Open(*questions)
		if ferr != nil {
			return fixgraph.WrapError(fixgraph.EINVALID, ferr, "cannot open %s", *questions)
		}
		qs, err = eval.Load(f, *questions)
		f.Close()
	}
	if err != nil {
		return err
	}
	svc, closeApp, err := evalService(ctx, cfg, mode, log)
	if err != nil {
		return err
	}
	defer closeApp()
	rep, err := eval.Run(ctx, func(ctx context.Context, q string, limit int) ([]fixgraph.Hit, error) {
		return svc.Search(ctx, q, limit, answer.Published)
	}, qs)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "mode %s, %d questions\n", mode, len(qs))
	rep.Write(stdout)
	if *misses {
		for _, m := range rep.Misses {
			fmt.Fprintf(stdout, "miss %s rank=%d %q\n     expected %q, got %q\n", m.ID, m.Rank, m.Question, m.Expected, m.Got)
		}
	}
	return nil
}

// evalService opens the data directory and returns an answer service whose index retrieves in mode.
func evalService(ctx context.Context, cfg config, mode search.Mode, log *slog.Logger) (*answer.Service, func(), error) {
	if mode == search.ModeBM25 && cfg.embedder == "onnx" {
		cfg.embedder = "none" // BM25 needs no model
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	var index answer.Index
	switch ix := a.index.(type) {
	case *search.Hybrid:
		index, err = ix.WithMode(mode)
	case *search.Weaviate:
		index, err = ix.WithMode(mode)
	}
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return &answer.Service{Graph: a.graph, Index: index}, func() { a.Close() }, nil
}

// runEvalHandoff asks every message of a hand-off set as a new conversation and prints danger,
// complaint and dangerous-code recall, whether danger answers lead with the safety step, and the
// hand-off rate of normal questions and of tricky negatives.
func runEvalHandoff(ctx context.Context, cfg config, modeName, questions string, asJSON, misses bool, stdout io.Writer, log *slog.Logger) error {
	mode, err := search.ParseMode(modeName)
	if err != nil {
		return err
	}
	var cases []eval.HandoffCase
	if questions == "" {
		f, ferr := fixtures.Eval.Open("eval/handoff.jsonl")
		if ferr != nil {
			return ferr
		}
		cases, err = eval.LoadHandoff(f, "handoff.jsonl")
		f.Close()
	} else {
		f, ferr := os.Open(questions)
		if ferr != nil {
			return fixgraph.WrapError(fixgraph.EINVALID, ferr, "cannot open %s", questions)
		}
		cases, err = eval.LoadHandoff(f, questions)
		f.Close()
	}
	if err != nil {
		return err
	}
	svc, closeApp, err := evalService(ctx, cfg, mode, log)
	if err != nil {
		return err
	}
	defer closeApp()
	rep, err := eval.RunHandoff(ctx, func(ctx context.Context, msg string) (*fixgraph.Answer, error) {
		return svc.AskIn(ctx, msg, nil)
	}, cases)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "mode %s, ", mode)
	rep.Write(stdout)
	if misses {
		for _, m := range rep.Misses {
			fmt.Fprintf(stdout, "miss %s (%s) %q: reason %q %v\n", m.ID, m.Expect, m.Message, m.Reason, m.Matched)
		}
	}
	return nil
}
