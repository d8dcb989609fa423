package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
)

// recorder is a StockFeed push target that keeps every push.
type recorder struct {
	mu     sync.Mutex
	pushes [][]*fixgraph.StockLevel
	err    error // returned by the next push, then cleared
}

func (r *recorder) push(_ context.Context, levels []*fixgraph.StockLevel) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.err; err != nil {
		r.err = nil
		return err
	}
	r.pushes = append(r.pushes, levels)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pushes)
}

func (r *recorder) last(t *testing.T) []*fixgraph.StockLevel {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pushes) == 0 {
		t.Fatal("nothing was pushed")
	}
	return r.pushes[len(r.pushes)-1]
}

// levelsString renders levels as "SKU@WH=QTY@TIME" lines, times in UTC.
func levelsString(levels []*fixgraph.StockLevel) string {
	var out []string
	for _, l := range levels {
		out = append(out, fmt.Sprintf("%s@%s=%d@%s", l.SKU, l.Warehouse, l.Quantity, l.UpdatedAt.UTC().Format(time.RFC3339)))
	}
	return strings.Join(out, "\n")
}

var (
	pollTime = time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)

	feedCSV = "sku,name,warehouse,warehouse_name,quantity,updated_at\n" +
		"DC31-00178A,排水泵,WH-SH01,上海中心仓,12,2026-11-04T12:05:00+08:00\n" +
		"dc31-00178a,排水泵,wh-gz02,广州南方仓,0,2026-11-08 21:45:00\n" +
		"DC62-00311K,进水电磁阀,WH-GZ02,广州南方仓,3,\n"
	feedCSVWant = "DC31-00178A@WH-SH01=12@2026-11-04T04:05:00Z\n" +
		"DC31-00178A@WH-GZ02=0@2026-11-08T13:45:00Z\n" +
		"DC62-00311K@WH-GZ02=3@" // + the fallback time

	feedJSON = `[
  {"sku": "DC31-00178A", "warehouse": "WH-SH01", "warehouseName": "上海中心仓", "name": "排水泵", "quantity": 12, "updatedAt": "2026-11-04T12:05:00+08:00"},
  {"sku": "DC31-00178A", "warehouse": "WH-GZ02", "quantity": "0", "updatedAt": "2026-11-08"},
  {"sku": "DC62-00311K", "warehouse": "WH-GZ02", "quantity": 3}
]`
	feedJSONWant = "DC31-00178A@WH-SH01=12@2026-11-04T04:05:00Z\n" +
		"DC31-00178A@WH-GZ02=0@2026-11-07T16:00:00Z\n" +
		"DC62-00311K@WH-GZ02=3@"
)

func TestParseStockLevels(t *testing.T) {
	tests := []struct {
		name, data, contentType string
		want                    string // levelsString, or the error's message fragment when wantErr
		wantErr                 bool
	}{
		{"csv", feedCSV, "text/csv", feedCSVWant + "2026-11-21T03:00:00Z", false},
		{"csv sniffed", feedCSV, "", feedCSVWant + "2026-11-21T03:00:00Z", false},
		{"json array", feedJSON, "application/json; charset=utf-8", feedJSONWant + "2026-11-21T03:00:00Z", false},
		{"json sniffed", "\n  " + feedJSON, "text/plain", feedJSONWant + "2026-11-21T03:00:00Z", false},
		{"json levels object", `{"levels": ` + feedJSON + `, "generatedAt": "2026-11-21"}`, "", feedJSONWant + "2026-11-21T03:00:00Z", false},
		{"json snake case keys", `[{"part_number": "DC31-00178A", "warehouse_code": "WH-SH01", "qty": 7, "updated_at": "2026-11-04 08:00"}]`, "", "DC31-00178A@WH-SH01=7@2026-11-04T00:00:00Z", false},
		{"chinese csv header", "配件编号,仓库,库存,更新时间\nDC31-00178A,WH-SH01,4,2026-11-04\n", "", "DC31-00178A@WH-SH01=4@2026-11-03T16:00:00Z", false},
		{"csv bad quantity", "sku,warehouse,quantity\nDC31-00178A,WH-SH01,12\nDC31-00178A,WH-GZ02,twelve\n", "", `line 3: quantity "twelve"`, true},
		{"csv negative quantity", "sku,warehouse,quantity\nDC31-00178A,WH-SH01,-2\n", "", `line 2: quantity "-2" is not a whole number ≥ 0`, true},
		{"csv missing sku", "sku,warehouse,quantity\n,WH-SH01,2\n", "", "line 2 has no part number or warehouse", true},
		{"csv bad time", "sku,warehouse,quantity,updated_at\nDC31-00178A,WH-SH01,2,yesterday\n", "", `line 2: updated_at "yesterday"`, true},
		{"csv repeated part", "sku,warehouse,quantity\nDC31-00178A,WH-SH01,2\ndc31-00178a,wh-sh01,3\n", "", "line 3 repeats part DC31-00178A in warehouse WH-SH01", true},
		{"csv no sku column", "part_name,warehouse,quantity\nx,WH-SH01,2\n", "", `header has no "sku" column`, true},
		{"csv header only", "sku,warehouse,quantity\n", "", "has no levels", true},
		{"json syntax", "[\n {\"sku\": \"DC31-00178A\", \"warehouse\": \"WH-SH01\", \"quantity\": 1},\n {\"sku\": \n]", "", "not valid JSON at line 4", true},
		{"json negative quantity", `[{"sku": "A", "warehouse": "W", "quantity": 1}, {"sku": "DC31-00178A", "warehouse": "WH-SH01", "quantity": -1}]`, "", `element 2 (sku "DC31-00178A"): quantity "-1"`, true},
		{"json fractional quantity", `[{"sku": "DC31-00178A", "warehouse": "WH-SH01", "quantity": 1.5}]`, "", `element 1 (sku "DC31-00178A"): quantity "1.5"`, true},
		{"json missing warehouse", `[{"sku": "DC31-00178A", "quantity": 1}]`, "", `element 1 (sku "DC31-00178A") has no part number or warehouse`, true},
		{"json missing quantity", `[{"sku": "DC31-00178A", "warehouse": "WH-SH01"}]`, "", `element 1 (sku "DC31-00178A") has no quantity`, true},
		{"json element not object", `[{"sku": "A", "warehouse": "W", "quantity": 1}, 7]`, "", "element 2 is not a JSON object", true},
		{"json object without levels", `{"items": []}`, "", `without a "levels" array`, true},
		{"json quantity object", `[{"sku": "A", "warehouse": "W", "quantity": {"n": 1}}]`, "", `element 1 (sku "A"): "quantity" is not a string or a number`, true},
		{"json empty", `[]`, "application/json", "has no levels", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			levels, err := ParseStockLevels([]byte(tt.data), tt.contentType, pollTime)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error; levels:\n%s", levelsString(levels))
				}
				if fixgraph.CodeOf(err) != fixgraph.EUNREADABLE || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q (code %s), want EUNREADABLE containing %q", err, fixgraph.CodeOf(err), tt.want)
				}
				if levels != nil {
					t.Errorf("a failed parse returned %d levels", len(levels))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := levelsString(levels); got != tt.want {
				t.Errorf("levels:\n%s\nwant:\n%s", got, tt.want)
			}
			for _, l := range levels {
				if l.ID != fixgraph.StockID(l.SKU, l.Warehouse) {
					t.Errorf("level %s@%s has id %q", l.SKU, l.Warehouse, l.ID)
				}
			}
		})
	}
}

// TestStockTimeZone pins the zone a time without an offset is read in: China Standard Time.
func TestStockTimeZone(t *testing.T) {
	got, ok := parseStockTime("2026-11-04 12:05:00")
	if want := time.Date(2026, 11, 4, 4, 5, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("parseStockTime = %v, %v; want %v", got, ok, want)
	}
}

func TestStockFeedFile(t *testing.T) {
	mtime := time.Date(2026, 11, 20, 22, 30, 0, 0, time.UTC)
	tests := []struct {
		name, file, data, want string
	}{
		{"csv", "stock.csv", feedCSV, feedCSVWant + "2026-11-20T22:30:00Z"},
		{"json", "stock.json", feedJSON, feedJSONWant + "2026-11-20T22:30:00Z"},
		{"json without extension", "stock-feed", feedJSON, feedJSONWant + "2026-11-20T22:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(name, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(name, mtime, mtime); err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			f := &StockFeed{Source: name, Push: rec.push, Now: func() time.Time { return pollTime }}
			res, err := f.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Levels != 3 || res.NotModified || !res.At.Equal(pollTime) {
				t.Errorf("poll = %+v, want 3 levels at %v", res, pollTime)
			}
			if got := levelsString(rec.last(t)); got != tt.want {
				t.Errorf("pushed:\n%s\nwant (times from the feed, else the file's modification time):\n%s", got, tt.want)
			}

			// The same file again: nothing to push.
			res, err = f.Poll(context.Background())
			if err != nil || !res.NotModified || res.Levels != 0 || rec.count() != 1 {
				t.Errorf("unchanged file: poll = %+v, %v; %d pushes, want not modified and 1 push", res, err, rec.count())
			}

			// A changed file is pushed again.
			if err := os.WriteFile(name, []byte(strings.Replace(tt.data, "12", "11", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err = f.Poll(context.Background())
			if err != nil || res.NotModified || res.Levels != 3 || rec.count() != 2 {
				t.Errorf("changed file: poll = %+v, %v; %d pushes, want 3 levels pushed again", res, err, rec.count())
			}
		})
	}
}

func TestStockFeedFileErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(big, []byte(feedCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, source string
		maxSize      int64
		code         string
	}{
		{"missing", filepath.Join(dir, "nope.csv"), 0, fixgraph.ENOTFOUND},
		{"directory", dir, 0, fixgraph.EINVALID},
		{"too large", big, 16, fixgraph.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			f := &StockFeed{Source: tt.source, Push: rec.push, MaxSize: tt.maxSize}
			_, err := f.Poll(context.Background())
			if fixgraph.CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.source) {
				t.Errorf("error %v (code %s), want %s naming %q", err, fixgraph.CodeOf(err), tt.code, tt.source)
			}
			if rec.count() != 0 {
				t.Errorf("%d pushes, want none", rec.count())
			}
		})
	}
}

// feedServer serves a stock feed with an ETag and Last-Modified, answering conditional GETs with
// 304, and counts the requests and the conditional ones.
type feedServer struct {
	mu                sync.Mutex
	body, contentType string
	etag, lastMod     string
	requests          int
	conditional       int
	status            int // when not 0, every answer has this status
}

func (s *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if s.status != 0 {
		http.Error(w, "feed is down", s.status)
		return
	}
	inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if inm != "" || ims != "" {
		s.conditional++
	}
	if s.etag != "" {
		w.Header().Set("ETag", s.etag)
	}
	if s.lastMod != "" {
		w.Header().Set("Last-Modified", s.lastMod)
	}
	if inm != "" && inm == s.etag || inm == "" && ims != "" && ims == s.lastMod {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if s.contentType != "" {
		w.Header().Set("Content-Type", s.contentType)
	}
	fmt.Fprint(w, s.body)
}

func (s *feedServer) set(fn func(*feedServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s)
}

func TestStockFeedHTTP(t *testing.T) {
	lastMod := time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)
	tests := []struct {
		name, path, contentType, body string
		etag, lastMod                 string
		want                          string
	}{
		{"csv with etag", "/stock.csv", "text/csv; charset=utf-8", feedCSV, `"v1"`, "", feedCSVWant + "2026-11-21T03:00:00Z"},
		{"json with last-modified", "/feed", "application/json", feedJSON, "", lastMod.Format(http.TimeFormat), feedJSONWant + "2026-11-20T23:00:00Z"},
		{"json by extension", "/stock.json", "application/octet-stream", feedJSON, `"v1"`, lastMod.Format(http.TimeFormat), feedJSONWant + "2026-11-20T23:00:00Z"},
		{"csv without validators", "/stock", "", feedCSV, "", "", feedCSVWant + "2026-11-21T03:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &feedServer{body: tt.body, contentType: tt.contentType, etag: tt.etag, lastMod: tt.lastMod}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			rec := &recorder{}
			f := &StockFeed{Source: ts.URL + tt.path, Push: rec.push, Client: ts.Client(), Now: func() time.Time { return pollTime }}
			ctx := context.Background()

			res, err := f.Poll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Levels != 3 || res.NotModified {
				t.Errorf("first poll = %+v, want 3 levels", res)
			}
			if got := levelsString(rec.last(t)); got != tt.want {
				t.Errorf("pushed:\n%s\nwant (times from the feed, else Last-Modified, else the poll):\n%s", got, tt.want)
			}

			// Unchanged: a 304 when the server has validators, the same body hash otherwise.
			res, err = f.Poll(ctx)
			if err != nil || !res.NotModified || rec.count() != 1 {
				t.Errorf("second poll = %+v, %v; %d pushes, want not modified and 1 push", res, err, rec.count())
			}
			if want := tt.etag != "" || tt.lastMod != ""; (srv.conditional == 1) != want {
				t.Errorf("%d conditional requests, want conditional GET = %v", srv.conditional, want)
			}

			// Changed: pushed again.
			srv.set(func(s *feedServer) {
				s.body = strings.Replace(s.body, "12", "13", 1)
				if s.etag != "" {
					s.etag = `"v2"`
				}
				if s.lastMod != "" {
					s.lastMod = lastMod.Add(time.Hour).Format(http.TimeFormat)
				}
			})
			res, err = f.Poll(ctx)
			if err != nil || res.NotModified || res.Levels != 3 || rec.count() != 2 {
				t.Fatalf("poll after a change = %+v, %v; %d pushes, want 3 levels pushed", res, err, rec.count())
			}
			if q := rec.last(t)[0].Quantity; q != 13 {
				t.Errorf("pushed quantity %d, want 13", q)
			}
		})
	}
}

// TestStockFeedNotModified checks the 304 path on its own: a conditional GET answered 304 reads
// and pushes nothing, whatever the server would serve otherwise.
func TestStockFeedNotModified(t *testing.T) {
	srv := &feedServer{body: feedCSV, contentType: "text/csv", etag: `"abc"`}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	rec := &recorder{}
	f := &StockFeed{Source: ts.URL + "/stock.csv", Push: rec.push, Client: ts.Client()}
	if _, err := f.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The server now serves other bytes under the same ETag: a 304 means nothing is read or pushed.
	srv.set(func(s *feedServer) { s.body = "not a feed" })
	for i := range 3 {
		res, err := f.Poll(context.Background())
		if err != nil || !res.NotModified || res.Levels != 0 {
			t.Errorf("poll %d = %+v, %v; want not modified", i, res, err)
		}
	}
	if rec.count() != 1 || srv.conditional != 3 {
		t.Errorf("%d pushes and %d conditional requests, want 1 and 3", rec.count(), srv.conditional)
	}
}

func TestStockFeedBrokenPushesNothing(t *testing.T) {
	broken := "sku,warehouse,quantity\nDC31-00178A,WH-SH01,12\nDC31-00178A,WH-GZ02,-1\nDC62-00311K,WH-GZ02,3\n"
	srv := &feedServer{body: broken, contentType: "text/csv", etag: `"broken"`}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	rec := &recorder{}
	f := &StockFeed{Source: ts.URL + "/stock.csv", Push: rec.push, Client: ts.Client()}
	for i := range 2 {
		_, err := f.Poll(context.Background())
		if fixgraph.CodeOf(err) != fixgraph.EUNREADABLE || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), ts.URL) {
			t.Errorf("poll %d: error %v (code %s), want EUNREADABLE naming line 3 and the feed", i, err, fixgraph.CodeOf(err))
		}
	}
	if rec.count() != 0 {
		t.Fatalf("a broken feed pushed %d times", rec.count())
	}
	// A broken feed is fetched in full again (no conditional GET), so its fix is read at once.
	if srv.conditional != 0 {
		t.Errorf("%d conditional requests after failed polls, want none", srv.conditional)
	}
	srv.set(func(s *feedServer) { s.body, s.etag = feedCSV, `"fixed"` })
	if res, err := f.Poll(context.Background()); err != nil || res.Levels != 3 {
		t.Errorf("fixed feed: poll = %+v, %v", res, err)
	}
}

func TestStockFeedHTTPErrors(t *testing.T) {
	srv := &feedServer{status: http.StatusBadGateway}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	rec := &recorder{}
	f := &StockFeed{Source: ts.URL + "/stock.csv", Push: rec.push, Client: ts.Client()}
	_, err := f.Poll(context.Background())
	if fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE || !strings.Contains(err.Error(), "502") {
		t.Errorf("error %v (code %s), want EUNAVAILABLE naming HTTP 502", err, fixgraph.CodeOf(err))
	}

	// A push that fails is retried on the next poll, even though the feed did not change.
	srv.set(func(s *feedServer) { s.status, s.body, s.etag = 0, feedCSV, `"v1"` })
	rec.err = errors.New("graph is closed")
	_, err = f.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "pushing stock feed") || !strings.Contains(err.Error(), "graph is closed") {
		t.Errorf("failed push: error %v", err)
	}
	res, err := f.Poll(context.Background())
	if err != nil || res.Levels != 3 || rec.count() != 1 {
		t.Errorf("poll after a failed push = %+v, %v; %d pushes, want the feed pushed", res, err, rec.count())
	}
}

// TestStockFeedRun checks that Run polls at once and returns when its context ends; the ticker's
// later polls are not waited for.
func TestStockFeedRun(t *testing.T) {
	name := filepath.Join(t.TempDir(), "stock.csv")
	if err := os.WriteFile(name, []byte(feedCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pushed []*fixgraph.StockLevel
	f := &StockFeed{Source: name, Interval: time.Hour, Push: func(_ context.Context, levels []*fixgraph.StockLevel) error {
		pushed = levels
		cancel()
		return nil
	}}
	f.Run(ctx) // returns once the first push cancels ctx
	if len(pushed) != 3 {
		t.Errorf("Run pushed %d levels, want 3", len(pushed))
	}

	// A failing feed is logged, not fatal: Run goes on to wait for the next tick, and returns
	// when ctx ends.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	log := &cancelWriter{cancel: cancel2}
	bad := &StockFeed{Source: filepath.Join(t.TempDir(), "missing.csv"), Interval: time.Hour,
		Push: func(context.Context, []*fixgraph.StockLevel) error { return nil }, Log: slog.New(slog.NewTextHandler(log, nil))}
	bad.Run(ctx2)
	if got := log.String(); !strings.Contains(got, "stock feed poll failed") || !strings.Contains(got, "missing.csv") {
		t.Errorf("Run logged %q, want the failed poll", got)
	}
}

// cancelWriter keeps what is written to it and cancels a context on the first write.
type cancelWriter struct {
	bytes.Buffer
	cancel context.CancelFunc
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	defer w.cancel()
	return w.Buffer.Write(p)
}
