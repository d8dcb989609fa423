package browser

import (
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestMain(m *testing.M) { Main(m) }

// formPage has a form that posts to /submit, and a script that counts the characters typed.
const formPage = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>表单</title></head>
<body>
<form method="post" action="/submit">
  <label>问题 <input id="q" name="q" autocomplete="off"></label>
  <span id="count">0</span> 字
  <button id="send" type="submit">提交</button>
</form>
<script>
  const q = document.getElementById('q');
  q.addEventListener('input', () => {
    document.getElementById('count').textContent = String([...q.value].length);
  });
  console.log('ready'); console.warn('warnings do not fail the test');
</script>
</body></html>`

// errorPage reports errors three ways: console.error, an uncaught exception and an unhandled
// promise rejection.
const errorPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>errors</title></head>
<body><p>errors</p>
<script>console.error('bad thing', 42);</script>
<script>Promise.reject(new Error('nope'));</script>
<script>throw new Error('boom');</script>
</body></html>`

func serve(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		}
	}
	mux.HandleFunc("GET /{$}", page(formPage))
	mux.HandleFunc("GET /errors", page(errorPage))
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><p id="result">收到：%s</p><p id="lang">%s</p>`,
			html.EscapeString(r.PostFormValue("q")), html.EscapeString(r.Header.Get("Accept-Language")))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestForm(t *testing.T) {
	srv := serve(t)
	dir, err := ArtifactDir() // the screenshot stays there, to be looked at
	if err != nil {
		t.Fatal(err)
	}

	began := time.Now()
	ctx := New(t)
	opened := time.Since(began)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	t.Logf("new tab %v, navigation %v", opened.Round(time.Millisecond), (time.Since(began) - opened).Round(time.Millisecond))

	const typed = "屏幕 flickers"
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#q"), typed),
		// Waits for the script to update the count.
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.getElementById('count').textContent === '%d'`, len([]rune(typed))),
			chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.Click(chromedp.CSS("#send")),
		chromedp.WaitVisible(chromedp.CSS("#result")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result"))); err != nil || got != "收到："+typed {
		t.Errorf("result = %q, %v; want %q", got, err, "收到："+typed)
	}
	lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.language`))
	if err != nil || lang != Lang {
		t.Errorf("navigator.language = %q, %v; want %q", lang, err, Lang)
	}
	if accept, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#lang"))); err != nil || !strings.HasPrefix(accept, Lang) {
		t.Errorf("Accept-Language = %q, %v; want %s first", accept, err, Lang)
	}

	Screenshot(t, ctx, "browser-form")
	f, err := os.Open(filepath.Join(dir, "browser-form.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// The page is shorter than the viewport, so the full page is the viewport.
	if b := img.Bounds(); b.Dx() != Width || b.Dy() != Height {
		t.Errorf("screenshot is %v, want %d×%d", b, Width, Height)
	}
	if errs := JSErrors(ctx); len(errs) != 0 {
		t.Errorf("JSErrors = %q, want none (console.log and console.warn are no errors)", errs)
	}
}

// fakeTB records what New reports at the end of a test instead of failing the real one.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errs) > 0
}

func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestJSErrorsFailTheTest(t *testing.T) {
	srv := serve(t)
	dir := t.TempDir()
	t.Setenv("FIXGRAPH_ARTIFACTS", dir)

	ft := &fakeTB{TB: t}
	ctx := New(ft)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/errors")); err != nil {
		t.Fatal(err)
	}
	ft.runCleanups()
	if len(ft.errs) != 1 {
		t.Fatalf("the test got %d errors, want 1: %q", len(ft.errs), ft.errs)
	}
	report := ft.errs[0]
	t.Logf("report:\n%s", report)
	for _, want := range []string{"3 JavaScript error(s)", "console.error: bad thing 42", "Uncaught (in promise) Error: nope", "Uncaught Error: boom", "/errors:"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, t.Name()+"-failed.png")); err != nil {
		t.Errorf("no screenshot of the failed test: %v", err)
	}
}

func TestAllowJSErrors(t *testing.T) {
	srv := serve(t)
	ctx := New(t, AllowJSErrors())
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/errors")); err != nil {
		t.Fatal(err)
	}
	errs := JSErrors(ctx)
	if len(errs) != 3 || !strings.Contains(strings.Join(errs, "\n"), "Uncaught Error: boom") {
		t.Errorf("JSErrors = %q, want 3 with the exception boom", errs)
	}
}

func TestExecPath(t *testing.T) {
	t.Setenv("FIXGRAPH_CHROMIUM", "/nonexistent/chromium")
	if _, err := ExecPath(); err == nil || !strings.Contains(err.Error(), "FIXGRAPH_CHROMIUM") {
		t.Errorf("ExecPath with a bad FIXGRAPH_CHROMIUM: %v", err)
	}
	t.Setenv("FIXGRAPH_CHROMIUM", "")
	t.Setenv("PATH", t.TempDir())
	if _, err := ExecPath(); err == nil || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("ExecPath without chromium on PATH: %v", err)
	}
}

func TestArtifactDir(t *testing.T) {
	t.Setenv("FIXGRAPH_ARTIFACTS", "")
	dir, err := ArtifactDir()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(dir))
	if filepath.Base(filepath.Dir(dir)) != ".cache" || filepath.Base(dir) != "artifacts" {
		t.Errorf("ArtifactDir = %s, want <repo>/.cache/artifacts", dir)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("ArtifactDir = %s: %v", dir, err)
	}
	if got := fileName("TestX/sub case:1"); got != "TestX_sub_case_1" {
		t.Errorf("fileName = %q", got)
	}
}

// BenchmarkTab measures what a browser test pays besides its own steps: a new tab, a navigation
// to a small page, and the end-of-test check and close.
func BenchmarkTab(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, formPage)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	start(b) // not measured
	for b.Loop() {
		ctx, done := open(b)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
			b.Fatal(err)
		}
		done()
	}
}

// TestShutdown checks that Shutdown leaves no process of the browser behind.
func TestShutdown(t *testing.T) {
	ctx, done := open(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	done()
	shared.mu.Lock()
	pid := chromedp.FromContext(shared.ctx).Browser.Process().Pid
	shared.mu.Unlock()
	procs := descendants(t, pid)
	if len(procs) < 2 {
		t.Fatalf("found %d processes of the browser, want its main process and some children", len(procs))
	}
	Shutdown()
	for _, p := range procs {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue // gone
		}
		// The state follows the command in parentheses; Z (a zombie) has ended.
		_, rest, _ := strings.Cut(string(stat), ") ")
		if !strings.HasPrefix(rest, "Z") {
			t.Errorf("process %d of the browser still runs after Shutdown: %s", p, stat)
		}
	}
}

// descendants returns pid and the processes under it, from /proc.
func descendants(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	parent := map[int]int{}
	for _, e := range entries {
		var p int
		if _, err := fmt.Sscan(e.Name(), &p); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		_, rest, _ := strings.Cut(string(stat), ") ")
		var state string
		var ppid int
		if _, err := fmt.Sscan(rest, &state, &ppid); err == nil {
			parent[p] = ppid
		}
	}
	var out []int
	for p := range parent {
		for q := p; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
