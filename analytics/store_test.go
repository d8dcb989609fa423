package analytics

import (
	"bytes"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday

// clock is an injected clock that tests set and advance by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// MustOpen opens a store in a temp dir with a clock at t0 and closes it when the test ends.
func MustOpen(tb testing.TB) (*Store, *clock) {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "data", "analytics.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	c := &clock{t: t0}
	s.Now = c.Now
	tb.Cleanup(func() { s.Close() })
	return s, c
}

// MustRecord records events and returns them as stored.
func MustRecord(tb testing.TB, s *Store, events ...Event) []Event {
	tb.Helper()
	out, err := s.RecordAll(events)
	if err != nil {
		tb.Fatalf("RecordAll: %v", err)
	}
	return out
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "analytics.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(path); fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE {
		t.Fatalf("second Open: got %v, want %s", err, fixgraph.EUNAVAILABLE)
	}
}

func TestRecordGetFeedback(t *testing.T) {
	s, c := MustOpen(t)
	e, err := s.Record(Event{
		Question:   "  我的洗衣机显示E102怎么办？ ",
		Code:       "ｅ１０２",
		Product:    " WF-8012D ",
		Kind:       "troubleshoot",
		Confidence: 0.91,
		Answered:   true,
		Principal:  "k1",
		ID:         "ignored",
	})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	if len(e.ID) != 32 || e.ID == "ignored" {
		t.Errorf("ID = %q, want 32 hex digits assigned by Record", e.ID)
	}
	if !e.Time.Equal(t0) {
		t.Errorf("Time = %v, want the clock's %v", e.Time, t0)
	}
	if e.Question != "我的洗衣机显示E102怎么办？" || e.Code != "E102" || e.Product != "WF-8012D" || e.Language != "zh" {
		t.Errorf("cleaned event = %+v", e)
	}

	got, err := s.Get(e.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.ID != e.ID || got.Question != e.Question || !got.Time.Equal(e.Time) || got.Helpful != nil || got.Confidence != 0.91 {
		t.Errorf("Get = %+v, want %+v", got, e)
	}

	for _, tc := range []struct {
		name    string
		helpful bool
		comment string
	}{
		{"unhelpful", false, "没解决"},
		{"changes mind", true, ""},
		{"and back", false, "still broken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fb, err := s.Feedback(e.ID, tc.helpful, tc.comment)
			if err != nil {
				t.Fatalf("Feedback: %v", err)
			}
			got, err := s.Get(e.ID)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			for _, ev := range []Event{fb, got} {
				if ev.Helpful == nil || *ev.Helpful != tc.helpful || ev.Comment != tc.comment || ev.Question != e.Question {
					t.Errorf("after Feedback(%v, %q): %+v", tc.helpful, tc.comment, ev)
				}
			}
		})
	}

	// Later events get later ids, also within one nanosecond.
	c.Set(t0.Add(time.Second))
	same := MustRecord(t, s, Event{Question: "a"}, Event{Question: "b"}, Event{Question: "c", Time: t0.Add(-time.Hour)})
	if !(e.ID < same[0].ID && same[0].ID < same[1].ID && same[2].ID < e.ID) {
		t.Errorf("ids not in time order: %s %s %s %s", e.ID, same[0].ID, same[1].ID, same[2].ID)
	}
	if same[0].Language != "en" || same[0].Kind != "none" {
		t.Errorf("defaults: %+v", same[0])
	}

	for _, id := range []string{"", "nope", strings.Repeat("0", 32), same[0].ID[:30]} {
		if _, err := s.Get(id); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
			t.Errorf("Get(%q) = %v, want %s", id, err, fixgraph.ENOTFOUND)
		}
		if _, err := s.Feedback(id, true, ""); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
			t.Errorf("Feedback(%q) = %v, want %s", id, err, fixgraph.ENOTFOUND)
		}
	}
}

func TestRecordInvalid(t *testing.T) {
	s, _ := MustOpen(t)
	for _, tc := range []struct {
		name string
		e    Event
	}{
		{"no question", Event{Question: "  "}},
		{"before 1970", Event{Question: "q", Time: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"long code", Event{Question: "q", Code: strings.Repeat("E", MaxKey+1)}},
		{"NaN confidence", Event{Question: "q", Confidence: nan()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Record(tc.e); fixgraph.CodeOf(err) != fixgraph.EINVALID {
				t.Errorf("Record = %v, want %s", err, fixgraph.EINVALID)
			}
		})
	}
	// A batch with one bad event stores none.
	if _, err := s.RecordAll([]Event{{Question: "ok"}, {Question: ""}}); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("RecordAll = %v, want %s", err, fixgraph.EINVALID)
	}
	if sum, _ := s.Summarize(time.Time{}, time.Time{}); sum.Asks != 0 {
		t.Errorf("a failed batch stored %d events", sum.Asks)
	}
	// Long questions are cut, not refused.
	e, err := s.Record(Event{Question: strings.Repeat("长", MaxText+10), Code: "E1\x00\x01"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(e.Question)); n != MaxText || e.Code != "E1" {
		t.Errorf("question of %d characters, code %q", n, e.Code)
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestTop(t *testing.T) {
	s, _ := MustOpen(t)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	MustRecord(t, s,
		// One question in four spellings: case, spacing, full-width punctuation.
		Event{Time: at(1), Question: "洗衣机怎么除垢？", Code: "E102", Product: "WF-8012D"},
		Event{Time: at(2), Question: "洗衣机 怎么除垢?", Code: "E102", Product: "WF-8012D"},
		Event{Time: at(3), Question: "洗衣机怎么除垢？", Code: "e102", Product: "WF-7000"},
		Event{Time: at(4), Question: "How do I  descale？", Code: "F21", Product: "WF-8012D"},
		Event{Time: at(5), Question: "how do i descale", Code: "F21"},
		Event{Time: at(6), Question: "HOW DO I DESCALE?", Code: "E102"},
		Event{Time: at(7), Question: "门打不开", Product: "WF-7000"},
		// Outside the window [at(1), at(10)).
		Event{Time: at(0), Question: "门打不开", Code: "F21", Product: "WF-7000"},
		Event{Time: at(10), Question: "门打不开", Code: "F21", Product: "WF-7000"},
		Event{Time: at(11), Question: "门打不开", Code: "F21", Product: "WF-7000"},
	)
	for _, tc := range []struct {
		by    string
		limit int
		want  []Count
	}{
		{"question", 0, []Count{
			{Key: "how do i descale", Count: 3},
			{Key: "洗衣机怎么除垢", Count: 3, Example: "洗衣机怎么除垢？"},
			{Key: "门打不开", Count: 1, Example: "门打不开"},
		}},
		{"question", 1, []Count{{Key: "how do i descale", Count: 3}}},
		{"code", 0, []Count{
			{Key: "E102", Count: 4, Example: "洗衣机怎么除垢？"},
			{Key: "F21", Count: 2},
		}},
		{"product", 5, []Count{
			{Key: "WF-8012D", Count: 3, Example: "洗衣机怎么除垢？"},
			{Key: "WF-7000", Count: 2},
		}},
		{"product", 1, []Count{{Key: "WF-8012D", Count: 3, Example: "洗衣机怎么除垢？"}}},
	} {
		t.Run(tc.by+"/"+string(rune('0'+tc.limit)), func(t *testing.T) {
			got, err := s.Top(tc.by, at(1), at(10), tc.limit)
			if err != nil {
				t.Fatalf("Top: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Top = %+v, want %+v", got, tc.want)
			}
			for i := range got {
				w := tc.want[i]
				if got[i].Key != w.Key || got[i].Count != w.Count || (w.Example != "" && Normalize(got[i].Example) != Normalize(w.Example)) || got[i].Example == "" {
					t.Errorf("row %d = %+v, want %+v", i, got[i], w)
				}
			}
		})
	}
	// Unbounded periods count everything.
	all, err := s.Top("code", time.Time{}, time.Time{}, 0)
	if err != nil || len(all) != 2 || all[0].Key != "F21" || all[0].Count != 5 {
		t.Errorf("Top over all time = %+v, %v", all, err)
	}
	if _, err := s.Top("kind", at(0), at(1), 0); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("Top by kind = %v, want %s", err, fixgraph.EINVALID)
	}
}

func TestSeries(t *testing.T) {
	s, _ := MustOpen(t)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	utc := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }
	// 2026-03-01 is a Sunday, 03-02 a Monday.
	MustRecord(t, s,
		Event{Time: utc(1, 12, 0), Question: "q", Code: "E102"},  // Sun 20:00 in Shanghai
		Event{Time: utc(1, 23, 30), Question: "q", Code: "E102"}, // Mon 07:30 in Shanghai: next day, next week
		Event{Time: utc(2, 3, 0), Question: "q", Code: "F21"},    // Mon 11:00
		Event{Time: utc(3, 15, 59), Question: "q", Code: "E102"}, // Tue 23:59
		Event{Time: utc(3, 16, 0), Question: "q", Code: "E102"},  // Wed 00:00
		Event{Time: utc(9, 1, 0), Question: "q", Code: "E102"},   // next Mon 09:00
	)
	cst := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, shanghai) }
	type pt struct {
		start time.Time
		count int
	}
	for _, tc := range []struct {
		name, by, key, bucket string
		from, to              time.Time
		loc                   *time.Location
		want                  []pt
	}{
		{"days in Shanghai", "code", "E102", "day", cst(1), cst(5), shanghai,
			[]pt{{cst(1), 1}, {cst(2), 1}, {cst(3), 1}, {cst(4), 1}}},
		{"days in UTC", "code", "E102", "day", utc(1, 0, 0), utc(5, 0, 0), time.UTC,
			[]pt{{utc(1, 0, 0), 2}, {utc(2, 0, 0), 0}, {utc(3, 0, 0), 2}, {utc(4, 0, 0), 0}}},
		{"all codes, partial days", "", "", "day", cst(1).Add(21 * time.Hour), cst(2).Add(12 * time.Hour), shanghai,
			[]pt{{cst(1), 0}, {cst(2), 2}}},
		{"weeks in Shanghai", "code", "e102", "week", cst(1), cst(16), shanghai,
			[]pt{{cst(1).AddDate(0, 0, -6), 1}, {cst(2), 3}, {cst(9), 1}}},
		{"weeks in UTC", "code", "E102", "week", utc(1, 0, 0), utc(16, 0, 0), time.UTC,
			[]pt{{time.Date(2026, 2, 23, 0, 0, 0, 0, time.UTC), 2}, {utc(2, 0, 0), 2}, {utc(9, 0, 0), 1}}},
		{"weeks, all", "", "", "week", cst(2), cst(9), shanghai, []pt{{cst(2), 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Series(tc.by, tc.key, tc.bucket, tc.from, tc.to, tc.loc)
			if err != nil {
				t.Fatalf("Series: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Series = %v, want %v", got, tc.want)
			}
			for i, p := range got {
				if !p.Start.Equal(tc.want[i].start) || p.Count != tc.want[i].count {
					t.Errorf("point %d = %v %d, want %v %d", i, p.Start, p.Count, tc.want[i].start, tc.want[i].count)
				}
				if p.Start.Location() != tc.loc {
					t.Errorf("point %d in %v, want %v", i, p.Start.Location(), tc.loc)
				}
			}
		})
	}
	for _, tc := range []struct{ name, by, key, bucket string }{
		{"bad bucket", "", "", "hour"},
		{"bad dimension", "question", "q", "day"},
		{"no key", "code", " ", "day"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Series(tc.by, tc.key, tc.bucket, cst(1), cst(2), shanghai); fixgraph.CodeOf(err) != fixgraph.EINVALID {
				t.Errorf("Series = %v, want %s", err, fixgraph.EINVALID)
			}
		})
	}
}

func TestUnanswered(t *testing.T) {
	s, _ := MustOpen(t)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	no := Event{Kind: "none", Answered: false}
	ev := func(m int, q string, base Event) Event {
		base.Time, base.Question = at(m), q
		return base
	}
	handoff := Event{Kind: "troubleshoot", Answered: true, Handoff: true, Confidence: 0.4}
	answered := Event{Kind: "faq", Answered: true, Confidence: 0.9}
	stored := MustRecord(t, s,
		ev(1, "洗衣机怎么除垢", no),
		ev(2, "洗衣机如何除垢?", no),
		ev(3, "怎么给洗衣机除垢？", handoff),
		ev(4, "how do I descale my washer", no),
		ev(5, "How to descale the washer?", handoff),
		ev(6, "how do I descale", no),
		ev(7, "洗衣机怎么除垢", no), // a repeat of the first phrasing
		ev(8, "门打不开怎么办", no),
		ev(9, "洗衣机如何除垢", answered),                   // answered: not listed
		ev(10, "my washer will not drain", answered), // answered, then marked unhelpful below
		ev(11, "why is my dryer so loud", no),
		ev(500, "洗衣机怎么除垢", no), // outside the period
	)
	if _, err := s.Feedback(stored[9].ID, false, "did not help"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Feedback(stored[8].ID, true, ""); err != nil {
		t.Fatal(err)
	}

	groups, err := s.Unanswered(at(0), at(100), 0)
	if err != nil {
		t.Fatalf("Unanswered: %v", err)
	}
	for _, g := range groups {
		t.Logf("%d %q %q handoffs=%d unhelpful=%d", g.Count, g.Question, g.Questions, g.Handoffs, g.Unhelpful)
	}

	// The descale questions: at most two groups (one per language), seven asks in all.
	isDescale := func(q string) bool { return strings.Contains(q, "除垢") || strings.Contains(q, "descale") }
	var descale []Group
	listed := map[string]bool{}
	for _, g := range groups {
		if isDescale(g.Question) {
			descale = append(descale, g)
		}
		for _, q := range g.Questions {
			if isDescale(q) != isDescale(g.Question) {
				t.Errorf("group %q holds %q", g.Question, q)
			}
		}
		for _, id := range g.Events {
			listed[id] = true
		}
	}
	if len(descale) == 0 || len(descale) > 2 {
		t.Fatalf("descale questions in %d groups, want 1 or 2", len(descale))
	}
	sizes := 0
	for _, g := range descale {
		sizes += g.Count
	}
	if sizes != 7 {
		t.Errorf("descale groups hold %d asks, want 7", sizes)
	}
	if len(descale) == 2 {
		zh, en := descale[0], descale[1]
		if !strings.Contains(zh.Question, "除垢") {
			zh, en = en, zh
		}
		if zh.Count != 4 || en.Count != 3 {
			t.Errorf("zh group %d asks, en group %d, want 4 and 3", zh.Count, en.Count)
		}
		if zh.Question != "洗衣机怎么除垢" || len(zh.Questions) != 3 || zh.Handoffs != 1 || !zh.Last.Equal(at(7)) {
			t.Errorf("zh group = %+v", zh)
		}
		if len(en.Questions) != 3 || en.Handoffs != 1 {
			t.Errorf("en group = %+v", en)
		}
		if groups[0].Question != zh.Question {
			t.Errorf("largest group first: got %q", groups[0].Question)
		}
		if !slices.IsSorted(zh.Events) || len(zh.Events) != 4 {
			t.Errorf("zh events %v", zh.Events)
		}
	}

	if listed[stored[8].ID] {
		t.Error("an answered question is listed")
	}
	if listed[stored[11].ID] {
		t.Error("a question outside the period is listed")
	}
	var unhelpful *Group
	for i, g := range groups {
		if g.Question == "my washer will not drain" {
			unhelpful = &groups[i]
		}
	}
	if unhelpful == nil || unhelpful.Unhelpful != 1 || unhelpful.Count != 1 {
		t.Errorf("the unhelpful answer's group = %+v", unhelpful)
	}
	if len(groups) != 5 {
		t.Errorf("%d groups, want 5 (zh descale, en descale, door, drain, dryer)", len(groups))
	}

	top2, err := s.Unanswered(at(0), at(100), 2)
	if err != nil || len(top2) != 2 || top2[0].Question != groups[0].Question {
		t.Errorf("Unanswered with limit 2 = %+v, %v", top2, err)
	}
}

func TestPrune(t *testing.T) {
	s, _ := MustOpen(t)
	var events []Event
	for i := range 20 {
		events = append(events, Event{Time: t0.Add(time.Duration(i) * time.Hour), Question: "q", Code: "E102", Product: "WF-8012D"})
	}
	stored := MustRecord(t, s, events...)
	n, err := s.Prune(t0.Add(5 * time.Hour))
	if err != nil || n != 5 {
		t.Fatalf("Prune = %d, %v; want 5", n, err)
	}
	for i, e := range stored {
		_, err := s.Get(e.ID)
		if gone := fixgraph.CodeOf(err) == fixgraph.ENOTFOUND; gone != (i < 5) {
			t.Errorf("event %d (%s): Get = %v", i, e.Time, err)
		}
	}
	for _, by := range []string{"code", "product"} {
		top, err := s.Top(by, time.Time{}, time.Time{}, 0)
		if err != nil || len(top) != 1 || top[0].Count != 15 {
			t.Errorf("Top by %s after Prune = %+v, %v", by, top, err)
		}
	}
	if n, err := s.Prune(t0.Add(5 * time.Hour)); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v", n, err)
	}

	var buf bytes.Buffer
	if n, err := s.Backup(&buf); err != nil || n != int64(buf.Len()) || n == 0 {
		t.Errorf("Backup = %d, %v (%d bytes written)", n, err, buf.Len())
	}
}

func TestSummarize(t *testing.T) {
	s, _ := MustOpen(t)
	yes := true
	MustRecord(t, s,
		Event{Question: "a", Kind: "faq", Answered: true, Confidence: 0.8, Helpful: &yes},
		Event{Question: "b", Kind: "troubleshoot", Answered: true, Handoff: true, Confidence: 0.4},
		Event{Question: "丙", Confidence: 0},
	)
	sum, err := s.Summarize(t0, t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Asks != 3 || sum.Answered != 2 || sum.Handoffs != 1 || sum.Helpful != 1 || sum.Unhelpful != 0 ||
		sum.Kinds["none"] != 1 || sum.Languages["zh"] != 1 || sum.Languages["en"] != 2 || math.Abs(sum.MeanConfidence-0.4) > 1e-9 {
		t.Errorf("Summarize = %+v", sum)
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"洗衣机怎么除垢？", "洗衣机怎么除垢"},
		{" 洗衣机 怎么 除垢 ? ", "洗衣机怎么除垢"},
		{"How do I  descale？", "how do i descale"},
		{"ＨＯＷ　ＤＯ　Ｉ　ＤＥＳＣＡＬＥ！", "how do i descale"},
		{"WF-8012D 显示 E102", "wf 8012d显示e102"},
		{"...", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := Normalize(tc.in); got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestDefaultTokens(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"洗衣机怎么除垢", []string{"洗衣", "衣机", "除垢"}},
		{"我的洗衣机如何除垢啊？", []string{"洗衣", "衣机", "除垢"}},
		{"How do I descale my washer?", []string{"descale", "washer"}},
		{"WF-8012D 显示 ｅ１０２", []string{"wf", "8012d", "显示", "e102"}},
		{"门", []string{"门"}},
		{"how do I?", nil},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := DefaultTokens(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("DefaultTokens(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestJaccard(t *testing.T) {
	set := func(ts ...string) map[string]bool { return tokenSet(ts) }
	for _, tc := range []struct {
		name string
		a, b map[string]bool
		want float64
	}{
		{"same", set("a", "b"), set("b", "a"), 1},
		{"half", set("a"), set("a", "b"), 0.5},
		{"disjoint", set("a"), set("b"), 0},
		{"empty", set(), set(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := jaccard(tc.a, tc.b); got != tc.want {
				t.Errorf("jaccard = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestUnansweredListsTheLatestIDs: a group asked more often than MaxGroupEvents counts every ask
// but lists only the latest ids.
func TestUnansweredListsTheLatestIDs(t *testing.T) {
	s, _ := MustOpen(t)
	var events []Event
	for range MaxGroupEvents + 50 {
		events = append(events, Event{Question: "冰箱不制冷怎么办", Kind: "none"})
	}
	recorded := MustRecord(t, s, events...)
	groups, err := s.Unanswered(time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Count != MaxGroupEvents+50 || len(groups[0].Events) != MaxGroupEvents ||
		groups[0].Events[MaxGroupEvents-1] != recorded[len(recorded)-1].ID {
		t.Fatalf("groups = %d, count %d, %d ids; want one group of %d listing the latest %d", len(groups), groups[0].Count, len(groups[0].Events), MaxGroupEvents+50, MaxGroupEvents)
	}
}
