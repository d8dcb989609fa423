package analytics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// stream is a steady source of asks about one code and product.
type stream struct {
	code, product string
	rate          float64 // mean asks per hour
	lunch         float64 // when set, the rate from 12:00 to 13:00 in China, every day
}

// normalTraffic are the streams of an ordinary week: E102 ~20/hour, WF-8012D ~21/hour, F21 ~3/hour,
// E205 and DW-300 ~1/hour, and E777, asked about at lunch (~15 from 12:00 to 13:00) and hardly
// otherwise: its lunch hour is some 15 times its weekly average, every day.
var normalTraffic = []stream{
	{code: "E102", product: "WF-8012D", rate: 12},
	{code: "E102", product: "WF-7000", rate: 8},
	{code: "F21", product: "WF-8012D", rate: 3},
	{code: "E205", product: "DW-300", rate: 1},
	{code: "E301", product: "WF-7000", rate: 5},
	{code: "", product: "WF-8012D", rate: 6},
	{code: "", product: "", rate: 10},
	{code: "E777", rate: 0.3, lunch: 15},
}

var cst = time.FixedZone("CST", 8*3600)

// tStart is where generated traffic begins.
var tStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// rhythm is the daily rhythm of asks: 0.4 of the mean at night in China (0:00–8:00), 1.3 in the
// day, averaging 1.
func rhythm(t time.Time) float64 {
	if t.In(cst).Hour() < 8 {
		return 0.4
	}
	return 1.3
}

// poisson draws from a Poisson distribution with mean lambda (Knuth's method; lambda < 500).
func poisson(r *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// asks returns n asks about code and product at random instants of [from, from+d).
func asks(r *rand.Rand, n int, code, product string, from time.Time, d time.Duration) []Event {
	out := make([]Event, n)
	for i := range out {
		q := "洗衣机显示" + code + "怎么办"
		if code == "" {
			q = "how do I use the delay start"
		}
		out[i] = Event{
			Time:     from.Add(time.Duration(r.Int64N(int64(d)))),
			Question: q, Code: code, Product: product,
			Kind: "troubleshoot", Answered: r.IntN(10) > 0, Confidence: 0.8,
		}
	}
	return out
}

// MustTraffic opens a store holding hours of normal traffic from tStart, drawn with a fixed seed.
func MustTraffic(tb testing.TB, hours int) (*Store, *rand.Rand) {
	tb.Helper()
	return mustTrafficSeed(tb, hours, 20260302)
}

func mustTrafficSeed(tb testing.TB, hours int, seed uint64) (*Store, *rand.Rand) {
	tb.Helper()
	s, _ := MustOpen(tb)
	r := rand.New(rand.NewPCG(seed, 7))
	var events []Event
	for h := range hours {
		at := tStart.Add(time.Duration(h) * time.Hour)
		for _, st := range normalTraffic {
			rate := st.rate * rhythm(at)
			if st.lunch > 0 && at.In(cst).Hour() == 12 {
				rate = st.lunch
			}
			events = append(events, asks(r, poisson(r, rate), st.code, st.product, at, time.Hour)...)
		}
	}
	MustRecord(tb, s, events...)
	return s, r
}

func MustSurges(tb testing.TB, s *Store, now time.Time, opt SurgeOptions) []Surge {
	tb.Helper()
	got, err := s.Surges(now, opt)
	if err != nil {
		tb.Fatalf("Surges at %s: %v", now, err)
	}
	return got
}

func TestSurgesNormalTraffic(t *testing.T) {
	const days = 10
	s, _ := MustTraffic(t, days*24)
	// Every window from day 8 on has a full week of baseline; look at 47 of them, at odd minutes,
	// through day and night.
	checked := 0
	for k := range 47 {
		now := tStart.Add(8*24*time.Hour + time.Duration(k)*61*time.Minute)
		for _, su := range MustSurges(t, s, now, SurgeOptions{}) {
			t.Errorf("at %s: %s %s surges: %d asks, expected %.1f, spread %.1f", now.Format(time.RFC3339), su.By, su.Key, su.Count, su.Expected, su.Spread)
		}
		checked++
	}
	// The traffic is what it claims to be.
	top, err := s.Top("code", tStart.Add(24*time.Hour), tStart.Add(8*24*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	perHour := map[string]float64{}
	for _, c := range top {
		perHour[c.Key] = float64(c.Count) / (7 * 24)
	}
	for code, want := range map[string]float64{"E102": 20, "F21": 3, "E205": 1, "E301": 5} {
		if got := perHour[code]; math.Abs(got-want) > want*0.15 {
			t.Errorf("%s: %.2f asks an hour, want about %v", code, got, want)
		}
	}
	t.Logf("%d windows checked, rates %v", checked, perHour)
}

func TestSurgesBurst(t *testing.T) {
	const hours = 9 * 24
	now := tStart.Add(hours * time.Hour)
	type want struct {
		by, key     string
		expected    float64 // about
		sinceWithin time.Duration
	}
	for _, tc := range []struct {
		name   string
		bursts []Event
		opt    SurgeOptions
		want   []want
	}{
		{"E205 and E102 in the last hour", nil, SurgeOptions{}, []want{
			{"code", "E205", 1, time.Hour},
			{"code", "E102", 20, time.Hour},
		}},
		{"E205 for three hours", nil, SurgeOptions{}, []want{{"code", "E205", 1.5, 3 * time.Hour}}}, // two of its hours are in the baseline
		{"a product", nil, SurgeOptions{}, []want{{"product", "WF-7000", 13, time.Hour}}},
		{"a new code with 12 asks alerts, one with 3 does not", nil, SurgeOptions{}, []want{{"code", "E999", 0, time.Hour}}},
		{"MinCount 20 silences 12 new asks", nil, SurgeOptions{MinCount: 20}, nil},
		{"a 10-minute window", nil, SurgeOptions{Window: 10 * time.Minute}, []want{{"code", "E205", 1.0 / 6, 10 * time.Minute}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, r := MustTraffic(t, hours)
			lastHour := now.Add(-time.Hour)
			var extra []Event
			switch tc.name {
			case "E205 and E102 in the last hour":
				extra = append(asks(r, 40, "E205", "", lastHour, time.Hour), asks(r, 70, "E102", "", lastHour, time.Hour)...)
			case "E205 for three hours":
				extra = asks(r, 120, "E205", "", now.Add(-3*time.Hour), 3*time.Hour)
			case "a product":
				extra = asks(r, 60, "", "WF-7000", lastHour, time.Hour)
			case "a new code with 12 asks alerts, one with 3 does not", "MinCount 20 silences 12 new asks":
				extra = append(asks(r, 12, "E999", "", lastHour, time.Hour), asks(r, 3, "E998", "", lastHour, time.Hour)...)
			case "a 10-minute window":
				extra = asks(r, 15, "E205", "", now.Add(-10*time.Minute), 10*time.Minute)
			}
			MustRecord(t, s, extra...)

			got := MustSurges(t, s, now, tc.opt)
			for _, su := range got {
				t.Logf("%s %s: %d asks, expected %.2f, spread %.2f, ratio %.1f, since %s", su.By, su.Key, su.Count, su.Expected, su.Spread, su.Ratio, su.Since.Format(time.RFC3339))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d surges, want %d: %+v", len(got), len(tc.want), got)
			}
			for _, w := range tc.want {
				var su *Surge
				for i := range got {
					if got[i].By == w.by && got[i].Key == w.key {
						su = &got[i]
					}
				}
				if su == nil {
					t.Errorf("no surge of %s %s in %+v", w.by, w.key, got)
					continue
				}
				if math.Abs(su.Expected-w.expected) > 0.25*max(w.expected, 1) {
					t.Errorf("%s: expected %.2f, want about %v", w.key, su.Expected, w.expected)
				}
				if r := float64(su.Count) / max(su.Expected, 1); math.Abs(su.Ratio-r) > 1e-9 || su.Ratio < 3 {
					t.Errorf("%s: ratio %v, want %v and at least 3", w.key, su.Ratio, r)
				}
				if su.Since.Before(now.Add(-w.sinceWithin)) || !su.Since.Before(now.Add(-w.sinceWithin).Add(opt(tc.opt).Window)) {
					t.Errorf("%s: since %s, want within the window starting %s", w.key, su.Since, now.Add(-w.sinceWithin))
				}
			}
			for i := 1; i < len(got); i++ {
				if got[i].Ratio > got[i-1].Ratio {
					t.Errorf("surges not by ratio: %+v", got)
				}
			}
		})
	}
}

// opt returns o with its window's default filled in.
func opt(o SurgeOptions) SurgeOptions {
	if o.Window == 0 {
		o.Window = time.Hour
	}
	return o
}

func TestSurgesYoungStore(t *testing.T) {
	// A day of E102 at 20 an hour is a day of history, not a surge against a week with nothing.
	s, _ := MustTraffic(t, 26)
	now := tStart.Add(26 * time.Hour)
	if got := MustSurges(t, s, now, SurgeOptions{}); len(got) != 0 {
		t.Errorf("surges in a one-day-old store: %+v", got)
	}
	// Nothing before the window at all: nothing to compare with.
	s2, _ := MustOpen(t)
	MustRecord(t, s2, asks(rand.New(rand.NewPCG(1, 2)), 50, "E102", "", now.Add(-30*time.Minute), 30*time.Minute)...)
	if got := MustSurges(t, s2, now, SurgeOptions{}); len(got) != 0 {
		t.Errorf("surges with no history: %+v", got)
	}
	if got := MustSurges(t, s2, time.Time{}, SurgeOptions{}); len(got) != 0 {
		t.Errorf("surges in an empty period: %+v", got)
	}
}

func TestSurgesInvalid(t *testing.T) {
	s, _ := MustOpen(t)
	for _, o := range []SurgeOptions{
		{Window: -time.Hour},
		{Window: 2 * time.Hour, Baseline: time.Hour},
		{Window: time.Second, Baseline: 365 * 24 * time.Hour},
		{MinCount: -1},
		{Factor: -1},
	} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			if _, err := s.Surges(t0, o); err == nil {
				t.Errorf("Surges(%+v) = nil error", o)
			}
		})
	}
}

func flat(n, v int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

var defaults = SurgeOptions{MinCount: 10, Factor: 3, Sigma: 4}

func TestJudge(t *testing.T) {
	noisy := make([]int, 168) // mean 20, standard deviation 10
	for i := range noisy {
		noisy[i] = 10 + 20*(i%2)
	}
	lowFactor := SurgeOptions{MinCount: 10, Factor: 1.5, Sigma: 4}
	for _, tc := range []struct {
		name     string
		baseline []int
		count    int
		opt      SurgeOptions
		alert    bool
	}{
		{"busy, 3x", flat(168, 20), 60, defaults, true},
		{"busy, under 3x", flat(168, 20), 59, defaults, false},
		{"new key at MinCount", flat(168, 0), 10, defaults, true},
		{"new key under MinCount", flat(168, 0), 9, defaults, false},
		{"no baseline windows", nil, 12, defaults, true},
		{"quiet key, MinCount decides", flat(168, 1), 9, defaults, false},
		// At small means the Poisson tail is heavy: 12 against 4 is not rare enough, 15 is.
		{"4 expected, 12 asks", flat(168, 4), 12, defaults, false},
		{"4 expected, 15 asks", flat(168, 4), 15, defaults, true},
		// With Factor lowered the Poisson test decides: P(X >= 41 | 20) <= P(Z > 4) < P(X >= 40 | 20).
		{"Factor 1.5, Poisson noise", flat(168, 20), 40, lowFactor, false},
		{"Factor 1.5, beyond Poisson noise", flat(168, 20), 41, lowFactor, true},
		// A noisy key needs more: 20 + 4·10 = 60.
		{"Factor 1.5, noisy key", noisy, 60, lowFactor, false},
		{"Factor 1.5, beyond a noisy key's noise", noisy, 61, lowFactor, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			su := judge(tc.baseline, tc.count, 0, tc.opt)
			if (su != nil) != tc.alert {
				t.Errorf("judge(%d asks) = %+v, want alert %v", tc.count, su, tc.alert)
			}
			if su != nil && su.Ratio != float64(tc.count)/max(su.Expected, 1) {
				t.Errorf("ratio %v, want count / max(expected, 1)", su.Ratio)
			}
		})
	}
}

func TestJudgeDailyPeak(t *testing.T) {
	// 2 asks an hour, and 12 in the hour at the current window's time of day on each of 7 days.
	daily := flat(168, 2)
	for i := 168 - 24; i >= 0; i -= 24 {
		daily[i] = 12
	}
	for _, tc := range []struct {
		name          string
		count, period int
		alert         bool
	}{
		{"routine peak", 13, 24, false},
		{"the same peak against the week's average", 13, 0, true},
		{"far above the routine peak", 40, 24, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			su := judge(daily, tc.count, tc.period, defaults)
			if (su != nil) != tc.alert {
				t.Errorf("judge(%d asks, period %d) = %+v, want alert %v", tc.count, tc.period, su, tc.alert)
			}
			if su != nil && tc.period > 0 && (su.Usual != 12 || su.Ratio != float64(tc.count)/12) {
				t.Errorf("usual %v ratio %v, want 12 and count/12", su.Usual, su.Ratio)
			}
		})
	}
}

func TestPoissonTail(t *testing.T) {
	for _, tc := range []struct {
		c      int
		lambda float64
		want   float64
	}{
		{0, 3, 1},
		{1, 3, 1 - math.Exp(-3)},
		{12, 4, 0.000915229},
		{41, 20, 2.543e-5}, // under P(Z > 4) = 3.17e-5
		{40, 20, 5.320e-5},
		{5, 1000, 1},
	} {
		t.Run(fmt.Sprintf("%d/%v", tc.c, tc.lambda), func(t *testing.T) {
			if got := poissonTail(tc.c, tc.lambda); math.Abs(got-tc.want) > 0.02*tc.want {
				t.Errorf("poissonTail(%d, %v) = %.4g, want %.4g", tc.c, tc.lambda, got, tc.want)
			}
		})
	}
}
