package check

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/testwait"
)

var ctx = context.Background()

func run(p Probe) Result { return Run(ctx, p, 5*time.Second, nil) }

func wantStatus(t *testing.T, what string, r Result, want Status) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %s (%q), want %s", what, r.Status, r.Message, want)
	}
}

// TestHTTPDownAndUp probes a real HTTP server that answers 200, then 500,
// then goes away, then comes back on the same port.
func TestHTTPDownAndUp(t *testing.T) {
	var status atomic.Int32
	status.Store(200)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(int(status.Load())) })
	srv := httptest.NewServer(h)
	addr := srv.Listener.Addr().String()
	p := &HTTP{URL: srv.URL + "/health"}
	wantStatus(t, "200", run(p), OK)
	status.Store(500)
	r := run(p)
	wantStatus(t, "500", r, Critical)
	if !strings.Contains(r.Message, "500") {
		t.Errorf("message %q does not say 500", r.Message)
	}
	status.Store(302) // a redirect is not a 2xx, and is not followed
	wantStatus(t, "302", run(p), Critical)
	srv.Close()
	r = run(p)
	wantStatus(t, "down", r, Critical)
	if !strings.Contains(r.Message, "refused") {
		t.Errorf("message %q does not say refused", r.Message)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	status.Store(204)
	srv2 := &http.Server{Handler: h}
	go srv2.Serve(l)
	defer srv2.Close()
	wantStatus(t, "up again", run(p), OK)
	wantStatus(t, "bad URL", run(&HTTP{URL: "http://[::1"}), Unknown)
}

// TestTCPDownAndUp probes a real port that listens, closes, and listens again.
func TestTCPDownAndUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	p := &TCP{Addr: addr}
	wantStatus(t, "listening", run(p), OK)
	l.Close()
	wantStatus(t, "closed", run(p), Critical)
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	defer l.Close()
	wantStatus(t, "listening again", run(p), OK)
}

// TestNagiosExitCodes runs a plugin-style shell script that exits with each
// code and prints a first line (and performance data on a second).
func TestNagiosExitCodes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	script := filepath.Join(t.TempDir(), "check_thing")
	err := os.WriteFile(script, []byte(`#!/bin/sh
case "$1" in
0) echo "THING OK - all good|time=0.1s"; echo "detail"; exit 0 ;;
1) echo "THING WARNING - slow"; exit 1 ;;
2) echo "THING CRITICAL - down" >&2; exit 2 ;;
3) echo "THING UNKNOWN - no idea"; exit 3 ;;
4) echo "weird"; exit 4 ;;
5) exit 2 ;;
6) sleep 10 ;;
esac
`), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		arg  string
		want Status
		msg  string
	}{
		{"0", OK, "THING OK - all good|time=0.1s"},
		{"1", Warning, "THING WARNING - slow"},
		{"2", Critical, "THING CRITICAL - down"},
		{"3", Unknown, "THING UNKNOWN - no idea"},
		{"4", Unknown, "weird"},
		{"5", Critical, "exit status 2"},
	} {
		r := run(&Exec{Command: []string{script, tt.arg}})
		if r.Status != tt.want || r.Message != tt.msg {
			t.Errorf("exit %s: %s %q, want %s %q", tt.arg, r.Status, r.Message, tt.want, tt.msg)
		}
		if r.Duration <= 0 || r.Time.IsZero() {
			t.Errorf("exit %s: duration %v, time %v", tt.arg, r.Duration, r.Time)
		}
	}
	r := Run(ctx, &Exec{Command: []string{script, "6"}}, 100*time.Millisecond, nil)
	if r.Status != Critical || !strings.Contains(r.Message, "timed out after 100ms") {
		t.Errorf("timeout: %s %q", r.Status, r.Message)
	}
	wantStatus(t, "missing program", run(&Exec{Command: []string{filepath.Join(t.TempDir(), "nothing")}}), Unknown)
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "export.csv")
	now := time.Now()
	clock := func() time.Time { return now }
	if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	mod := now.Add(-2 * time.Hour)
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		f    File
		want Status
	}{
		{File{Path: path}, OK},
		{File{Path: filepath.Join(dir, "missing")}, Critical},
		{File{Path: path, MaxAge: 3 * time.Hour}, OK},
		{File{Path: path, MaxAge: time.Hour}, Critical},
		{File{Path: path, MinSize: 10, MaxSize: 10}, OK},
		{File{Path: path, MinSize: 11}, Critical},
		{File{Path: path, MaxSize: 9}, Critical},
		{File{Path: string([]byte{0})}, Unknown},
	} {
		tt.f.Now = clock
		if r := run(&tt.f); r.Status != tt.want {
			t.Errorf("%+v: %s (%s), want %s", tt.f, r.Status, r.Message, tt.want)
		}
	}
}

func TestProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs sleep")
	}
	name := "stwprobe" + strings.Repeat("x", 12) // longer than a comm
	bin := filepath.Join(t.TempDir(), name)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip(err)
	}
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "before", run(&Process{Name: name}), Critical)
	cmd := exec.Command(bin, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	wantStatus(t, "by name", run(&Process{Name: name}), OK)
	wantStatus(t, "by path", run(&Process{Name: bin}), OK)
	wantStatus(t, "by another path", run(&Process{Name: "/no/" + name}), Critical)
}

func TestStatusText(t *testing.T) {
	for _, st := range []Status{OK, Warning, Critical, Unknown} {
		b, _ := st.MarshalText()
		var got Status
		if err := got.UnmarshalText(b); err != nil || got != st {
			t.Errorf("round trip of %s: %v %v", st, got, err)
		}
	}
	var s Status
	if err := s.UnmarshalText([]byte("FINE")); err == nil {
		t.Error("UnmarshalText(FINE) succeeded")
	}
	if Status(7).String() != "UNKNOWN" {
		t.Error("Status(7) is not UNKNOWN")
	}
}

func TestFirstLine(t *testing.T) {
	long := strings.Repeat("é", 400)
	if got := firstLine([]byte(long)); len(got) > 500 || !strings.HasPrefix(long, got) {
		t.Errorf("firstLine of a long line: %d bytes", len(got))
	}
	if got := firstLine([]byte("  a\xffb \nc")); got != "a?b" {
		t.Errorf("firstLine = %q", got)
	}
}

func TestFrom(t *testing.T) {
	h := &config.Health{HTTP: "http://x"}
	if _, ok := FromHealth(h, nil, "", "").(*HTTP); !ok {
		t.Error("http health is not an HTTP probe")
	}
	if _, ok := FromHealth(&config.Health{TCP: "x:1"}, nil, "", "").(*TCP); !ok {
		t.Error("tcp health is not a TCP probe")
	}
	if _, ok := FromHealth(&config.Health{Exec: []string{"x"}}, nil, "", "").(*Exec); !ok {
		t.Error("exec health is not an Exec probe")
	}
	for _, tt := range []struct {
		c    config.Check
		want string
	}{
		{config.Check{HTTP: "http://x"}, "*check.HTTP"},
		{config.Check{TCP: "x:1"}, "*check.TCP"},
		{config.Check{File: "/x"}, "*check.File"},
		{config.Check{Process: "x"}, "*check.Process"},
		{config.Check{Exec: []string{"x"}}, "*check.Exec"},
	} {
		if got := typeName(FromCheck(&tt.c, nil, "")); got != tt.want {
			t.Errorf("FromCheck(%+v) = %s, want %s", tt.c, got, tt.want)
		}
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *HTTP:
		return "*check.HTTP"
	case *TCP:
		return "*check.TCP"
	case *File:
		return "*check.File"
	case *Process:
		return "*check.Process"
	case *Exec:
		return "*check.Exec"
	}
	return "?"
}

// TestRunner runs checks on their interval, reports each result, applies
// a new set of checks and reports a removed check as OK.
func TestRunner(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	got := map[string][]Status{}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rn := NewRunner(rctx, "checktest", func(_ context.Context, c *config.Check, r Result) {
		mu.Lock()
		got[c.Name] = append(got[c.Name], r.Status)
		mu.Unlock()
	}, nil)
	port := &config.Check{Name: "port", TCP: l.Addr().String(), Interval: 20 * time.Millisecond, Timeout: time.Second}
	missing := &config.Check{Name: "missing", File: "/nonexistent/x", Interval: time.Hour, Timeout: time.Second}
	rn.Apply(map[string]*config.Check{"port": port, "missing": missing})
	testwait.For(t, 5*time.Second, "three port results", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got["port"]) >= 3 && len(got["missing"]) == 1
	})
	states := rn.States()
	if len(states) != 2 || states[0].Name != "missing" || states[0].Last.Status != Critical || states[1].Last.Status != OK {
		t.Fatalf("states = %+v", states)
	}
	// Unchanged checks keep running; removed ones report OK.
	rn.Apply(map[string]*config.Check{"port": port})
	mu.Lock()
	last := got["missing"][len(got["missing"])-1]
	mu.Unlock()
	if last != OK {
		t.Errorf("removed check last reported %s, want OK", last)
	}
	if len(rn.States()) != 1 {
		t.Errorf("states after removal = %+v", rn.States())
	}
	rn.Close()
}
