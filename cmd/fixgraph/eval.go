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
	misses := fs.Bool("misses", false, "list the questions whose first hit was wrong")
	if err := parse(fs, args); err != nil {
		return err
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
	if mode == search.ModeBM25 && cfg.embedder == "onnx" {
		cfg.embedder = "none" // BM25 needs no model
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	var index answer.Index
	switch ix := a.index.(type) {
	case *search.Hybrid:
		if index, err = ix.WithMode(mode); err != nil {
			return err
		}
	case *search.Weaviate:
		if index, err = ix.WithMode(mode); err != nil {
			return err
		}
	}
	svc := &answer.Service{Graph: a.graph, Index: index}
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
