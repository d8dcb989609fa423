package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/fixgraph/fixgraph"
)

// DefaultStockInterval is how often a StockFeed polls unless told otherwise.
const DefaultStockInterval = 5 * time.Minute

// DefaultStockFeedMaxSize is the largest stock feed a StockFeed reads unless told otherwise.
const DefaultStockFeedMaxSize = 32 << 20

// StockFeed polls a stock feed and pushes what it reads. Logistics owns stock: the feed, a file or
// an HTTP(S) URL serving CSV or JSON (see ParseStockLevels), is the source of truth, and each poll
// that reads a changed feed pushes all its levels. A feed that fails to parse pushes nothing.
//
// A level's time is the feed's updatedAt when it gives one; otherwise the file's modification
// time, the HTTP response's Last-Modified, or the time of the poll, in that order.
//
// A StockFeed is safe for concurrent use; polls run one at a time. Set its fields before the first
// poll and do not change them afterwards.
type StockFeed struct {
	Source   string                                                         // file path or http(s) URL
	Interval time.Duration                                                  // between polls; 0 = DefaultStockInterval (5 min)
	Push     func(ctx context.Context, levels []*fixgraph.StockLevel) error // graph SetStock
	Client   *http.Client                                                   // nil = a client with a 30 s timeout
	MaxSize  int64                                                          // 0 = DefaultStockFeedMaxSize (32 MiB)
	Now      func() time.Time                                               // nil = time.Now
	Log      *slog.Logger                                                   // nil = discard

	mu      sync.Mutex
	client  *http.Client
	etag    string // validators of the last response pushed
	lastMod string
	hash    [sha256.Size]byte // of the last body pushed
	pushed  bool
}

// StockPoll is what one poll of a StockFeed did.
type StockPoll struct {
	Levels      int       // levels pushed; 0 when nothing changed
	NotModified bool      // the feed was unchanged since the last push (HTTP 304 or the same bytes), so nothing was pushed
	At          time.Time // when the poll started
}

// stockFetch is one read of a feed.
type stockFetch struct {
	body          []byte
	contentType   string    // "" when unknown
	modified      time.Time // file modification time or HTTP Last-Modified; zero when unknown
	notModified   bool      // HTTP 304
	etag, lastMod string    // HTTP validators to send next time
}

// Poll reads the feed once and pushes its levels, unless the feed is unchanged since the last
// successful push. Fetch failures are EUNAVAILABLE (ENOTFOUND for a missing file), feeds that
// cannot be parsed EUNREADABLE, feeds over MaxSize ETOOLARGE; push errors are returned wrapped.
// After a failed push the next poll reads and pushes the feed again.
func (f *StockFeed) Poll(ctx context.Context) (StockPoll, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	res := StockPoll{At: now()}
	if f.Push == nil {
		return res, fixgraph.Errorf(fixgraph.EINTERNAL, "stock feed %q has nowhere to push levels", f.Source)
	}
	got, err := f.fetch(ctx)
	if err != nil {
		return res, err
	}
	if got.notModified {
		res.NotModified = true
		return res, nil
	}
	sum := sha256.Sum256(got.body)
	if f.pushed && sum == f.hash {
		res.NotModified = true
		f.etag, f.lastMod = got.etag, got.lastMod
		return res, nil
	}
	fallback := res.At
	if !got.modified.IsZero() {
		fallback = got.modified
	}
	levels, err := ParseStockLevels(got.body, got.contentType, fallback)
	if err != nil {
		return res, fmt.Errorf("reading stock feed %q: %w", f.Source, err)
	}
	if err := f.Push(ctx, levels); err != nil {
		return res, fmt.Errorf("pushing stock feed %q: %w", f.Source, err)
	}
	f.hash, f.pushed = sum, true
	f.etag, f.lastMod = got.etag, got.lastMod
	res.Levels = len(levels)
	return res, nil
}

// Run polls the feed now and then every Interval until ctx ends. Errors are logged, never fatal:
// the next poll tries again.
func (f *StockFeed) Run(ctx context.Context) {
	log := f.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	every := f.Interval
	if every <= 0 {
		every = DefaultStockInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := f.Poll(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Error("stock feed poll failed", "source", f.Source, "err", err)
		case res.NotModified:
			log.Debug("stock feed unchanged", "source", f.Source)
		default:
			log.Info("stock feed pushed", "source", f.Source, "levels", res.Levels)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (f *StockFeed) maxSize() int64 {
	if f.MaxSize > 0 {
		return f.MaxSize
	}
	return DefaultStockFeedMaxSize
}

func (f *StockFeed) fetch(ctx context.Context) (stockFetch, error) {
	u, err := url.Parse(f.Source)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return f.fetchHTTP(ctx, u)
	}
	name := f.Source
	if err == nil && u.Scheme == "file" {
		name = u.Path
	}
	return f.fetchFile(name)
}

func (f *StockFeed) fetchFile(name string) (stockFetch, error) {
	file, err := os.Open(name)
	if err != nil {
		code := fixgraph.EUNAVAILABLE
		if errors.Is(err, fs.ErrNotExist) {
			code = fixgraph.ENOTFOUND
		}
		return stockFetch{}, fixgraph.WrapError(code, err, "stock feed file %q cannot be opened", name)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return stockFetch{}, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "stock feed file %q cannot be read", name)
	}
	if st.IsDir() {
		return stockFetch{}, fixgraph.Errorf(fixgraph.EINVALID, "stock feed %q is a directory, not a file", name)
	}
	body, err := f.readLimited(file)
	if err != nil {
		return stockFetch{}, err
	}
	return stockFetch{body: body, contentType: typeByExtension(name), modified: st.ModTime()}, nil
}

func (f *StockFeed) fetchHTTP(ctx context.Context, u *url.URL) (stockFetch, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return stockFetch{}, fixgraph.WrapError(fixgraph.EINVALID, err, "stock feed URL %q", f.Source)
	}
	req.Header.Set("Accept", "text/csv, application/json;q=0.9, */*;q=0.1")
	if f.pushed {
		if f.etag != "" {
			req.Header.Set("If-None-Match", f.etag)
		}
		if f.lastMod != "" {
			req.Header.Set("If-Modified-Since", f.lastMod)
		}
	}
	if f.client == nil {
		f.client = f.Client
		if f.client == nil {
			f.client = &http.Client{Timeout: 30 * time.Second}
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return stockFetch{}, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "fetching stock feed %q", f.Source)
	}
	defer resp.Body.Close()
	got := stockFetch{etag: resp.Header.Get("ETag"), lastMod: resp.Header.Get("Last-Modified")}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		got.notModified = true
		got.etag, got.lastMod = firstNonEmpty(got.etag, f.etag), firstNonEmpty(got.lastMod, f.lastMod)
		return got, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return stockFetch{}, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "fetching stock feed %q: HTTP %s", f.Source, resp.Status)
	}
	if got.body, err = f.readLimited(resp.Body); err != nil {
		return stockFetch{}, err
	}
	if t, err := http.ParseTime(got.lastMod); err == nil {
		got.modified = t
	}
	got.contentType = resp.Header.Get("Content-Type")
	if !namesFeedType(got.contentType) {
		got.contentType = typeByExtension(u.Path)
	}
	return got, nil
}

// readLimited reads r whole, failing with ETOOLARGE past MaxSize.
func (f *StockFeed) readLimited(r io.Reader) ([]byte, error) {
	max := f.maxSize()
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "reading stock feed %q", f.Source)
	}
	if int64(len(body)) > max {
		return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "stock feed %q is over the limit of %d bytes", f.Source, max)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "stock feed %q is empty", f.Source)
	}
	return body, nil
}

// namesFeedType reports whether a content type says CSV or JSON, rather than something generic
// such as text/plain or application/octet-stream.
func namesFeedType(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.Contains(ct, "json") || strings.Contains(ct, "csv") || strings.Contains(ct, "comma-separated")
}

// typeByExtension returns the content type a feed's file name implies, or "" to let the content
// decide.
func typeByExtension(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".json":
		return "application/json"
	case ".csv":
		return "text/csv"
	}
	return ""
}
