package ingest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html/charset"

	"github.com/fixgraph/fixgraph"
)

// Crawl defaults, used when the CrawlConfig field is zero.
const (
	DefaultCrawlDepth       = 5
	DefaultCrawlPages       = 1000
	DefaultCrawlBytes       = 1 << 30
	DefaultCrawlTime        = time.Hour
	DefaultCrawlRate        = 5.0
	DefaultCrawlConcurrency = 4
	DefaultUserAgent        = "fixgraph-crawler/1.0"
)

// Upper bounds of a crawl job: Jobs.SubmitCrawl refuses a config over them (CheckCrawlLimits).
// The rate bound is the per-host floor between two requests: 20 ms.
const (
	MaxCrawlDepth       = 20
	MaxCrawlPages       = 100_000
	MaxCrawlBytes       = 20 << 30
	MaxCrawlTime        = 24 * time.Hour
	MaxCrawlRate        = 50.0
	MaxCrawlConcurrency = 16
)

const (
	maxRedirects  = 5                // of one page, robots.txt or sitemap
	maxSitemaps   = 100              // sitemap files read per crawl, indexes included
	maxCrawlDelay = 30 * time.Second // the longest robots.txt Crawl-delay honoured
	crawlTimeout  = 30 * time.Second // of each request, with the default client
)

// CrawlConfig says where a crawl goes and how hard it pushes.
type CrawlConfig struct {
	Seeds       []string      // start URLs (http/https)
	Scope       string        // URL prefix every fetched page must start with; "" = each seed's scheme://host + the seed's directory path
	MaxDepth    int           // link hops from a seed; 0 = DefaultCrawlDepth
	MaxPages    int           // page requests at most (robots.txt and sitemaps not counted); 0 = DefaultCrawlPages
	MaxBytes    int64         // bytes of answers read at most, robots.txt and sitemaps included; 0 = DefaultCrawlBytes
	MaxTime     time.Duration // how long the crawl may run; 0 = DefaultCrawlTime
	Rate        float64       // requests per second per host; 0 = DefaultCrawlRate, below 0 = no limit
	Concurrency int           // parallel fetches; 0 = DefaultCrawlConcurrency
	UserAgent   string        // "" = DefaultUserAgent
}

// Crawler fetches a site and writes what it finds through the pipeline, as the pipeline's
// department: it keeps its state of the site apart from other departments' crawls, and never
// overwrites or removes a document another department owns.
type Crawler struct {
	Pipeline *Pipeline
	State    *State    // remembers per department and URL: ETag, Last-Modified, content hash, document source, last crawl
	Guard    *NetGuard // which addresses may be fetched; nil refuses every non-public address
}

// CrawlReport counts what a crawl did. Unchanged counts both pages the pipeline found unchanged
// and pages whose bytes equal those of the last crawl (which are not written at all).
type CrawlReport struct {
	Fetched     int // pages answered with a body (2xx)
	NotModified int // pages answered 304 to a conditional request
	Added       int
	Updated     int
	Unchanged   int
	Removed     int
	Failed      int
	Skipped     int   // disallowed by robots.txt, not HTML or PDF, redirected to a URL visited already, gone while its document lives on at another URL, or another department's document
	Duplicates  int   // same bytes or same canonical URL as a page already written
	Requests    int   // HTTP requests made, robots.txt and sitemaps included
	Unvisited   int   // URLs left in the frontier when MaxPages, MaxBytes or MaxTime was reached
	Bytes       int64 // bytes of answers read, robots.txt and sitemaps included

	Files    []FileResult // one per URL that was written, removed, or failed (not for 304s or unchanged bytes)
	Skips    []CrawlSkip  // one per skipped or duplicate URL, with the reason
	Warnings []string     // robots.txt and sitemap problems, other departments' documents left alone, limits reached
}

// CrawlSkip is a URL the crawl did not write, and why.
type CrawlSkip struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
}

// Crawl fetches the seeds, the in-scope pages they link to and the in-scope pages of the hosts'
// sitemaps, and re-checks every URL the state knows under the scope. New and changed pages go
// through the pipeline, pages that now answer 404 or 410 are removed from it, and everything else
// is left alone. State and writes are the pipeline's department's: a page whose document another
// department owns is skipped with a warning. The crawl stops early, keeping what it did, at
// MaxPages, MaxBytes or MaxTime. progress, when not nil, is called once per FileResult, from one
// goroutine at a time. Per-URL failures are in the report, refused addresses included; the
// error is for an invalid config, a cancelled context or a state file that cannot be read, and
// comes with the report so far.
func (c *Crawler) Crawl(ctx context.Context, cfg CrawlConfig, progress func(FileResult)) (*CrawlReport, error) {
	cr, err := c.newCrawl(cfg, progress)
	if err != nil {
		return nil, err
	}
	defer cr.transport.CloseIdleConnections()
	// Fetches stop at the time limit; writes of pages fetched by then finish, under ctx.
	cr.wctx = ctx
	fctx, cancel := context.WithTimeoutCause(ctx, cr.cfg.MaxTime, errTimeLimit)
	defer cancel()
	cr.ctx = fctx
	stop := context.AfterFunc(fctx, func() {
		cr.fmu.Lock()
		cr.cond.Broadcast()
		cr.fmu.Unlock()
	})
	defer stop()

	cr.fmu.Lock()
	for _, s := range cr.seeds {
		cr.enqueue(s, 0)
	}
	cr.fmu.Unlock()
	cr.readSitemaps(fctx)
	if err := cr.recheckKnown(ctx); err != nil {
		return cr.report, err
	}

	var wg sync.WaitGroup
	for range cr.cfg.Concurrency {
		wg.Go(func() {
			for {
				u, depth, ok := cr.next()
				if !ok {
					return
				}
				links := cr.visit(fctx, u, depth)
				cr.done(links, depth)
			}
		})
	}
	wg.Wait()
	for d, level := range cr.pending {
		for _, u := range level {
			if !cr.claimed[u] && cr.best[u] == d {
				cr.report.Unvisited++
				cr.claimed[u] = true // count each URL once
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return cr.report, err
	}
	switch {
	case context.Cause(fctx) == errTimeLimit:
		cr.warn("the crawl stopped at its time limit of %s with %d URLs left unvisited", cr.cfg.MaxTime, cr.report.Unvisited)
	case cr.halted:
		cr.warn("the crawl stopped at its limit of %d bytes with %d URLs left unvisited", cr.cfg.MaxBytes, cr.report.Unvisited)
	}
	return cr.report, nil
}

// errTimeLimit is why a crawl's fetches stop at its MaxTime.
var errTimeLimit = errors.New("the crawl's time limit was reached")

// crawl is one run of Crawl.
type crawl struct {
	c         *Crawler
	ctx       context.Context // of fetches: ends at the time limit
	wctx      context.Context // of writes to the pipeline and the state
	cfg       CrawlConfig
	dept      string // the department whose crawl it is: the pipeline's
	transport *http.Transport
	seeds     []string
	scopes    []string        // normalised URL prefixes
	hosts     map[string]bool // scheme://host of each scope
	page      *http.Client    // does not follow redirects: visit does, checking each hop
	aux       *http.Client    // robots.txt and sitemaps, redirects followed within their origin
	maxSize   int64
	interval  time.Duration // between requests to one host
	progress  func(FileResult)

	mu      sync.Mutex // guards report, seen, known, written
	report  *CrawlReport
	seen    map[string]string // sha256 of a body fetched this crawl → the document it went into
	known   map[string]string // sha256 of a body the state knows → its document
	written map[string]string // document source → the URL it was written from this crawl

	hmu       sync.Mutex
	hostInfos map[string]*hostInfo

	fmu      sync.Mutex // guards the frontier
	cond     *sync.Cond
	pending  [][]string     // URLs to visit, by depth
	best     map[string]int // the smallest depth each URL was queued at
	claimed  map[string]bool
	settled  map[string]bool // answered this crawl with something other than a redirect
	inflight int
	started  int
	halted   bool // the byte limit was reached: no more fetches
}

// hostInfo is what a crawl knows of one host: its robots.txt and when it may be asked next.
type hostInfo struct {
	key       string // scheme://host
	once      sync.Once
	robots    *robots
	robotsErr string // why robots.txt could not be read; set with disallowAll
	refused   error  // the guard refused the host's address; set with robotsErr

	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func (c *Crawler) newCrawl(cfg CrawlConfig, progress func(FileResult)) (*crawl, error) {
	if c.Pipeline == nil {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "the crawler has no pipeline to write to")
	}
	if c.State == nil {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "the crawler has no state to remember pages in")
	}
	if len(cfg.Seeds) == 0 {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "a crawl needs at least one seed URL")
	}
	if cfg.MaxDepth < 0 || cfg.MaxPages < 0 || cfg.MaxBytes < 0 || cfg.MaxTime < 0 || cfg.Concurrency < 0 {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "crawl depth, page, byte and time limits and concurrency cannot be negative")
	}
	cfg.MaxDepth = cmp.Or(cfg.MaxDepth, DefaultCrawlDepth)
	cfg.MaxPages = cmp.Or(cfg.MaxPages, DefaultCrawlPages)
	cfg.MaxBytes = cmp.Or(cfg.MaxBytes, DefaultCrawlBytes)
	cfg.MaxTime = cmp.Or(cfg.MaxTime, DefaultCrawlTime)
	cfg.Concurrency = cmp.Or(cfg.Concurrency, DefaultCrawlConcurrency)
	cfg.Rate = cmp.Or(cfg.Rate, DefaultCrawlRate)
	cfg.UserAgent = cmp.Or(strings.TrimSpace(cfg.UserAgent), DefaultUserAgent)

	cr := &crawl{
		c: c, cfg: cfg, progress: progress, dept: c.Pipeline.Department,
		hosts:     make(map[string]bool),
		report:    &CrawlReport{},
		seen:      make(map[string]string),
		known:     make(map[string]string),
		written:   make(map[string]string),
		hostInfos: make(map[string]*hostInfo),
		pending:   make([][]string, cfg.MaxDepth+1),
		best:      make(map[string]int),
		claimed:   make(map[string]bool),
		settled:   make(map[string]bool),
	}
	cr.cond = sync.NewCond(&cr.fmu)
	if cfg.Rate > 0 {
		cr.interval = time.Duration(float64(time.Second) / cfg.Rate)
	}
	cr.maxSize = c.Pipeline.MaxFileSize
	if cr.maxSize <= 0 {
		cr.maxSize = DefaultMaxFileSize
	}

	for _, s := range cfg.Seeds {
		u, err := normalizeURL(nil, strings.TrimSpace(s))
		if err != nil {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "seed %q is not an http or https URL", s)
		}
		cr.seeds = append(cr.seeds, u)
	}
	if cfg.Scope != "" {
		s, err := normalizeURL(nil, strings.TrimSpace(cfg.Scope))
		if err != nil {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "scope %q is not an http or https URL prefix", cfg.Scope)
		}
		cr.scopes = []string{s}
	} else {
		for _, s := range cr.seeds {
			if dir := s[:strings.LastIndex(s, "/")+1]; !slices.Contains(cr.scopes, dir) {
				cr.scopes = append(cr.scopes, dir)
			}
		}
	}
	for _, s := range cr.scopes {
		cr.hosts[hostKey(s)] = true
	}
	for _, s := range cr.seeds {
		if !cr.inScope(s) {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "seed %q is outside the scope %q", s, cfg.Scope)
		}
	}

	// Every connection, redirects' included, goes through the guard.
	cr.transport = c.Guard.Transport()
	cr.page = &http.Client{Transport: cr.transport, Timeout: crawlTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cr.aux = &http.Client{Transport: cr.transport, Timeout: crawlTimeout, CheckRedirect: sameOrigin}
	return cr, nil
}

// sameOrigin lets robots.txt and sitemaps, which live at a host's root outside any path scope,
// follow at most maxRedirects redirects, each to the origin (scheme and host) they were asked of.
func sameOrigin(req *http.Request, via []*http.Request) error {
	first := via[0].URL.String()
	if len(via) > maxRedirects {
		return fixgraph.Errorf(fixgraph.EUNREADABLE, "%q redirects more than %d times", first, maxRedirects)
	}
	to, err := normalizeURL(nil, req.URL.String())
	if err != nil || hostKey(to) != hostKey(first) {
		return fixgraph.Errorf(fixgraph.EFORBIDDEN, "%q redirects to %q, another origin; not followed", first, req.URL.String())
	}
	return nil
}

// inScope reports whether u starts with one of the crawl's scope prefixes.
func (cr *crawl) inScope(u string) bool {
	for _, s := range cr.scopes {
		if strings.HasPrefix(u, s) {
			return true
		}
	}
	return false
}

// allowed reports whether u may be fetched: it is in scope, or it is a PDF on a scope's host.
func (cr *crawl) allowed(u string) bool {
	return cr.inScope(u) || extOf(u) == ".pdf" && cr.hosts[hostKey(u)]
}

// scopeOf returns the scope u belongs to, or the first scope on its host.
func (cr *crawl) scopeOf(u string) string {
	for _, s := range cr.scopes {
		if strings.HasPrefix(u, s) {
			return s
		}
	}
	for _, s := range cr.scopes {
		if hostKey(s) == hostKey(u) {
			return s
		}
	}
	return ""
}

// recheckKnown queues every URL the department's state knows under the scope (and the PDFs an
// earlier crawl of the same scope found on its hosts), so that pages nothing links to any more are
// noticed when they are gone. It first adopts the records of crawls made before state was kept per
// department whose documents the department owns.
func (cr *crawl) recheckKnown(ctx context.Context) error {
	hosts := make([]string, 0, len(cr.hosts))
	for h := range cr.hosts {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		_, err := cr.c.State.AdoptCrawlRecords(cr.dept, h+"/", func(rec *CrawlRecord) (bool, error) {
			owner, ok, err := cr.ownerOf(ctx, rec.Source)
			return !ok || owner == cr.dept, err
		})
		if err != nil {
			return err
		}
	}
	cr.fmu.Lock()
	defer cr.fmu.Unlock()
	for _, h := range hosts {
		recs, err := cr.c.State.CrawlRecords(cr.dept, h+"/")
		if err != nil {
			return fmt.Errorf("listing crawled pages of %q: %w", h, err)
		}
		for _, rec := range recs {
			if !cr.inScope(rec.URL) && !(extOf(rec.URL) == ".pdf" && slices.Contains(cr.scopes, rec.Scope)) {
				continue
			}
			cr.known[rec.Hash] = rec.Source
			cr.enqueue(rec.URL, min(rec.Depth, cr.cfg.MaxDepth))
		}
	}
	return nil
}

// enqueue adds u to the frontier at depth d unless it is claimed or queued no deeper. fmu is held.
func (cr *crawl) enqueue(u string, d int) {
	if cr.claimed[u] {
		return
	}
	if b, ok := cr.best[u]; ok && b <= d {
		return
	}
	cr.best[u] = d
	cr.pending[d] = append(cr.pending[d], u)
}

// next claims the shallowest URL of the frontier, waiting while other workers may still add some.
// It returns false when the crawl is over: nothing left, the page limit reached, or ctx cancelled.
func (cr *crawl) next() (string, int, bool) {
	cr.fmu.Lock()
	defer cr.fmu.Unlock()
	for {
		if cr.ctx.Err() != nil || cr.started >= cr.cfg.MaxPages || cr.halted {
			cr.cond.Broadcast()
			return "", 0, false
		}
		for d := range cr.pending {
			for len(cr.pending[d]) > 0 {
				u := cr.pending[d][0]
				cr.pending[d] = cr.pending[d][1:]
				if cr.claimed[u] || cr.best[u] != d {
					continue
				}
				cr.claimed[u] = true
				cr.inflight++
				cr.started++
				return u, d, true
			}
		}
		if cr.inflight == 0 {
			cr.cond.Broadcast()
			return "", 0, false
		}
		cr.cond.Wait()
	}
}

// done queues the links found on a page at depth d and wakes waiting workers.
func (cr *crawl) done(links []string, d int) {
	cr.fmu.Lock()
	defer cr.fmu.Unlock()
	if d+1 <= cr.cfg.MaxDepth {
		for _, l := range links {
			cr.enqueue(l, d+1)
		}
	}
	cr.inflight--
	cr.cond.Broadcast()
}

// settle records that u answered with something other than a redirect, so redirects to it need not
// be followed again. When u is a redirect's target (claim), it also claims u, and returns false
// when u was claimed already.
func (cr *crawl) settle(u string, claim bool) bool {
	cr.fmu.Lock()
	defer cr.fmu.Unlock()
	if claim {
		if cr.claimed[u] {
			return false
		}
		cr.claimed[u] = true
	}
	cr.settled[u] = true
	return true
}

// isSettled reports whether u answered with something other than a redirect in this crawl: a
// redirect to it cannot be part of a loop, and need not be followed.
func (cr *crawl) isSettled(u string) bool {
	cr.fmu.Lock()
	defer cr.fmu.Unlock()
	return cr.settled[u]
}

// file records one result and reports it.
func (cr *crawl) file(res FileResult) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	r := cr.report
	switch res.Outcome {
	case Added:
		r.Added++
	case Updated:
		r.Updated++
	case Unchanged:
		r.Unchanged++
	case Removed:
		r.Removed++
	case Failed:
		r.Failed++
	}
	r.Files = append(r.Files, res)
	if cr.progress != nil {
		cr.progress(res)
	}
}

// fail records a failure of u.
func (cr *crawl) fail(u string, err error) {
	cr.file(FileResult{Source: u, Outcome: Failed, Err: err, Error: fixgraph.MessageOf(err)})
}

// skip records a URL that is not written, and why.
func (cr *crawl) skip(u, reason string, duplicate bool) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if duplicate {
		cr.report.Duplicates++
	} else {
		cr.report.Skipped++
	}
	cr.report.Skips = append(cr.report.Skips, CrawlSkip{URL: u, Reason: reason})
}

func (cr *crawl) count(fn func(r *CrawlReport)) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	fn(cr.report)
}

func (cr *crawl) warn(format string, args ...any) {
	cr.count(func(r *CrawlReport) { r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...)) })
}

// read reads at most limit bytes of an answer's body, counting them against the crawl's byte
// limit; at the limit, no more URLs are fetched.
func (cr *crawl) read(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit))
	cr.mu.Lock()
	cr.report.Bytes += int64(len(data))
	over := cr.report.Bytes >= cr.cfg.MaxBytes
	cr.mu.Unlock()
	if over {
		cr.fmu.Lock()
		cr.halted = true
		cr.cond.Broadcast()
		cr.fmu.Unlock()
	}
	return data, err
}

// host returns what the crawl knows of the host of u, without reading its robots.txt.
func (cr *crawl) host(u string) *hostInfo {
	key := hostKey(u)
	cr.hmu.Lock()
	defer cr.hmu.Unlock()
	h, ok := cr.hostInfos[key]
	if !ok {
		h = &hostInfo{key: key, interval: cr.interval}
		cr.hostInfos[key] = h
	}
	return h
}

// robotsOf returns the robots.txt rules of the host of u, reading them on first use.
func (cr *crawl) robotsOf(ctx context.Context, u string) *hostInfo {
	h := cr.host(u)
	h.once.Do(func() { cr.loadRobots(ctx, h) })
	return h
}

// loadRobots reads the host's robots.txt: a 4xx answer allows everything; a 5xx answer or no answer
// disallows everything for this crawl (RFC 9309), so an outage never looks like permission.
func (cr *crawl) loadRobots(ctx context.Context, h *hostInfo) {
	u := h.key + "/robots.txt"
	resp, err := cr.get(ctx, cr.aux, u, nil)
	if err != nil {
		h.robots, h.robotsErr = disallowAll, fmt.Sprintf("robots.txt of %q cannot be fetched (%s)", h.key, netReason(err))
		var ae *AddressError
		if errors.As(err, &ae) {
			h.refused = ae
		}
		cr.warn("%s; nothing on that host is crawled", h.robotsErr)
		return
	}
	defer drain(resp)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		data, err := cr.read(resp.Body, maxRobotsSize)
		if err != nil {
			h.robots, h.robotsErr = disallowAll, fmt.Sprintf("robots.txt of %q cannot be read (%s)", h.key, netReason(err))
			cr.warn("%s; nothing on that host is crawled", h.robotsErr)
			return
		}
		h.robots = parseRobots(data, cr.cfg.UserAgent)
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		h.robots = allowAll
	default:
		h.robots, h.robotsErr = disallowAll, fmt.Sprintf("robots.txt of %q answered %s", h.key, resp.Status)
		cr.warn("%s; nothing on that host is crawled", h.robotsErr)
		return
	}
	if d := min(h.robots.delay, maxCrawlDelay); d > 0 {
		h.mu.Lock()
		h.interval = max(h.interval, d)
		h.mu.Unlock()
	}
}

// wait blocks until the host may be asked again.
func (h *hostInfo) wait(ctx context.Context) error {
	h.mu.Lock()
	at := h.next
	if now := time.Now(); at.Before(now) {
		at = now
	}
	h.next = at.Add(h.interval)
	h.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// get sends one GET for u, after the host's rate limit, with conditions from rec when not nil.
func (cr *crawl) get(ctx context.Context, client *http.Client, u string, rec *CrawlRecord) (*http.Response, error) {
	if err := cr.host(u).wait(ctx); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", cr.cfg.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.5")
	if rec != nil {
		if rec.ETag != "" {
			req.Header.Set("If-None-Match", rec.ETag)
		}
		if rec.LastModified != "" {
			req.Header.Set("If-Modified-Since", rec.LastModified)
		}
	}
	cr.count(func(r *CrawlReport) { r.Requests++ })
	return client.Do(req)
}

// visit fetches u, following redirects within the scope, and writes, removes or skips what it
// finds. It returns the in-scope links of the page.
func (cr *crawl) visit(ctx context.Context, u string, depth int) []string {
	chain := []string{u}
	cur := u
	firstStatus := 0
	for {
		h := cr.robotsOf(ctx, cur)
		if ctx.Err() != nil {
			return nil
		}
		if h.refused != nil {
			cr.fail(u, fixgraph.WrapError(fixgraph.EFORBIDDEN, h.refused, "cannot fetch %q: %s", cur, h.refused))
			return nil
		}
		if h.robotsErr != "" {
			cr.fail(u, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "%s, so %q is not fetched", h.robotsErr, cur))
			return nil
		}
		if !h.robots.allowed(pathQuery(cur)) {
			cr.skip(cur, "disallowed by robots.txt", false)
			return nil
		}
		if len(chain) > 1 && cr.isSettled(cur) {
			cr.skip(u, fmt.Sprintf("redirects to %q, which this crawl visited already", cur), false)
			return nil
		}
		rec, err := cr.c.State.CrawlRecord(cr.dept, cur)
		if err != nil {
			cr.fail(cur, err)
			return nil
		}
		resp, err := cr.get(ctx, cr.page, cur, rec)
		if err != nil {
			var ae *AddressError
			switch {
			case errors.As(err, &ae):
				cr.fail(cur, fixgraph.WrapError(fixgraph.EFORBIDDEN, err, "cannot fetch %q: %s", cur, ae))
			case ctx.Err() == nil:
				cr.fail(cur, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "cannot fetch %q (%s)", cur, netReason(err)))
			}
			return nil
		}
		if firstStatus == 0 {
			firstStatus = resp.StatusCode
		}
		if code := resp.StatusCode; code >= 300 && code < 400 && code != http.StatusNotModified {
			drain(resp)
			next, err := cr.redirectTarget(cur, resp, chain)
			if err != nil {
				cr.fail(u, err)
				return nil
			}
			chain = append(chain, next)
			cur = next
			continue
		}
		// A redirect's target is handled here only when this crawl has not visited it already.
		if !cr.settle(cur, len(chain) > 1) {
			drain(resp)
			cr.skip(u, fmt.Sprintf("redirects to %q, which this crawl visits already", cur), false)
			return nil
		}
		switch code := resp.StatusCode; {
		case code == http.StatusNotModified:
			drain(resp)
			cr.count(func(r *CrawlReport) { r.NotModified++ })
			if rec != nil {
				rec.CrawledAt = time.Now().UTC()
				rec.Depth = min(rec.Depth, depth)
				if err := cr.c.State.PutCrawlRecord(rec); err != nil {
					cr.fail(cur, err)
				}
			}
			return nil
		case code >= 200 && code < 300:
			return cr.body(ctx, chain, depth, rec, resp, firstStatus)
		case code == http.StatusNotFound || code == http.StatusGone:
			drain(resp)
			cr.gone(chain, resp.Status)
			return nil
		case code >= 500:
			drain(resp)
			cr.fail(u, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "%q answered %s", cur, resp.Status))
			return nil
		default:
			drain(resp)
			errCode := fixgraph.EUNREADABLE
			if code == http.StatusUnauthorized {
				errCode = fixgraph.EUNAUTHORIZED
			} else if code == http.StatusForbidden {
				errCode = fixgraph.EFORBIDDEN
			}
			cr.fail(u, fixgraph.Errorf(errCode, "%q answered %s", cur, resp.Status))
			return nil
		}
	}
}

// redirectTarget returns where a redirect from cur leads, or why it is not followed: no Location,
// a loop, too many hops, or a target out of scope.
func (cr *crawl) redirectTarget(cur string, resp *http.Response, chain []string) (string, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", fixgraph.Errorf(fixgraph.EUNREADABLE, "%q answered %s without a Location", cur, resp.Status)
	}
	base, _ := url.Parse(cur)
	next, err := normalizeURL(base, loc)
	if err != nil {
		return "", fixgraph.Errorf(fixgraph.EUNREADABLE, "%q redirects to %q, which is not an http or https URL", cur, loc)
	}
	if slices.Contains(chain, next) {
		return "", fixgraph.Errorf(fixgraph.EUNREADABLE, "redirect loop: %s → %s", strings.Join(chain, " → "), next)
	}
	if len(chain) > maxRedirects {
		return "", fixgraph.Errorf(fixgraph.EUNREADABLE, "%q redirects more than %d times", chain[0], maxRedirects)
	}
	if !cr.allowed(next) {
		return "", fixgraph.Errorf(fixgraph.EINVALID, "%q redirects out of the crawl's scope to %q", cur, next)
	}
	return next, nil
}

// gone handles a 404 or 410 at the end of chain: a URL the state knows is removed with its
// document; a URL it does not know is a broken link.
func (cr *crawl) gone(chain []string, status string) {
	known := false
	for _, u := range chain {
		rec, err := cr.c.State.CrawlRecord(cr.dept, u)
		if err != nil {
			cr.fail(u, err)
			return
		}
		if rec != nil {
			known = true
			cr.retire(rec)
		}
	}
	if !known {
		last := chain[len(chain)-1]
		msg := fmt.Sprintf("%q answered %s", last, status)
		if len(chain) > 1 {
			msg += fmt.Sprintf(" (redirected from %q)", chain[0])
		}
		cr.fail(chain[0], fixgraph.Errorf(fixgraph.ENOTFOUND, "%s", msg))
	}
}

// retire forgets a URL that is gone and removes its document, unless another known URL still
// serves that document or another department owns it. A removal that fails keeps the record, so
// the next crawl tries again.
func (cr *crawl) retire(rec *CrawlRecord) {
	ctx := cr.wctx
	shared, err := cr.c.State.ForgetCrawlRecord(cr.dept, rec.URL, rec.Source)
	if err != nil {
		cr.fail(rec.URL, err)
		return
	}
	if shared {
		cr.skip(rec.URL, fmt.Sprintf("gone; its document %q is still served at another URL", rec.Source), false)
		return
	}
	cr.mu.Lock()
	for h, src := range cr.known {
		if src == rec.Source {
			delete(cr.known, h)
		}
	}
	cr.mu.Unlock()
	if ok, err := cr.mayWrite(ctx, rec.URL, rec.Source, "remove"); !ok {
		if err != nil {
			if perr := cr.c.State.PutCrawlRecord(rec); perr != nil {
				err = errors.Join(err, perr)
			}
			cr.fail(rec.URL, err)
		}
		return
	}
	res := cr.c.Pipeline.Remove(ctx, rec.Source)
	if res.Err != nil && fixgraph.CodeOf(res.Err) == fixgraph.ENOTFOUND {
		res = FileResult{Source: rec.Source, DocumentID: res.DocumentID, Outcome: Removed}
	}
	if res.Err != nil {
		if err := cr.c.State.PutCrawlRecord(rec); err != nil {
			res.Err = errors.Join(res.Err, err)
		}
	}
	cr.file(res)
}

// body reads a 2xx answer at the end of chain and writes it through the pipeline unless it is
// unchanged since the last crawl or duplicates a page already written. It returns the page's links.
func (cr *crawl) body(ctx context.Context, chain []string, depth int, rec *CrawlRecord, resp *http.Response, firstStatus int) []string {
	defer drain(resp)
	u := chain[len(chain)-1]
	cr.count(func(r *CrawlReport) { r.Fetched++ })
	ct := resp.Header.Get("Content-Type")
	media, _, _ := mime.ParseMediaType(ct)
	if !ingestible(media, u) {
		cr.skip(u, fmt.Sprintf("content type %q is neither HTML nor PDF", cmp.Or(ct, "none")), false)
		return nil
	}
	if resp.ContentLength > cr.maxSize {
		cr.fail(u, fixgraph.Errorf(fixgraph.ETOOLARGE, "%q is %d bytes, over the limit of %d bytes", u, resp.ContentLength, cr.maxSize))
		return nil
	}
	raw, err := cr.read(resp.Body, cr.maxSize+1)
	if err != nil {
		if ctx.Err() == nil {
			cr.fail(u, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "cannot read %q (%s)", u, netReason(err)))
		}
		return nil
	}
	if int64(len(raw)) > cr.maxSize {
		cr.fail(u, fixgraph.Errorf(fixgraph.ETOOLARGE, "%q is over the limit of %d bytes", u, cr.maxSize))
		return nil
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:])

	data, source := raw, u
	var links []string
	if media != "application/pdf" && extOf(u) != ".pdf" {
		data = toUTF8(raw, ct)
		if doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data)); err == nil {
			base, _ := url.Parse(u)
			if cr.inScope(u) {
				links = cr.links(doc, base)
			}
			if canon := canonical(doc, base); canon != "" && cr.inScope(canon) {
				source = canon
			}
		}
	}

	newRec := &CrawlRecord{
		Department: cr.dept, URL: u, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
		Hash: hash, Source: source, CrawledAt: time.Now().UTC(), Depth: depth, Scope: cr.scopeOf(u),
	}
	if rec != nil {
		newRec.Depth = min(rec.Depth, depth)
	}
	// A known URL that now redirects for good has moved here: once this page is written, the
	// document of the old URL goes (unless it is this one).
	var moved *CrawlRecord
	if len(chain) > 1 && (firstStatus == http.StatusMovedPermanently || firstStatus == http.StatusPermanentRedirect) {
		old, err := cr.c.State.CrawlRecord(cr.dept, chain[0])
		if err != nil {
			cr.fail(chain[0], err)
			return links
		}
		if old != nil && old.Source != source {
			moved = old
		}
	}
	if cr.write(ctx, newRec, rec, data, moved) && moved != nil {
		cr.retire(moved)
	}
	return links
}

// write writes a fetched page through the pipeline unless its bytes are those of the last crawl
// (rec) or it duplicates a document already written from another URL; either way it records the
// page in the state. It reports whether the page is accounted for, unchanged, duplicate or written.
// A duplicate of the document moved from is no duplicate: that document is about to go.
func (cr *crawl) write(ctx context.Context, newRec, rec *CrawlRecord, data []byte, moved *CrawlRecord) bool {
	u, source, hash := newRec.URL, newRec.Source, newRec.Hash
	put := func() bool {
		if err := cr.c.State.PutCrawlRecord(newRec); err != nil {
			cr.fail(u, err)
			return false
		}
		return true
	}

	// Unchanged since the last crawl: nothing is written.
	if rec != nil && rec.Hash == hash {
		newRec.Source = rec.Source
		cr.mu.Lock()
		cr.report.Unchanged++
		cr.seen[hash] = rec.Source
		if _, ok := cr.written[rec.Source]; !ok {
			cr.written[rec.Source] = u
		}
		cr.mu.Unlock()
		return put()
	}

	// The same bytes, or the same canonical document, already written from another URL.
	cr.mu.Lock()
	dupOf, why := "", ""
	if s, ok := cr.seen[hash]; ok {
		dupOf, why = s, fmt.Sprintf("same content as %q", s)
	} else if s, ok := cr.known[hash]; ok && (rec == nil || rec.Source != source) && (moved == nil || s != moved.Source) {
		// A URL known as its own document whose new bytes equal another's old ones stays its own.
		dupOf, why = s, fmt.Sprintf("same content as %q, crawled before", s)
	} else if from, ok := cr.written[source]; ok && (u != source || from == source) {
		// The page at the canonical URL itself is written even after an alias of it was: its
		// own content is the document's.
		dupOf, why = source, fmt.Sprintf("its canonical URL %q was written from %q already", source, from)
	} else {
		cr.seen[hash] = source
		cr.written[source] = u
		if rec != nil && cr.known[rec.Hash] == rec.Source {
			delete(cr.known, rec.Hash)
		}
	}
	cr.mu.Unlock()
	if dupOf != "" {
		cr.skip(u, why, true)
		newRec.Source = dupOf
		return put()
	}

	if ok, err := cr.mayWrite(cr.wctx, u, source, "overwrite"); !ok {
		if err != nil {
			cr.fail(u, err)
		}
		cr.mu.Lock()
		delete(cr.seen, hash)
		delete(cr.written, source)
		cr.mu.Unlock()
		return false
	}
	res := cr.c.Pipeline.IngestFile(cr.wctx, source, data)
	if res.Err == nil {
		if err := cr.c.State.PutCrawlRecord(newRec); err != nil {
			res.Outcome, res.Err, res.Error = Failed, err, fixgraph.MessageOf(err)
		}
	}
	cr.file(res)
	return res.Err == nil
}

// nodeReader is a graph store that reads stored nodes: the crawler reads a document's department
// before it overwrites or removes it.
type nodeReader interface {
	Node(ctx context.Context, id string) (fixgraph.Node, error)
}

// ownerOf returns the department of the stored document of source, and whether there is one. A
// graph that cannot read nodes has none to protect.
func (cr *crawl) ownerOf(ctx context.Context, source string) (string, bool, error) {
	g, ok := cr.c.Pipeline.Graph.(nodeReader)
	if !ok {
		return "", false, nil
	}
	n, err := g.Node(ctx, fixgraph.DocumentID(source))
	if fixgraph.CodeOf(err) == fixgraph.ENOTFOUND {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading the document of %q: %w", source, err)
	}
	d, ok := n.(*fixgraph.Document)
	if !ok {
		return "", false, nil
	}
	return d.Department, true, nil
}

// mayWrite reports whether the crawl may overwrite or remove (verb) the document of source,
// fetched from u: there is none, or it is the crawl's department's. A document another department
// owns is left alone, and u skipped with a warning.
func (cr *crawl) mayWrite(ctx context.Context, u, source, verb string) (bool, error) {
	owner, ok, err := cr.ownerOf(ctx, source)
	if err != nil || !ok || owner == cr.dept {
		return err == nil, err
	}
	msg := fmt.Sprintf("%q is a document of %s; a crawl for %s does not %s it", source, deptName(owner), deptName(cr.dept), verb)
	cr.skip(u, msg, false)
	cr.warn("%s", msg)
	return false, nil
}

// links returns the in-scope links of a page, normalised, each once. Links marked nofollow and
// pages whose robots meta tag says nofollow give none.
func (cr *crawl) links(doc *goquery.Document, base *url.URL) []string {
	nofollow := false
	doc.Find(`meta[name]`).Each(func(_ int, s *goquery.Selection) {
		name := strings.ToLower(s.AttrOr("name", ""))
		if (name == "robots" || productToken(name) == productToken(cr.cfg.UserAgent)) &&
			strings.Contains(strings.ToLower(s.AttrOr("content", "")), "nofollow") {
			nofollow = true
		}
	})
	if nofollow {
		return nil
	}
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if b, err := base.Parse(strings.TrimSpace(href)); err == nil {
			base = b
		}
	}
	var out []string
	seen := make(map[string]bool)
	doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
		if slices.Contains(strings.Fields(strings.ToLower(s.AttrOr("rel", ""))), "nofollow") {
			return
		}
		href := strings.TrimSpace(s.AttrOr("href", ""))
		if href == "" || href[0] == '#' {
			return
		}
		u, err := normalizeURL(base, href) // mailto:, javascript:, tel: and data: are refused here
		if err != nil || seen[u] || skippedExts[extOf(u)] || !cr.allowed(u) {
			return
		}
		seen[u] = true
		out = append(out, u)
	})
	return out
}

// skippedExts are extensions of files that are never documents, so links to them are not fetched.
var skippedExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".svg": true, ".webp": true, ".ico": true, ".bmp": true,
	".css": true, ".js": true, ".json": true, ".xml": true, ".woff": true, ".woff2": true, ".ttf": true,
	".zip": true, ".gz": true, ".tar": true, ".rar": true, ".7z": true, ".exe": true, ".dmg": true, ".apk": true,
	".mp3": true, ".mp4": true, ".avi": true, ".mov": true, ".webm": true, ".wav": true,
}

// canonical returns the page's <link rel="canonical"> URL, normalised, or "".
func canonical(doc *goquery.Document, base *url.URL) string {
	var out string
	doc.Find("link[rel][href]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if !slices.Contains(strings.Fields(strings.ToLower(s.AttrOr("rel", ""))), "canonical") {
			return true
		}
		if u, err := normalizeURL(base, strings.TrimSpace(s.AttrOr("href", ""))); err == nil {
			out = u
		}
		return false
	})
	return out
}

// ingestible reports whether a response of media type at u is a document the pipeline reads: HTML
// or PDF, or a generic type at a URL whose extension says HTML or PDF.
func ingestible(media, u string) bool {
	switch media {
	case "text/html", "application/xhtml+xml", "application/pdf":
		return true
	case "", "application/octet-stream", "binary/octet-stream", "application/x-download", "application/force-download", "text/plain":
		switch extOf(u) {
		case ".pdf", ".html", ".htm", ".xhtml":
			return true
		}
	}
	return false
}

// toUTF8 converts an HTML page in another charset, named by the Content-Type header or a meta tag,
// to UTF-8, which is what the parser reads.
func toUTF8(data []byte, contentType string) []byte {
	enc, name, _ := charset.DetermineEncoding(data, contentType)
	if name == "utf-8" || enc == nil {
		return data
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return data
	}
	return out
}

// readSitemaps reads the sitemaps of the scopes' hosts, those robots.txt lists and /sitemap.xml,
// and queues their in-scope pages as seeds. A sitemap that cannot be read is a warning; a missing
// /sitemap.xml is not.
func (cr *crawl) readSitemaps(ctx context.Context) {
	type item struct {
		url    string
		listed bool // named by robots.txt or a sitemap index, so a 404 is worth a warning
	}
	var queue []item
	hosts := make([]string, 0, len(cr.hosts))
	for h := range cr.hosts {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		info := cr.robotsOf(ctx, h+"/")
		if info.robotsErr != "" {
			continue
		}
		for _, s := range info.robots.sitemaps {
			queue = append(queue, item{s, true})
		}
		queue = append(queue, item{h + "/sitemap.xml", false})
	}
	done := make(map[string]bool)
	var pages []string
	for len(queue) > 0 && len(done) < maxSitemaps && ctx.Err() == nil {
		it := queue[0]
		queue = queue[1:]
		u, err := normalizeURL(nil, it.url)
		if err != nil || done[u] || !cr.hosts[hostKey(u)] {
			continue
		}
		done[u] = true
		resp, err := cr.get(ctx, cr.aux, u, nil)
		if err != nil {
			if ctx.Err() == nil {
				cr.warn("sitemap %q cannot be fetched (%s)", u, netReason(err))
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			drain(resp)
			if it.listed || resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusGone {
				cr.warn("sitemap %q answered %s", u, resp.Status)
			}
			continue
		}
		data, err := cr.read(resp.Body, cr.maxSize+1)
		drain(resp)
		if err != nil {
			cr.warn("sitemap %q cannot be read (%s)", u, netReason(err))
			continue
		}
		if int64(len(data)) > cr.maxSize {
			cr.warn("sitemap %q is over the limit of %d bytes", u, cr.maxSize)
			continue
		}
		locs, subs, err := parseSitemap(data, cr.maxSize)
		if err != nil {
			cr.warn("sitemap %q: %s", u, fixgraph.MessageOf(err))
			continue
		}
		base, _ := url.Parse(u)
		for _, l := range locs {
			if p, err := normalizeURL(base, l); err == nil && cr.inScope(p) {
				pages = append(pages, p)
			}
		}
		for _, s := range subs {
			if p, err := normalizeURL(base, s); err == nil {
				queue = append(queue, item{p, true})
			}
		}
	}
	cr.fmu.Lock()
	defer cr.fmu.Unlock()
	for _, p := range pages {
		cr.enqueue(p, 0)
	}
}

// normalizeURL resolves ref against base (nil for an absolute ref) and normalises it: http or
// https only, lower-case scheme and host, no default port, no fragment, dot segments removed, "/"
// for an empty path.
func normalizeURL(base *url.URL, ref string) (string, error) {
	var u *url.URL
	var err error
	if base != nil {
		u, err = base.Parse(ref)
	} else {
		u, err = url.Parse(ref)
	}
	if err != nil {
		return "", err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("not an http or https URL: %q", ref)
	}
	host := strings.ToLower(u.Host)
	if h, port, err := net.SplitHostPort(host); err == nil && (u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443") {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	clean := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && clean != "/" {
		clean += "/"
	}
	if clean != u.Path {
		u.Path, u.RawPath = clean, ""
	}
	u.ForceQuery = false
	return u.String(), nil
}

// hostKey returns the scheme://host of a normalised URL.
func hostKey(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// pathQuery returns the path and query of a URL, as robots.txt rules see it.
func pathQuery(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "/"
	}
	pq := p.EscapedPath()
	if p.RawQuery != "" {
		pq += "?" + p.RawQuery
	}
	return pq
}

// netReason names why a request failed, in words safe to show.
func netReason(err error) string {
	var ae *AddressError
	var fe *fixgraph.Error
	switch {
	case errors.As(err, &ae):
		return ae.Error()
	case errors.As(err, &fe):
		return fe.Message
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection reset"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "host not found"
	}
	return "network error"
}

// drain reads a little of what is left of a body, so the connection can be reused, and closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
