// Command fixgraph ingests support knowledge into a graph and answers questions about it.
//
//	fixgraph serve  [--addr 127.0.0.1:8080] [--data DIR]
//	fixgraph ingest [--data DIR] PATH...
//	fixgraph ask    [--data DIR] [--json] QUESTION
//	fixgraph search [--data DIR] [--json] [--limit K] QUERY
//	fixgraph eval   [--data DIR] [--questions FILE] [--json] [--misses]
//	fixgraph bench  [--sections N] [--clients 1,8,32] [--requests N] [--json]
//	fixgraph reindex [--data DIR]
//	fixgraph backup  [--data DIR] --out FILE[.gz] [--recipient age1… | --recipients-file FILE]
//	fixgraph restore --data NEWDIR [--identity FILE] FILE
//
// --graph or FIXGRAPH_GRAPH (bolt://USER:PASSWORD@HOST:PORT) keeps the graph in Neo4j.
// The data directory comes from --data or FIXGRAPH_DATA, and defaults to ./data.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/fixgraph/fixgraph"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var exit exitError
		if !errors.As(err, &exit) {
			fmt.Fprintln(os.Stderr, "fixgraph:", message(err))
		}
		os.Exit(exitCode(err))
	}
}

const usage = `usage: fixgraph COMMAND [flags]

commands:
  serve    serve GraphQL at /graphql and GraphiQL at / (loads the demo corpus into an empty store)
  ingest   ingest files, directories and zip archives (.html, .pdf, .csv) with per-file outcomes
  loadtest N clients ask through the real API on loopback for a fixed time: throughput, p50/p99, errors
  keys     create, list and revoke API keys (shown once, stored hashed)
  users    create editor accounts and change their roles
  departments  list departments' settings; set one to review uploads and crawls before they are published
  audit    verify the audit log's hash chain (exit 1 when broken) or export it as JSON lines
  crawl    crawl a site and ingest its pages and linked PDFs; re-crawling updates and retires pages
  ask      answer a question
  search   search sections
  eval     measure retrieval on a question set (Recall@1/5, MRR@10, nDCG@10)
  bench    measure embedding and ingest throughput and ask/search latency over loopback HTTP
  reindex  rebuild the search indexes from the graph
  backup   write a consistent backup of the data directory to a tar file, also while serve runs; --recipient encrypts it with age
  restore  restore a backup into a new data directory (decrypted with --identity, checksums checked, text index rebuilt)

Run 'fixgraph COMMAND -h' for a command's flags. The data directory is --data DIR or $FIXGRAPH_DATA (default ./data).
`

// run runs one command; main is only the signal context and the exit code around it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{2}
	}
	cmd, rest := args[0], args[1:]
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr, log)
	case "ingest":
		return runIngest(ctx, rest, stdout, stderr, log)
	case "loadtest":
		return runLoadTest(ctx, rest, stdout, stderr, log)
	case "keys":
		return runKeys(ctx, rest, stdout, stderr, log)
	case "users":
		return runUsers(ctx, rest, os.Stdin, stdout, stderr, log)
	case "audit":
		return runAuditCommand(ctx, rest, stdout, stderr)
	case "departments":
		return runDepartments(ctx, rest, stdout, stderr, log)
	case "crawl":
		return runCrawl(ctx, rest, stdout, stderr, log)
	case "ask":
		return runAsk(ctx, rest, stdout, stderr, log)
	case "search":
		return runSearch(ctx, rest, stdout, stderr, log)
	case "eval":
		return runEval(ctx, rest, stdout, stderr, log)
	case "bench":
		return runBench(ctx, rest, stdout, stderr, log)
	case "reindex":
		return runReindex(ctx, rest, stdout, stderr, log)
	case "backup":
		return runBackup(ctx, rest, stdout, stderr, log)
	case "restore":
		return runRestore(ctx, rest, stdout, stderr, log)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "fixgraph: unknown command %q\n\n%s", cmd, usage)
	return exitError{2}
}

// exitError ends the program with a status and no further message.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	var exit exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	return 1
}

// message is what the user sees of an error: the safe message of an application error, and the
// whole chain for anything else (the command line is the operator's own terminal).
func message(err error) string {
	var e *fixgraph.Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return err.Error()
}
