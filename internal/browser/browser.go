// Package browser runs end-to-end tests of the web editor in a real, headless Chromium driven
// by chromedp (v0.23, the generic API: chromedp.Do for steps, chromedp.Run for a value).
//
// One browser is shared by all the tests of a test binary: the first New starts it, and every
// New opens a new tab in it, which the test's cleanup closes. A package that uses New ends the
// browser from TestMain, so no Chromium process outlives the tests:
//
//	func TestMain(m *testing.M) { browser.Main(m) }
//
//	func TestEditor(t *testing.T) {
//		ctx := browser.New(t)
//		err := chromedp.Do(ctx,
//			chromedp.Navigate(srv.URL),
//			chromedp.SendKeys(chromedp.CSS("#q"), "手机"),
//			chromedp.Click(chromedp.CSS("button[type=submit]")),
//			chromedp.WaitVisible(chromedp.CSS("#result")),
//		)
//		...
//		browser.Screenshot(t, ctx, "editor-result")
//	}
//
// The browser is the one in $FIXGRAPH_CHROMIUM, else `chromium` on PATH (`make deps` installs
// Debian's). A missing browser fails the test; it is never skipped. It runs headless, without the
// sandbox and the GPU; each tab has a 1280×900 viewport, the language zh-CN
// (navigator.language and Accept-Language) and a browser context of its own, so tests share no
// cookies or storage.
//
// A console.error (or a failed console.assert) or an uncaught exception or promise rejection in
// the page fails the test at its end, with the messages; AllowJSErrors turns that off for a tab
// and JSErrors reads them. When a test using New fails, the cleanup saves a screenshot of the
// tab as <test name>-failed.png next to Screenshot's.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// Viewport size and language of every tab.
const (
	Width  = 1280
	Height = 900
	Lang   = "zh-CN"
)

// DefaultTimeout bounds the actions a test runs on the context New returns, so a wait for an
// element that never comes fails the test instead of hanging it until the go test timeout.
const DefaultTimeout = time.Minute

const startTimeout = 30 * time.Second

// shared is the browser of the test binary. start starts it on first use; Shutdown ends it, and a
// New after that starts another.
var shared struct {
	mu            sync.Mutex
	ctx           context.Context // the browser's chromedp context; tabs are its children
	cancelBrowser context.CancelFunc
	cancelAlloc   context.CancelFunc
	err           error // why the browser did not start; kept so each test fails fast
}

// ExecPath returns the browser New starts: $FIXGRAPH_CHROMIUM (a path or a name on PATH), else
// chromium on PATH.
func ExecPath() (string, error) {
	if p := os.Getenv("FIXGRAPH_CHROMIUM"); p != "" {
		full, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("FIXGRAPH_CHROMIUM=%s is not an executable: %w", p, err)
		}
		return full, nil
	}
	full, err := exec.LookPath("chromium")
	if err != nil {
		return "", errors.New("chromium is not on PATH: run `make deps` (it installs Debian's chromium) " +
			"or set FIXGRAPH_CHROMIUM to a Chromium or Chrome executable")
	}
	return full, nil
}

// start returns the shared browser's context, starting the browser the first time.
func start(t testing.TB) context.Context {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.ctx == nil && shared.err == nil {
		shared.err = launch(t)
	}
	if shared.err != nil {
		t.Fatalf("browser: %v", shared.err)
	}
	return shared.ctx
}

func launch(t testing.TB) error {
	path, err := ExecPath()
	if err != nil {
		return err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(Width, Height),
		chromedp.Flag("lang", Lang),
		// --lang alone changes nothing when the zh-CN UI pack is missing (Debian ships it in
		// chromium-l10n); --accept-lang sets navigator.language(s) and Accept-Language.
		chromedp.Flag("accept-lang", Lang),
	)
	began := time.Now()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	// The first Do starts the browser and ties its life to ctx, so it gets no deadline; a browser
	// that hangs while starting is cancelled from here instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err = <-started:
	case <-time.After(startTimeout):
		err = fmt.Errorf("no answer after %v", startTimeout)
	}
	if err != nil {
		cancelBrowser()
		cancelAlloc()
		return fmt.Errorf("starting %s: %w", path, err)
	}
	version := "?"
	vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if v, err := chromedp.CallBrowser(vctx, cdpbrowser.GetVersion, cdp.Empty{}); err == nil {
		version = v.Product
	}
	cancel()
	t.Logf("browser: started %s (%s) in %v", path, version, time.Since(began).Round(time.Millisecond))
	shared.ctx, shared.cancelBrowser, shared.cancelAlloc = ctx, cancelBrowser, cancelAlloc
	return nil
}

// Shutdown closes the shared browser, if it runs, and waits for its processes to end. Call it
// after the tests (Main does); a later New starts a new browser.
func Shutdown() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.ctx != nil {
		ctx, cancel := context.WithTimeout(shared.ctx, 10*time.Second)
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(os.Stderr, "browser: closing Chromium: %v\n", err)
		}
		cancel()
		shared.cancelBrowser()
		shared.cancelAlloc() // waits for the process and removes its profile directory
	}
	shared.ctx, shared.cancelBrowser, shared.cancelAlloc, shared.err = nil, nil, nil, nil
}

// Main runs the tests and then Shutdown, for a package's TestMain: func TestMain(m *testing.M) { browser.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	Shutdown()
	os.Exit(code)
}
