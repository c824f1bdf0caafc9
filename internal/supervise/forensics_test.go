package supervise

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// exitSink is an ExitSink that keeps the records. It is safe for
// concurrent use.
type exitSink struct {
	mu    sync.Mutex
	exits []steward.Exit
}

func (k *exitSink) RecordExit(e steward.Exit) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.exits = append(k.exits, e)
}

// wait waits until n records are in and returns them, oldest first.
func (k *exitSink) wait(t *testing.T, n int) []steward.Exit {
	t.Helper()
	var out []steward.Exit
	testwait.NoError(t, 10*time.Second, func() error {
		k.mu.Lock()
		defer k.mu.Unlock()
		if len(k.exits) < n {
			return fmt.Errorf("%d exit records, want %d", len(k.exits), n)
		}
		out = slices.Clone(k.exits)
		slices.SortFunc(out, func(a, b steward.Exit) int { return a.Ended.Compare(b.Ended) })
		return nil
	})
	return out
}

// TestExitRecords: every exit is recorded with its pid, uptime, status and
// the supervisor's reason, and the records reach the sink and Why.
func TestExitRecords(t *testing.T) {
	sink := &exitSink{}
	f := startFakesWith(t, `
services:
  a:
    command: [app]
    restart: {policy: on-failure, backoff: 1s, max_restarts: 5, window: 1m}
`, func(o *Options) { o.Exits = sink })
	if err := f.sup.Start(f.ctx(), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	p := f.proc("a", 1)
	f.clock.Advance(1500 * time.Millisecond)
	p.Exit(3)
	f.waitState("a", steward.StateBackoff)
	got := sink.wait(t, 1)[0]
	if got.Service != "a" || got.PID != p.pid || got.UptimeSeconds != 1.5 || got.ExitCode == nil || *got.ExitCode != 3 ||
		got.Status != "exit status 3" || !strings.HasPrefix(got.Reason, "exit status 3; restarting in") {
		t.Errorf("exit record = %+v; want service a, pid %d, 1.5s, status 3 and the backoff's reason", got, p.pid)
	}
	if got.OOM != steward.OOMNo {
		t.Errorf("oom = %q (%s), want no for an exit status", got.OOM, got.OOMDetail)
	}
	testwait.NoError(t, 10*time.Second, func() error {
		w, err := f.sup.Why("a")
		if err != nil || w.LastExit == nil || w.LastExit.PID != p.pid {
			return fmt.Errorf("Why = %+v, %v; want the record as its last exit", w, err)
		}
		return nil
	})
}

func TestExitStatusText(t *testing.T) {
	tests := []struct {
		e    exitResult
		want string
	}{
		{exitResult{state: fakeExit{code: 3}}, "exit status 3"},
		{exitResult{builtin: true}, "finished"},
		{exitResult{builtin: true, err: fmt.Errorf("boom")}, "failed: boom"},
		{exitResult{err: fmt.Errorf("no child")}, "wait: no child"},
	}
	for _, tt := range tests {
		if got := exitStatusText(tt.e); got != tt.want {
			t.Errorf("exitStatusText(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

// TestWhyIntensity: a service that crashed past its restart intensity says
// how often within which window, and how its last run ended.
func TestWhyIntensity(t *testing.T) {
	sink := &exitSink{}
	f := startFakesWith(t, `
services:
  api:
    command: [app]
    restart: {policy: on-failure, backoff: 1s, max_backoff: 1s, max_restarts: 2, window: 1m}
`, func(o *Options) { o.Exits = sink })
	if err := f.sup.Start(f.ctx(), []string{"api"}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		p := f.proc("api", i)
		f.waitState("api", steward.StateRunning)
		f.clock.Advance(1200 * time.Millisecond)
		p.Exit(3)
		if i < 3 {
			f.waitState("api", steward.StateBackoff)
			f.clock.Advance(f.clock.waitTimer(t, time.Second, time.Second))
		}
	}
	f.waitState("api", steward.StateFailed)
	sink.wait(t, 3)
	testwait.NoError(t, 10*time.Second, func() error {
		w, err := f.sup.Why("api")
		if err != nil {
			return err
		}
		want := "api is failed: it crashed 3 times within 1m0s (restart intensity 2 in 1m0s); the last: exit status 3 after 1.2s"
		if w.Summary != want || w.LastExit == nil {
			return fmt.Errorf("summary = %q, want %q (last exit %v)", w.Summary, want, w.LastExit)
		}
		return nil
	})
}

// TestWhyBlocked: a dependent names the dependency it waits for and how
// that one last ended.
func TestWhyBlocked(t *testing.T) {
	f := startFakes(t, `
services:
  db:
    command: [db]
    ready: {tcp: "127.0.0.1:1", timeout: 1h}
    restart: {backoff: 10s}
  web:
    command: [web]
    depends_on: [db]
`)
	f.sup.StartAll()
	f.proc("db", 1).Exit(2)
	f.waitState("db", steward.StateBackoff)
	testwait.NoError(t, 10*time.Second, func() error {
		w, err := f.sup.Why("web")
		want := "web is starting: waiting for db (ready), which is backoff after exiting with status 2"
		if err != nil || w.Summary != want {
			return fmt.Errorf("summary = %q (%v), want %q", w.Summary, err, want)
		}
		return nil
	})
	if _, err := f.sup.Why("nope"); err == nil {
		t.Error("Why of an unknown service: no error")
	}
}

// TestWhyStoppedBy: a manual stop is explained with who asked and when.
func TestWhyStoppedBy(t *testing.T) {
	f := startFakes(t, "services:\n  worker: {command: [w]}\n")
	if err := f.sup.Start(f.ctx(), []string{"worker"}); err != nil {
		t.Fatal(err)
	}
	if err := f.sup.Stop(steward.WithActor(f.ctx(), "uid:1000:alice"), []string{"worker"}); err != nil {
		t.Fatal(err)
	}
	at := f.clock.Now().Local().Format("15:04:05")
	testwait.NoError(t, 10*time.Second, func() error {
		w, err := f.sup.Why("worker")
		want := "worker is stopped: stopped by uid:1000:alice at " + at
		if err != nil || w.Summary != want {
			return fmt.Errorf("summary = %q (%v), want %q", w.Summary, err, want)
		}
		return nil
	})
}

// TestTimes: one crash is "once", never "1 times".
func TestTimes(t *testing.T) {
	for n, want := range map[int]string{0: "0 times", 1: "once", 3: "3 times"} {
		if got := times(n); got != want {
			t.Errorf("times(%d) = %q, want %q", n, got, want)
		}
	}
}
