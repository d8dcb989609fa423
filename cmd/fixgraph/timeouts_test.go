package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testTimeouts are the server's time limits shrunk for tests: a second where serve gives ten.
var testTimeouts = timeouts{header: time.Second, body: time.Second, window: time.Second, minBytes: 16 << 10, idle: time.Second}

// listenApp serves the real wiring with the gate (local token "tok") through newServer, as serve
// does, on a loopback listener with testTimeouts, and returns its address.
func listenApp(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := openApp(ctx, config{data: t.TempDir(), embedder: "none"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a.serving = serving{gate: a.gate("tok", false, 0, false), timeouts: testTimeouts}
	done := make(chan struct{})
	go func() { a.jobs.Run(ctx); close(done) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(a.handler(time.Minute), testTimeouts)
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		a.Close()
	})
	return ln.Addr().String()
}

// closedWithin reports whether the server closes conn (or answers and closes) within d,
// while send keeps trickling bytes into it.
func closedWithin(t *testing.T, conn net.Conn, d time.Duration, send func(net.Conn) error) (bool, string) {
	t.Helper()
	closed := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(conn) // until the server closes the connection
		closed <- string(b)
	}()
	stop := time.After(d)
	for {
		select {
		case answer := <-closed:
			return true, answer
		case <-stop:
			conn.Close()
			return false, <-closed
		default:
		}
		if send != nil {
			if err := send(conn); err != nil {
				// The server closed the connection under the writer; the reader sees it too.
				select {
				case answer := <-closed:
					return true, answer
				case <-stop:
					conn.Close()
					return false, <-closed
				}
			}
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// trickle sends one byte every 100 ms: a body that would take minutes.
func trickle(conn net.Conn) error {
	time.Sleep(100 * time.Millisecond)
	_, err := conn.Write([]byte(" "))
	return err
}

// TestSlowClientsAreCutOff: a client that sends its body a byte at a time to sign-in or GraphQL,
// sends its headers that way, or leaves a keep-alive connection idle, loses the connection within
// seconds of the limit, instead of holding it for ever.
func TestSlowClientsAreCutOff(t *testing.T) {
	addr := listenApp(t)
	limit := 4 * time.Second // the limits are a second; the rest is slack for a busy machine
	for _, tc := range []struct {
		name, head string
	}{
		{"sign-in body", "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"},
		{"GraphQL body", "POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"},
		{"editor form", "POST /editor/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nname="},
		{"upload under the minimum rate", "POST /upload?name=slow.html HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nContent-Length: 10000000\r\n\r\n<html>"},
		{"headers", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := dial(t, addr)
			if _, err := io.WriteString(conn, tc.head); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if closed, answer := closedWithin(t, conn, limit+2*time.Second, trickle); !closed || time.Since(start) > limit {
				t.Errorf("a trickling client held the connection for %v (closed %v, answer %.80q)", time.Since(start).Round(time.Millisecond), closed, answer)
			}
		})
	}
	t.Run("idle keep-alive", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, addr)
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("health check: %v %v", resp, err)
		}
		resp.Body.Close()
		start := time.Now()
		if closed, _ := closedWithin(t, conn, limit+2*time.Second, nil); !closed || time.Since(start) > limit {
			t.Errorf("an idle keep-alive connection stayed open %v (closed %v)", time.Since(start).Round(time.Millisecond), closed)
		}
	})
}

// TestSlowUploadsFinish: an upload that keeps sending at least the minimum rate finishes however
// long it takes, well past the limit on small bodies, and a sign-in that sends its body at once
// is answered, not cut off.
func TestSlowUploadsFinish(t *testing.T) {
	addr := listenApp(t)
	page := "<!doctype html><html><head><title>Slow manual</title></head><body><h1>Slow manual</h1><p>" +
		strings.Repeat("A steady upload over a slow link. ", 4000) + "</p></body></html>"
	chunks := 6 // a chunk every 500 ms: three seconds against a limit of one on small bodies
	size := len(page)
	conn := dial(t, addr)
	fmt.Fprintf(conn, "POST /upload?name=slow.html HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nContent-Length: %d\r\n\r\n", size)
	step := (size + chunks - 1) / chunks
	if step < testTimeouts.minBytes {
		t.Fatalf("chunks of %d bytes are under the minimum rate of %d per window", step, testTimeouts.minBytes)
	}
	start := time.Now()
	for off := 0; off < size; off += step {
		time.Sleep(500 * time.Millisecond)
		if _, err := io.WriteString(conn, page[off:min(off+step, size)]); err != nil {
			t.Fatalf("after %v: %v", time.Since(start), err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("a steady upload of %v: %d %s", time.Since(start).Round(time.Millisecond), resp.StatusCode, b)
	}

	resp, err = http.Post("http://"+addr+"/auth/login", "application/json", strings.NewReader(`{"name":"nobody","password":"wrong password"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Wrong, or refused for the tries other tests made from this address: answered either way.
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a prompt sign-in: %d", resp.StatusCode)
	}
}
