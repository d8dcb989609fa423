package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/fixgraph/fixgraph"
)

// loadReport is what a load test measured.
type loadReport struct {
	Clients   int            `json:"clients"`
	Duration  float64        `json:"durationSeconds"`
	Requests  int            `json:"requests"`
	Errors    int            `json:"errors"`
	ErrorKind map[string]int `json:"errorKinds,omitempty"`
	PerSecond float64        `json:"perSecond"`
	P50       float64        `json:"p50ms"`
	P99       float64        `json:"p99ms"`
	Max       float64        `json:"maxms"`
	Load      string         `json:"loadAverage"`
}

// runLoadTest serves the API on loopback, as serve does (the gate, a reader key, its rate limit
// lifted for the test), and has N clients ask the fixture questions for a fixed time.
func runLoadTest(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlags("loadtest", stderr, &cfg)
	clients := fs.Int("clients", 32, "concurrent clients")
	duration := fs.Duration("duration", 60*time.Second, "how long the clients ask")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cfg.data = "" // a fresh data directory with the demo corpus, unless --data names one
	if err := parse(fs, args); err != nil {
		return err
	}
	if *clients < 1 || *duration <= 0 {
		return fixgraph.Errorf(fixgraph.EINVALID, "--clients must be at least 1 and --duration positive")
	}
	if cfg.data == "" {
		dir, err := os.MkdirTemp("", "fixgraph-loadtest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.data = dir
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if empty, err := a.empty(ctx); err != nil {
		return err
	} else if empty {
		if _, err := a.loadFixtures(ctx); err != nil {
			return err
		}
	}
	questions, err := fixtureQuestions()
	if err != nil {
		return err
	}
	secret, _, err := a.accounts.CreateKey("load test", fixgraph.RoleReader, "", time.Hour, "loadtest")
	if err != nil {
		return err
	}
	a.serving = serving{gate: a.gate("", false, 0, false)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.handler(30 * time.Second), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	client := &remote{url: "http://" + ln.Addr().String() + "/graphql", token: secret, client: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: *clients, MaxConnsPerHost: *clients},
		Timeout:   time.Minute,
	}}
	fmt.Fprintf(stderr, "loadtest: %d clients asking %d questions for %s (load %s)\n", *clients, len(questions), *duration, loadAverage())
	rep, err := loadTest(ctx, client, questions, *clients, *duration)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "%d clients, %.0fs: %d requests, %d errors, %.1f requests/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms (load %s)\n",
		rep.Clients, rep.Duration, rep.Requests, rep.Errors, rep.PerSecond, rep.P50, rep.P99, rep.Max, rep.Load)
	for kind, n := range rep.ErrorKind {
		fmt.Fprintf(stdout, "  %d × %s\n", n, kind)
	}
	if rep.Errors > 0 {
		return exitError{1}
	}
	return nil
}

// loadTest runs clients that each ask one question after another until d has passed.
func loadTest(ctx context.Context, client *remote, questions []string, clients int, d time.Duration) (loadReport, error) {
	var mu sync.Mutex
	var durs []time.Duration
	kinds := map[string]int{}
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := c; time.Now().Before(stop) && ctx.Err() == nil; i += clients {
				var sink json.RawMessage
				t := time.Now()
				err := client.query(ctx, askQuery, map[string]any{"q": questions[i%len(questions)]}, &sink)
				mine = append(mine, time.Since(t))
				if err != nil {
					mu.Lock()
					kinds[fixgraph.CodeOf(err)+": "+fixgraph.MessageOf(err)]++
					mu.Unlock()
				}
			}
			mu.Lock()
			durs = append(durs, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return loadReport{}, err
	}
	wall := time.Since(start)
	rep := loadReport{Clients: clients, Duration: wall.Seconds(), Requests: len(durs), PerSecond: float64(len(durs)) / wall.Seconds(), Load: loadAverage()}
	for _, n := range kinds {
		rep.Errors += n
	}
	if len(kinds) > 0 {
		rep.ErrorKind = kinds
	}
	if len(durs) > 0 {
		slices.Sort(durs)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		rep.P50, rep.P99, rep.Max = ms(durs[len(durs)/2]), ms(durs[min(len(durs)-1, len(durs)*99/100)]), ms(durs[len(durs)-1])
	}
	return rep, nil
}
