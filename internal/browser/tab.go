package browser

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Option changes a tab New opens.
type Option func(*tabOptions)

type tabOptions struct {
	allowJSErrors bool
	timeout       time.Duration
}

// AllowJSErrors keeps the page's console errors and uncaught exceptions from failing the test;
// JSErrors still returns them.
func AllowJSErrors() Option { return func(o *tabOptions) { o.allowJSErrors = true } }

// Timeout replaces DefaultTimeout for the context New returns.
func Timeout(d time.Duration) Option { return func(o *tabOptions) { o.timeout = d } }

// New opens a tab in the shared browser (starting it on first use) and returns its context for
// chromedp.Do and chromedp.Run. The context ends after the Timeout (DefaultTimeout, shortened to
// the test's deadline); the test's cleanup closes the tab. New fails the test when no browser can
// start. New may be called from parallel tests; each test uses its own tab.
func New(t testing.TB, opts ...Option) context.Context {
	t.Helper()
	ctx, done := open(t, opts...)
	t.Cleanup(done)
	return ctx
}

// open is New without the cleanup: done reports the page's errors, saves a screenshot if t
// failed, and closes the tab.
func open(t testing.TB, opts ...Option) (ctx context.Context, done func()) {
	t.Helper()
	o := tabOptions{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	bctx := start(t)

	rec := &recorder{}
	// Each tab has its own browser context (like a fresh incognito window): tests do not share
	// cookies, storage or cache, even when they run in parallel.
	tab, closeTab := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(rec.listen))
	// The first Do opens the tab, which lives as long as tab: it gets no deadline. Headless
	// Chromium takes the height of a toolbar from the window, so the viewport is set too.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(Width, Height)); err != nil {
		closeTab()
		t.Fatalf("browser: opening a tab: %v", err)
	}

	deadline := time.Now().Add(o.timeout)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := d.Deadline(); ok && end.Add(-5*time.Second).Before(deadline) {
			deadline = end.Add(-5 * time.Second) // leaves time to report
		}
	}
	ctx, cancel := context.WithDeadline(context.WithValue(tab, recorderKey{}, rec), deadline)
	return ctx, func() {
		if msgs := flush(tab, rec); len(msgs) > 0 && !o.allowJSErrors {
			t.Errorf("browser: the page reported %d JavaScript error(s):\n\t%s", len(msgs), strings.Join(msgs, "\n\t"))
		}
		if t.Failed() {
			saveFailure(t, tab)
		}
		cancel()
		// Closes the tab and its browser context, and waits for it, so tabs do not pile up.
		cctx, ccancel := context.WithTimeout(tab, 10*time.Second)
		defer ccancel()
		if err := chromedp.Cancel(cctx); err != nil {
			t.Logf("browser: closing the tab: %v", err)
		}
		closeTab()
	}
}

// JSErrors returns the console errors and uncaught exceptions of the tab of ctx (a context from
// New) so far, oldest first.
func JSErrors(ctx context.Context) []string {
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	if rec == nil {
		return nil
	}
	return flush(ctx, rec)
}

// flush makes one round trip to the page, so that the events the page sent before it reach the
// listener, then returns what the listener recorded.
func flush(ctx context.Context, rec *recorder) []string {
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = chromedp.Do(fctx, chromedp.Evaluate[chromedp.Void](`0`))
	return rec.messages()
}

type recorderKey struct{}

// recorder collects the page's errors. listen runs in the tab's read loop: it must be quick and
// must not send commands.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = exceptionText(ev.ExceptionDetails)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		msg = "console." + string(ev.Type) + ": " + argsText(ev.Args) + stackPlace(ev.StackTrace)
	default:
		return
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, msg)
	r.mu.Unlock()
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// exceptionText is "Uncaught Error: boom (http://…/:12:5)": the exception's text and the first
// line of its description (the rest is the stack), and where it was thrown.
func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "exception"
	}
	text := d.Text
	if d.Exception != nil {
		desc, _, _ := strings.Cut(valueText(d.Exception), "\n")
		text = strings.TrimSpace(text + " " + desc)
	}
	place := stackPlace(d.StackTrace)
	if place == "" && d.URL != "" {
		place = fmt.Sprintf(" (%s:%d:%d)", d.URL, d.LineNumber+1, d.ColumnNumber+1)
	}
	return text + place
}

func stackPlace(st *runtime.StackTrace) string {
	if st == nil || len(st.CallFrames) == 0 {
		return ""
	}
	f := st.CallFrames[0]
	return fmt.Sprintf(" (%s:%d:%d)", f.URL, f.LineNumber+1, f.ColumnNumber+1)
}

func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = valueText(a)
	}
	return strings.Join(parts, " ")
}

func valueText(o *runtime.RemoteObject) string {
	switch {
	case o == nil:
		return "null"
	case o.Type == runtime.RemoteObjectTypeString:
		var s string
		if jsonv2.Unmarshal(o.Value, &s) == nil {
			return s
		}
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	case o.Description != "":
		return o.Description
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return string(o.Type)
}
