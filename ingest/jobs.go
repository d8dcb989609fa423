package ingest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fixgraph/fixgraph/kv"

	"github.com/fixgraph/fixgraph"
)

// DefaultMaxUploadSize is the largest archive an upload may send unless told otherwise; single
// files are held to the pipeline's MaxFileSize.
const DefaultMaxUploadSize = 1 << 30

// DefaultJobWorkers is how many jobs run at once unless told otherwise.
const DefaultJobWorkers = 2

// maxQueuedJobs is how many jobs may wait at once.
const maxQueuedJobs = 1 << 16

var (
	bucketJobs     = []byte("jobs")     // id → Job JSON
	bucketJobFiles = []byte("jobfiles") // id \x00 seq (4 bytes) → fixgraph.JobFile JSON
)

// Jobs runs ingest jobs in the background and keeps their state in the State file, so they
// survive a restart: a job that was queued or running is resumed, skipping the files it had
// finished; one whose uploaded files are gone is marked interrupted. Workers take queued jobs
// department by department in turn, and one department never holds every worker while another
// department's job waits, so a slow crawl delays only its own department's later jobs. A job can
// be cancelled (Cancel) while it waits or runs.
type Jobs struct {
	State    *State
	Pipeline *Pipeline
	Crawler  *Crawler // nil: crawl jobs are refused
	Spool    string   // directory for uploaded files until their job is done, unless Spooled is set
	// Spooled keeps uploaded files instead of the Spool directory: the shared state, so that any
	// replica can finish any job.
	Spooled Spool
	// MaxUploadSize is the largest archive accepted (0 means DefaultMaxUploadSize).
	MaxUploadSize int64
	// Workers is how many jobs run at once (0 means DefaultJobWorkers).
	Workers int
	// Replica, when set, names this process among the replicas that share the job state (on
	// PostgreSQL): jobs then run under leases (see lease.go), and each replica also runs jobs
	// submitted to another or left by one that died. Unset, this process is the state's only user.
	Replica string
	// Lease is how long a job's lease lasts unrenewed (0 means DefaultJobLease).
	Lease time.Duration
	Log     *slog.Logger

	mu      sync.Mutex
	last    int64
	changed chan struct{} // closed and replaced whenever a job changes

	// The queue: job ids by department, oldest first, and the departments in the order they get
	// the next free worker. wake is closed and replaced when a job is queued or a worker frees.
	queued  map[string][]string
	turns   []string
	waiting int
	wake    chan struct{}
	busy    map[string]int         // jobs each department has running under Run
	running map[string]*runningJob // by id: the jobs Process is carrying out
}

// runningJob is a job Process is carrying out: how to stop it, and when it has stopped.
type runningJob struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// errCancelled is the cause of a job's context when Cancel stops it.
var errCancelled = errors.New("the job was cancelled")

func (js *Jobs) init() {
	if js.changed == nil {
		js.changed = make(chan struct{})
		js.wake = make(chan struct{})
		js.queued = make(map[string][]string)
		js.busy = make(map[string]int)
		js.running = make(map[string]*runningJob)
	}
	if js.Log == nil {
		js.Log = slog.New(slog.DiscardHandler)
	}
}

// newID returns a new job id; ids sort in creation order.
func (js *Jobs) newID() string {
	js.mu.Lock()
	defer js.mu.Unlock()
	n := time.Now().UnixNano()
	if n <= js.last {
		n = js.last + 1
	}
	js.last = n
	return fmt.Sprintf("job-%016x", n)
}

// Changed returns a channel closed at the next change to any job.
func (js *Jobs) Changed() <-chan struct{} {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.init()
	return js.changed
}

func (js *Jobs) notify() {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.notifyLocked()
}

// notifyLocked is notify with mu held.
func (js *Jobs) notifyLocked() {
	close(js.changed)
	js.changed = make(chan struct{})
}

// Run resumes the jobs a restart left queued or running, then runs jobs as they are submitted,
// Workers at a time, until ctx ends.
func (js *Jobs) Run(ctx context.Context) error {
	js.mu.Lock()
	js.init()
	js.mu.Unlock()
	var jobs []*fixgraph.Job
	if js.shared() {
		// Other replicas may be running some: the poll finds those nobody holds.
		go js.poll(ctx, min(time.Second, js.leaseTime()/3))
	} else {
		var err error
		if jobs, err = js.List(ctx, "", 0); err != nil {
			return err
		}
		slices.Reverse(jobs) // oldest first
	}
	for _, j := range jobs {
		if j.Finished() {
			continue
		}
		if j.State == fixgraph.JobRunning {
			j.Resumed++
			j.State = fixgraph.JobQueued
			if err := js.put(j); err != nil {
				return err
			}
			js.Log.Info("resuming job after a restart", "job", j.ID, "kind", j.Kind, "done", j.Processed, "of", j.Total)
		}
		js.mu.Lock()
		js.enqueue(j)
		js.mu.Unlock()
	}
	var wg sync.WaitGroup
	for range js.workers() {
		wg.Go(func() {
			for {
				id, dept, ok := js.take(ctx)
				if !ok {
					return
				}
				switch err := js.Process(ctx, id, nil); {
				case err == nil || ctx.Err() != nil || errors.Is(err, errLeased):
				case errors.Is(err, errLeaseLost):
					js.Log.Warn("job taken over by another replica", "job", id)
				case fixgraph.CodeOf(err) == fixgraph.EUNAVAILABLE:
					js.Log.Warn("job paused: a store is unavailable; trying again later", "job", id, "in", retryUnavailable, "err", err)
					js.retryLater(ctx, id, dept)
				default:
					js.Log.Error("job failed", "job", id, "err", err)
				}
				js.mu.Lock()
				js.busy[dept]--
				js.wakeAll()
				js.mu.Unlock()
			}
		})
	}
	wg.Wait()
	return nil
}

// retryUnavailable is how long a job paused by an unavailable store waits to run again.
var retryUnavailable = 15 * time.Second

// retryLater queues job id again after retryUnavailable, unless ctx ends first.
func (js *Jobs) retryLater(ctx context.Context, id, dept string) {
	go func() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryUnavailable):
		}
		js.mu.Lock()
		js.enqueue(&fixgraph.Job{ID: id, Department: dept})
		js.mu.Unlock()
	}()
}

func (js *Jobs) workers() int { return max(1, cmp.Or(js.Workers, DefaultJobWorkers)) }

// enqueue adds a job to its department's queue, unless it is there or running. mu is held.
func (js *Jobs) enqueue(j *fixgraph.Job) {
	if js.running[j.ID] != nil || slices.Contains(js.queued[j.Department], j.ID) {
		return
	}
	if len(js.queued[j.Department]) == 0 {
		js.turns = append(js.turns, j.Department)
	}
	js.queued[j.Department] = append(js.queued[j.Department], j.ID)
	js.waiting++
	js.wakeAll()
}

// wakeAll wakes the workers waiting for a job. mu is held.
func (js *Jobs) wakeAll() {
	close(js.wake)
	js.wake = make(chan struct{})
}

// take waits for the next job a worker may run and claims it: the oldest job of the first
// department in turn that has fewer jobs running than its share (every worker but one, so one
// is always left to the other departments). That department's turn moves to the end.
func (js *Jobs) take(ctx context.Context) (id, dept string, ok bool) {
	share := max(1, js.workers()-1)
	for {
		js.mu.Lock()
		for i, d := range js.turns {
			if js.busy[d] >= share {
				continue
			}
			ids := js.queued[d]
			id = ids[0]
			js.turns = slices.Delete(js.turns, i, i+1)
			if len(ids) > 1 {
				js.queued[d] = ids[1:]
				js.turns = append(js.turns, d)
			} else {
				delete(js.queued, d)
			}
			js.waiting--
			js.busy[d]++
			js.mu.Unlock()
			return id, d, true
		}
		wake := js.wake
		js.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", "", false
		case <-wake:
		}
	}
}

// dequeue takes a job out of the queue, reporting whether it was there. mu is held.
func (js *Jobs) dequeue(id, dept string) bool {
	ids := js.queued[dept]
	i := slices.Index(ids, id)
	if i < 0 {
		return false
	}
	js.queued[dept] = slices.Delete(ids, i, i+1)
	if len(js.queued[dept]) == 0 {
		delete(js.queued, dept)
		js.turns = slices.DeleteFunc(js.turns, func(d string) bool { return d == dept })
	}
	js.waiting--
	return true
}

func (js *Jobs) submit(j *fixgraph.Job) (*fixgraph.Job, error) {
	js.mu.Lock()
	js.init()
	full := js.waiting >= maxQueuedJobs
	js.mu.Unlock()
	if full {
		return nil, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "too many jobs are waiting; try again later")
	}
	j.State, j.CreatedAt = fixgraph.JobQueued, time.Now().UTC()
	if err := js.stampReview(j); err != nil {
		return nil, err
	}
	if err := js.put(j); err != nil {
		return nil, err
	}
	js.mu.Lock()
	js.enqueue(j)
	js.mu.Unlock()
	js.notify()
	return j, nil
}

// Cancel stops a job: a queued job never runs, and a running one stops at once, keeping the
// outcomes of the files (or pages) it finished. Either ends in the state cancelled; cancelling
// a cancelled job again changes nothing. A job that has finished otherwise is a conflict.
// Cancel returns the job as it ended, waiting (until ctx ends) for a running job to stop.
func (js *Jobs) Cancel(ctx context.Context, id string) (*fixgraph.Job, error) {
	js.mu.Lock()
	js.init()
	if r, ok := js.running[id]; ok {
		r.cancel(errCancelled)
		js.mu.Unlock()
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		j, err := js.Get(ctx, id)
		if err == nil && j.State != fixgraph.JobCancelled {
			// It finished on its own as it was cancelled.
			return nil, fixgraph.Errorf(fixgraph.ECONFLICT, "job %q is %s already; only a queued or running job can be cancelled", id, j.State)
		}
		return j, err
	}
	if js.shared() {
		js.mu.Unlock()
		return js.cancelElsewhere(ctx, id)
	}
	// Not running here: mark it cancelled under mu, so no worker can take it meanwhile.
	defer js.mu.Unlock()
	j, err := js.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case j.State == fixgraph.JobCancelled:
		return j, nil
	case j.Finished():
		return nil, fixgraph.Errorf(fixgraph.ECONFLICT, "job %q is %s already; only a queued or running job can be cancelled", id, j.State)
	}
	js.dequeue(id, j.Department)
	j.State, j.FinishedAt = fixgraph.JobCancelled, time.Now().UTC()
	if err := js.put(j); err != nil {
		return nil, err
	}
	if j.Kind == fixgraph.JobUpload {
		js.removeSpooled(j.ID)
	}
	js.notifyLocked()
	return j, nil
}

// SubmitPaths records a job over files, directories and zip archives on disk; Run or Process
// carries it out.
func (js *Jobs) SubmitPaths(spec fixgraph.JobSpec, paths []string) (*fixgraph.Job, error) {
	j := &fixgraph.Job{ID: js.newID(), Kind: fixgraph.JobPaths, Department: spec.Department, Visibility: spec.Visibility}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "bad path %q", p)
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "cannot read %s", p)
		}
		j.Inputs = append(j.Inputs, fixgraph.JobInput{Name: p, Path: abs})
	}
	return js.submit(j)
}

// SubmitCrawl records a crawl job, refusing a config over the crawl limits (CheckCrawlLimits).
func (js *Jobs) SubmitCrawl(spec fixgraph.JobSpec, cfg fixgraph.CrawlConfig) (*fixgraph.Job, error) {
	if js.Crawler == nil {
		return nil, fixgraph.Errorf(fixgraph.EUNSUPPORTED, "this server does not crawl")
	}
	if err := CheckCrawlLimits(cfg); err != nil {
		return nil, err
	}
	return js.submit(&fixgraph.Job{ID: js.newID(), Kind: fixgraph.JobCrawl, Department: spec.Department, Visibility: spec.Visibility, Crawl: &cfg})
}

// CheckCrawlLimits returns an EINVALID error naming the first setting of a crawl job that is
// negative or over its upper bound (MaxCrawlDepth, MaxCrawlPages, MaxCrawlBytes, MaxCrawlTime,
// MaxCrawlRate, MaxCrawlConcurrency). Zero settings take the crawler's defaults, which are within
// the bounds; a job cannot turn the rate limit off.
func CheckCrawlLimits(cfg fixgraph.CrawlConfig) error {
	if len(cfg.Seeds) == 0 {
		return fixgraph.Errorf(fixgraph.EINVALID, "a crawl needs at least one seed URL")
	}
	for _, c := range []struct {
		name       string
		value, max float64
		show       string
	}{
		{"depth", float64(cfg.MaxDepth), MaxCrawlDepth, fmt.Sprint(cfg.MaxDepth)},
		{"page limit", float64(cfg.MaxPages), MaxCrawlPages, fmt.Sprint(cfg.MaxPages)},
		{"byte limit", float64(cfg.MaxBytes), MaxCrawlBytes, fmt.Sprint(cfg.MaxBytes)},
		{"time limit", float64(cfg.MaxTime), float64(MaxCrawlTime), cfg.MaxTime.String()},
		{"rate", cfg.Rate, MaxCrawlRate, fmt.Sprint(cfg.Rate)},
		{"concurrency", float64(cfg.Concurrency), MaxCrawlConcurrency, fmt.Sprint(cfg.Concurrency)},
	} {
		if c.value < 0 {
			return fixgraph.Errorf(fixgraph.EINVALID, "the crawl's %s cannot be negative (%s)", c.name, c.show)
		}
		if c.value > c.max {
			limit := fmt.Sprint(c.max)
			switch c.name {
			case "time limit":
				limit = MaxCrawlTime.String()
			case "byte limit":
				limit = fmt.Sprintf("%d bytes", int64(MaxCrawlBytes))
			case "rate":
				limit += " requests per second per host"
			}
			return fixgraph.Errorf(fixgraph.EINVALID, "the crawl's %s %s is over the limit of %s", c.name, c.show, limit)
		}
	}
	return nil
}

// Get returns a job.
func (js *Jobs) Get(ctx context.Context, id string) (*fixgraph.Job, error) {
	var j *fixgraph.Job
	err := js.State.view(bucketJobs, func(b kv.Bucket) error {
		var err error
		j, err = getJob(b, id)
		return err
	})
	return j, err
}

// getJob reads job id from the jobs bucket b.
func getJob(b kv.Bucket, id string) (*fixgraph.Job, error) {
	v := b.Get([]byte(id))
	if v == nil {
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no job %q", id)
	}
	j := new(fixgraph.Job)
	return j, json.Unmarshal(v, j)
}

// List returns jobs newest first, of one department when department is not "", at most limit
// of them when limit > 0.
func (js *Jobs) List(ctx context.Context, department string, limit int) ([]*fixgraph.Job, error) {
	var out []*fixgraph.Job
	err := js.State.view(bucketJobs, func(b kv.Bucket) error {
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var j fixgraph.Job
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("decoding job %q: %w", k, err)
			}
			if department != "" && j.Department != department {
				continue
			}
			out = append(out, &j)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// Files returns a job's file outcomes in order, from offset, at most limit when limit > 0, only
// those with the given outcome when outcome is not "".
func (js *Jobs) Files(ctx context.Context, id, outcome string, offset, limit int) ([]fixgraph.JobFile, error) {
	var out []fixgraph.JobFile
	prefix := []byte(id + "\x00")
	err := js.State.view(bucketJobFiles, func(b kv.Bucket) error {
		if b == nil {
			return nil
		}
		c := b.Cursor()
		skip := offset
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var f fixgraph.JobFile
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("decoding a file of job %q: %w", id, err)
			}
			if outcome != "" && f.Outcome != outcome {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, f)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	return out, err
}

func (js *Jobs) put(j *fixgraph.Job) error {
	return js.State.db.Update(func(tx kv.Tx) error { return writeJob(tx, j) })
}

// writeJob stores j, keeping the index of unfinished jobs in step with it.
func writeJob(tx kv.Tx, j *fixgraph.Job) error {
	v, err := json.Marshal(j)
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketPending)
	if j.Finished() {
		err = b.Delete([]byte(j.ID))
	} else {
		err = b.Put([]byte(j.ID), []byte(j.Department))
	}
	if err != nil {
		return err
	}
	return tx.Bucket(bucketJobs).Put([]byte(j.ID), v)
}

// record stores a file's outcome and the job's counts in one transaction.
func (js *Jobs) record(j *fixgraph.Job, f fixgraph.JobFile) error {
	j.Processed++
	j.Total = max(j.Total, j.Processed)
	j.Counts.Add(f.Outcome)
	if f.Err != nil {
		f.Code = fixgraph.CodeOf(f.Err)
	}
	fv, err := json.Marshal(f)
	if err != nil {
		return err
	}
	err = js.State.db.Update(func(tx kv.Tx) error {
		key := binary.BigEndian.AppendUint32([]byte(j.ID+"\x00"), uint32(f.Seq))
		if err := tx.Bucket(bucketJobFiles).Put(key, fv); err != nil {
			return err
		}
		return writeJob(tx, j)
	})
	if err == nil {
		js.notify()
	}
	return err
}

// done returns the sequence numbers of the files a job has finished.
func (js *Jobs) done(id string) (map[int]bool, error) {
	files, err := js.Files(context.Background(), id, "", 0, 0)
	seen := make(map[int]bool, len(files))
	for _, f := range files {
		seen[f.Seq] = true
	}
	return seen, err
}

// Process carries out a queued job now, calling progress (when not nil) after each file. A job
// resumed after a restart skips the files it had finished.
func (js *Jobs) Process(ctx context.Context, id string, progress func(*fixgraph.Job, fixgraph.JobFile)) error {
	jctx, cancel := context.WithCancelCause(ctx)
	r := &runningJob{cancel: cancel, done: make(chan struct{})}
	js.mu.Lock()
	js.init()
	if _, ok := js.running[id]; ok {
		js.mu.Unlock()
		cancel(nil)
		return fixgraph.Errorf(fixgraph.ECONFLICT, "job %q is running already", id)
	}
	js.running[id] = r
	js.mu.Unlock()
	defer func() {
		js.mu.Lock()
		delete(js.running, id)
		js.mu.Unlock()
		cancel(nil)
		close(r.done)
	}()
	ctx = jctx
	var j *fixgraph.Job
	var err error
	if js.shared() {
		j, err = js.claim(id)
		if err != nil {
			return err
		}
		if !j.Finished() {
			defer js.release(id)
			go js.renew(ctx, id, cancel)
			if j.State == fixgraph.JobRunning {
				j.Resumed++ // its replica stopped renewing its lease
				js.Log.Info("taking over a job from a replica that stopped", "job", j.ID, "kind", j.Kind, "done", j.Processed, "of", j.Total)
			}
		}
	} else if j, err = js.Get(ctx, id); err != nil {
		return err
	}
	if j.Finished() {
		return nil
	}
	j.State = fixgraph.JobRunning
	if j.StartedAt.IsZero() {
		j.StartedAt = time.Now().UTC()
	}
	if err := js.put(j); err != nil {
		return err
	}
	js.notify()
	p := *js.Pipeline
	p.Department, p.Visibility = cmp.Or(j.Department, p.Department), cmp.Or(j.Visibility, p.Visibility)
	if j.Review {
		p.Status = fixgraph.StatusReview
	}
	emit := func(f fixgraph.JobFile) error {
		if err := js.record(j, f); err != nil {
			return fmt.Errorf("recording job %q: %w", j.ID, err)
		}
		if progress != nil {
			progress(j, f)
		}
		return nil
	}
	var runErr error
	switch j.Kind {
	case fixgraph.JobCrawl:
		runErr = js.crawl(ctx, &p, j, emit)
	default:
		runErr = js.files(ctx, &p, j, emit)
	}
	cancelled := context.Cause(ctx) == errCancelled
	if ctx.Err() != nil && !cancelled {
		if context.Cause(ctx) == errLeaseLost {
			return errLeaseLost
		}
		return ctx.Err() // left running: the next start resumes it
	}
	if !cancelled && fixgraph.CodeOf(runErr) == fixgraph.EUNAVAILABLE {
		return runErr // left running: Run tries it again later
	}
	j.FinishedAt = time.Now().UTC()
	switch {
	case cancelled:
		j.State, runErr = fixgraph.JobCancelled, nil
	case runErr != nil:
		j.State, j.Error = fixgraph.JobFailed, fixgraph.MessageOf(runErr)
	default:
		j.State = fixgraph.JobDone
	}
	if err := js.put(j); err != nil {
		return err
	}
	js.notify()
	if j.Kind == fixgraph.JobUpload {
		js.removeSpooled(j.ID)
	}
	return runErr
}

func (js *Jobs) crawl(ctx context.Context, p *Pipeline, j *fixgraph.Job, emit func(fixgraph.JobFile) error) error {
	if js.Crawler == nil {
		return fixgraph.Errorf(fixgraph.EUNSUPPORTED, "this server does not crawl")
	}
	c := *js.Crawler
	c.Pipeline = p
	seq := 0
	var emitErr error
	rep, err := c.Crawl(ctx, CrawlConfig(*j.Crawl), func(r FileResult) {
		if emitErr == nil {
			emitErr = emit(fixgraph.JobFile{Seq: seq, Name: r.Source, FileResult: r})
		}
		seq++
	})
	if rep != nil {
		j.Crawled = &fixgraph.CrawlStats{Requests: rep.Requests, Fetched: rep.Fetched, NotModified: rep.NotModified,
			Unchanged: rep.Unchanged - j.Counts.Unchanged, Skipped: rep.Skipped, Duplicates: rep.Duplicates,
			Unvisited: rep.Unvisited, Bytes: rep.Bytes, Warnings: rep.Warnings}
	}
	return errors.Join(err, emitErr)
}
