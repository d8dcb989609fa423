package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/gql"
	"github.com/fixgraph/fixgraph/ingest"
)

// openJobs opens the ingest state in the data directory and the job runner over the pipeline.
func (a *app) openJobs() error {
	db, err := a.store("ingest", "ingest.db")
	if err != nil {
		return err
	}
	st := ingest.NewState(db)
	a.closers = append(a.closers, st)
	a.pipeline.Kinds = st // kinds departments set documents to hold for every later version
	a.jobs = &ingest.Jobs{
		State:    st,
		Pipeline: a.pipeline,
		Crawler:  &ingest.Crawler{Pipeline: a.pipeline, State: st},
		Spool:    filepath.Join(a.dir, "spool"),
		Log:      a.log,
	}
	if a.shared != nil {
		// Any replica may finish a job another took in: the files wait in the shared state.
		a.jobs.Spooled = ingest.KVSpool{DB: a.shared.KV("spool")}
		a.jobs.Replica = a.shared.Replica
	}
	return nil
}

// jobQueue is the job runner as the GraphQL resolvers see it.
type jobQueue struct{ *ingest.Jobs }

func (q jobQueue) NewUpload(spec fixgraph.JobSpec) (gql.Spool, error) { return q.Jobs.NewUpload(spec) }

var _ gql.Jobs = jobQueue{}

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlags("ingest", stderr, &cfg)
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	department := fs.String("department", "", "department that owns the documents")
	visibility := fs.String("visibility", "", "public (default), internal or department")
	explain := fs.Bool("explain", false, "store nothing; say what each file is read as: its kind and why, its tables' columns, its error codes")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: fixgraph ingest [--data DIR] [--json] [--department D] [--explain] PATH...   (files, directories, zip archives)")
		return exitError{2}
	}
	if *explain {
		return explainFiles(ctx, fs.Args(), *asJSON, stdout)
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	job, err := a.jobs.SubmitPaths(fixgraph.JobSpec{Department: *department, Visibility: fixgraph.Visibility(*visibility)}, fs.Args())
	if err != nil {
		return err
	}
	a.auditAs(fixgraph.Local, "", "upload", job.ID, map[string]string{"paths": strings.Join(fs.Args(), " "), "department": *department})
	return a.runJob(ctx, job, stdout, stderr, *asJSON, true)
}

func runCrawl(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlags("crawl", stderr, &cfg)
	asJSON := fs.Bool("json", false, "print one JSON object per page")
	department := fs.String("department", "", "department that owns the pages")
	visibility := fs.String("visibility", "", "public (default), internal or department")
	var cc fixgraph.CrawlConfig
	fs.StringVar(&cc.Scope, "scope", "", "URL prefix every page must start with (default: each seed's directory)")
	fs.IntVar(&cc.MaxDepth, "depth", 0, fmt.Sprintf("link hops from a seed (default %d, at most %d)", ingest.DefaultCrawlDepth, ingest.MaxCrawlDepth))
	fs.IntVar(&cc.MaxPages, "max-pages", 0, fmt.Sprintf("pages to fetch at most (default %d, at most %d)", ingest.DefaultCrawlPages, ingest.MaxCrawlPages))
	fs.Int64Var(&cc.MaxBytes, "max-bytes", 0, fmt.Sprintf("bytes to read at most (default %d, at most %d)", ingest.DefaultCrawlBytes, int64(ingest.MaxCrawlBytes)))
	fs.DurationVar(&cc.MaxTime, "max-time", 0, fmt.Sprintf("how long the crawl may run (default %s, at most %s)", ingest.DefaultCrawlTime, ingest.MaxCrawlTime))
	fs.Float64Var(&cc.Rate, "rate", 0, fmt.Sprintf("requests per second per host (default %g, at most %g)", ingest.DefaultCrawlRate, ingest.MaxCrawlRate))
	fs.IntVar(&cc.Concurrency, "concurrency", 0, fmt.Sprintf("parallel fetches (default %d, at most %d)", ingest.DefaultCrawlConcurrency, ingest.MaxCrawlConcurrency))
	gf := addGuardFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: fixgraph crawl [--data DIR] [--scope URL] [--depth N] [--max-pages N] [--rate R] [--allow-hosts H,…] URL...")
		return exitError{2}
	}
	cc.Seeds = fs.Args()
	guard, err := gf.guard()
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	a.jobs.Crawler.Guard = guard
	job, err := a.jobs.SubmitCrawl(fixgraph.JobSpec{Department: *department, Visibility: fixgraph.Visibility(*visibility)}, cc)
	if err != nil {
		return err
	}
	a.auditAs(fixgraph.Local, "", "crawl", job.ID, map[string]string{"seeds": strings.Join(cc.Seeds, " "), "department": *department})
	// Dead links are the site's problem, not the crawl's: pages that failed are listed and
	// counted, and the exit status is 0 unless the crawl itself could not run.
	return a.runJob(ctx, job, stdout, stderr, *asJSON, false)
}

// guardFlags are the flags of crawl and serve that say which non-public addresses crawls may fetch.
type guardFlags struct {
	allowPrivate *bool
	allowHosts   *listFlag
}

func addGuardFlags(fs *flag.FlagSet) guardFlags {
	f := guardFlags{allowHosts: new(listFlag)}
	f.allowPrivate = fs.Bool("allow-private-addresses", false, "let crawls fetch loopback, private, link-local and other non-public addresses; off, every connection's address is checked after DNS resolution and refused")
	fs.Var(f.allowHosts, "allow-hosts", "hosts, IP addresses or CIDR ranges crawls may fetch although not public, comma-separated or repeated (e.g. intranet.example,10.1.0.0/16)")
	return f
}

// guard returns the crawler's address guard the flags ask for.
func (f guardFlags) guard() (*ingest.NetGuard, error) {
	g, err := ingest.NewNetGuard(*f.allowPrivate, *f.allowHosts)
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "bad --allow-hosts: %s", fixgraph.MessageOf(err))
	}
	return g, nil
}

// listFlag is a flag of values given comma-separated, repeated, or both.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// runJob carries out a job in the foreground: a line per file (or JSON), a progress bar on a
// terminal, and a summary. With failOnFile, it exits 1 when any file failed.
func (a *app) runJob(ctx context.Context, job *fixgraph.Job, stdout, stderr io.Writer, asJSON, failOnFile bool) error {
	enc := json.NewEncoder(stdout)
	bar := newProgressBar(stderr)
	start := time.Now()
	err := a.jobs.Process(ctx, job.ID, func(j *fixgraph.Job, f fixgraph.JobFile) {
		bar.clear()
		switch {
		case asJSON:
			enc.Encode(f)
		case f.Outcome == ingest.Failed:
			fmt.Fprintf(stdout, "%-9s %s: %s\n", f.Outcome, f.Name, f.Error)
		case !bar.on:
			fmt.Fprintf(stdout, "%-9s %s (%s, %d sections, version %d)\n", f.Outcome, f.Name, f.Kind, f.Sections, f.Version)
		}
		bar.draw(j, time.Since(start))
	})
	bar.clear()
	j, gerr := a.jobs.Get(ctx, job.ID)
	if gerr != nil {
		return errors.Join(err, gerr)
	}
	if !asJSON {
		c := j.Counts
		fmt.Fprintf(stdout, "%d files in %.1fs: %d added, %d updated, %d unchanged, %d removed, %d failed (job %s)\n",
			j.Processed, time.Since(start).Seconds(), c.Added, c.Updated, c.Unchanged, c.Removed, c.Failed, j.ID)
		if n, err := a.jobs.Pending(ctx, j); err == nil && j.Review {
			fmt.Fprintf(stdout, "%d documents await review: department %s reviews before publishing (editor: /editor/review?job=%s)\n", n, j.Department, j.ID)
		}
		if cs := j.Crawled; cs != nil {
			fmt.Fprintf(stdout, "crawl: %d requests, %d pages fetched, %d not modified, %d with the same bytes, %d skipped, %d duplicates, %d left unvisited\n",
				cs.Requests, cs.Fetched, cs.NotModified, cs.Unchanged, cs.Skipped, cs.Duplicates, cs.Unvisited)
			for _, w := range cs.Warnings {
				fmt.Fprintln(stdout, "warning:", w)
			}
		}
	}
	if err != nil {
		return err // the job as a whole failed; Process recorded it
	}
	if failOnFile && j.Counts.Failed > 0 {
		return exitError{1}
	}
	return nil
}

// progressBar draws one line of progress on a terminal, and nothing elsewhere.
type progressBar struct {
	w    io.Writer
	on   bool
	last time.Time
}

func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	if !ok {
		return &progressBar{w: w}
	}
	st, err := f.Stat()
	return &progressBar{w: w, on: err == nil && st.Mode()&os.ModeCharDevice != 0}
}

func (b *progressBar) draw(j *fixgraph.Job, elapsed time.Duration) {
	if !b.on || time.Since(b.last) < 100*time.Millisecond && j.Processed < j.Total {
		return
	}
	b.last = time.Now()
	const width = 30
	filled := width
	if j.Total > 0 {
		filled = width * j.Processed / j.Total
	}
	rate := float64(j.Processed) / max(elapsed.Seconds(), 1e-3)
	fmt.Fprintf(b.w, "\r[%s%s] %d/%d files, %d failed, %.1f files/s ", strings.Repeat("#", filled), strings.Repeat("-", width-filled), j.Processed, j.Total, j.Counts.Failed, rate)
}

func (b *progressBar) clear() {
	if b.on {
		fmt.Fprint(b.w, "\r\033[K")
	}
}
