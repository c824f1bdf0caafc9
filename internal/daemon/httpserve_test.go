//go:build unix

package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestIdleConnectionsClose checks that a kept-alive connection is closed
// once it has gone IdleTimeout without a request, after a /healthz on the
// local socket and on TCP and after a 401 on TCP.
func TestIdleConnectionsClose(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "api: {listen: \"127.0.0.1:0\"}\nservices: {}\n")
	d, err := New(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler), IdleTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	runTestDaemon(t, d)
	d.applyMu.Lock()
	local, tcp := d.served[0].l.Addr(), d.served[1].l.Addr()
	d.applyMu.Unlock()
	for _, tc := range []struct {
		addr net.Addr
		path string
		want int
	}{
		{local, "/healthz", http.StatusOK},
		{tcp, "/healthz", http.StatusOK},
		{tcp, "/v1/services", http.StatusUnauthorized},
	} {
		c, err := net.Dial(tc.addr.Network(), tc.addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: steward\r\n\r\n", tc.path)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.addr, tc.path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || resp.Close {
			t.Errorf("%s %s: status %d (close %v), want %d on a kept-alive connection", tc.addr, tc.path, resp.StatusCode, resp.Close, tc.want)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
			t.Errorf("%s %s: reading the idle connection: %v, want EOF: closed by steward after IdleTimeout", tc.addr, tc.path, err)
		}
	}
}

// TestDeadlinesSpareLongRequests checks that a request which works longer
// than the server's ReadTimeout and than the write timeout before it
// writes, as a reload or a quiet stream does, is neither cancelled nor cut.
func TestDeadlinesSpareLongRequests(t *testing.T) {
	const timeout = 50 * time.Millisecond
	cancelled := make(chan bool, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("first\n"))
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
			cancelled <- true
		case <-time.After(10 * timeout):
			cancelled <- false
			w.Write([]byte("last\n"))
		}
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: deadlines(h, nil, timeout), ReadTimeout: timeout, ReadHeaderTimeout: timeout}
	go srv.Serve(l)
	defer srv.Close()
	for _, body := range []string{"", "a body"} {
		resp, err := http.Post("http://"+l.Addr().String()+"/", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if c := <-cancelled; c || err != nil || string(got) != "first\nlast\n" {
			t.Errorf("body %q: cancelled %v, response %q (%v); want the whole response, not cancelled", body, c, got, err)
		}
	}
}
