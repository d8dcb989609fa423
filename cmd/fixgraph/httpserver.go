package main

import (
	"cmp"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"
)

// timeouts are the HTTP server's time limits. A slow client holds a connection, a goroutine and
// the buffers of its request while it sends, so every stage of a request is bounded: the headers
// (header), a body that is not an upload (body, from the end of the headers), an upload by its
// progress (at least minBytes in every window, however long it is), and a keep-alive connection
// between requests (idle). A zero field means its default.
type timeouts struct {
	header   time.Duration
	body     time.Duration
	window   time.Duration
	minBytes int
	idle     time.Duration
}

// defaultTimeouts are serve's: seconds for small requests and idle connections, and at least
// 64 KiB per 10 s (about 50 kbit/s) for uploads, which any link that can upload manuals keeps up.
var defaultTimeouts = timeouts{header: 10 * time.Second, body: 10 * time.Second, window: 10 * time.Second, minBytes: 64 << 10, idle: 30 * time.Second}

func (t timeouts) orDefault() timeouts {
	d := defaultTimeouts
	return timeouts{header: cmp.Or(t.header, d.header), body: cmp.Or(t.body, d.body), window: cmp.Or(t.window, d.window),
		minBytes: cmp.Or(t.minBytes, d.minBytes), idle: cmp.Or(t.idle, d.idle)}
}

// newServer returns the HTTP server of h with t's limits on headers and idle connections; the
// limits on bodies are withBodyDeadlines', which app.handler puts in front of every route.
// There is no ReadTimeout or WriteTimeout: one value cannot suit both a sign-in and an upload
// of a gigabyte, or a health check and a backup download.
func newServer(h http.Handler, t timeouts) *http.Server {
	t = t.orDefault()
	return &http.Server{Handler: h, ReadHeaderTimeout: t.header, IdleTimeout: t.idle}
}

// isUpload reports whether r carries files: POST /upload, or a multipart GraphQL upload.
func isUpload(r *http.Request) bool {
	if r.URL.Path == "/upload" {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// withBodyDeadlines bounds how long the body of each request may take to arrive, through the
// connection's read deadline (http.ResponseController): all of it within t.body of the headers,
// or for an upload at least t.minBytes in every t.window, the deadline moving on as bytes come.
// A read past the deadline fails, the handler answers the error, and the server closes the
// connection. Once the body has been read the deadline is lifted, so a long answer (an ask that
// takes its time) is not cut off by the server's watch for a client that went away.
func withBodyDeadlines(h http.Handler, t timeouts) http.Handler {
	t = t.orDefault()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		b := &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(w)}
		limit := t.body
		if isUpload(r) {
			b.window, b.minBytes, limit = t.window, t.minBytes, t.window
		}
		if err := b.rc.SetReadDeadline(time.Now().Add(limit)); err != nil {
			h.ServeHTTP(w, r) // a writer without deadlines (a test's recorder)
			return
		}
		r.Body = b
		h.ServeHTTP(w, r)
	})
}

// deadlineBody is a request body under a read deadline, moved on by progress when window is set.
type deadlineBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	window   time.Duration // 0: the deadline is fixed
	minBytes int
	got      int // bytes since the current window began
	done     bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.window > 0 && !b.done {
		if b.got += n; b.got >= b.minBytes {
			b.got = 0
			b.rc.SetReadDeadline(time.Now().Add(b.window))
		}
	}
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
