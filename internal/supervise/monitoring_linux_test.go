package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// startWith is start with Kinds, a Monitor and a clock (nil: the system's).
func startWith(t *testing.T, yaml string, kinds map[string]NewRunner, clock Clock) (*harness, *conditions) {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir()}
	cfg := h.parse(yaml)
	st, err := store.Open(context.Background(), filepath.Join(h.dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	h.store = st
	h.rec = events.NewRecorder(st)
	mon := &conditions{}
	h.sup, err = New(cfg, Options{Events: h.rec, LogDir: filepath.Join(h.dir, "logs"), Tag: "t" + strconv.Itoa(os.Getpid()),
		Kinds: kinds, Monitor: mon, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.sup.Shutdown(c); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		h.sup.Close()
		st.Close()
	})
	return h, mon
}

// TestHealthRestartsUnhealthy: a service whose health check fails retries
// times in a row is unhealthy, recorded and restarted; healthy again, it
// stays up.
func TestHealthRestartsUnhealthy(t *testing.T) {
	h, mon := startWith(t, `
services:
  a:
    command: ["{{prog}}"]
    health: {exec: [sh, -c, "test -f {{dir}}/ok || exit 2"], interval: 30ms, retries: 2}
`, nil, nil)
	ok := filepath.Join(h.dir, "ok")
	os.WriteFile(ok, nil, 0o600)
	if err := h.sup.Start(ctx(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	testwait.NoError(t, 10*time.Second, func() error {
		if st, _ := h.sup.Get("a"); st.Health != steward.HealthHealthy {
			return fmt.Errorf("health %s", st.Health)
		}
		return nil
	})
	first, _ := h.sup.Get("a")
	os.Remove(ok)
	waitCount(t, mon, "a unhealthy true", 1)
	testwait.NoError(t, 10*time.Second, func() error {
		st, _ := h.sup.Get("a")
		if st.State != steward.StateRunning || st.PID == first.PID || st.Restarts != 1 {
			return fmt.Errorf("state %s pid %d (was %d) restarts %d", st.State, st.PID, first.PID, st.Restarts)
		}
		return nil
	})
	os.WriteFile(ok, nil, 0o600)
	waitCount(t, mon, "a unhealthy false", 2)
	var health []string
	for _, ev := range h.events("a") {
		if ev.Type == steward.EventHealth {
			health = append(health, ev.Reason)
		}
	}
	if len(health) < 3 || !strings.HasPrefix(health[0], "unknown → healthy") || !strings.HasPrefix(health[1], "healthy → unhealthy: 2 checks in a row failed") {
		t.Errorf("health events = %q", health)
	}
}

// TestHealthAlertOnly: with on_unhealthy: alert an unhealthy service keeps
// running; failures within start_period do not count.
func TestHealthAlertOnly(t *testing.T) {
	h, mon := startWith(t, `
services:
  a:
    command: ["{{prog}}"]
    health: {exec: [sh, -c, "exit 2"], interval: 20ms, retries: 1, start_period: 300ms, on_unhealthy: alert}
`, nil, nil)
	if err := h.sup.Start(ctx(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	first, _ := h.sup.Get("a")
	waitCount(t, mon, "a unhealthy true", 1)
	if d := time.Since(started); d < 250*time.Millisecond {
		t.Errorf("unhealthy after %v, within the start period", d)
	}
	st, _ := h.sup.Get("a")
	if st.State != steward.StateRunning || st.PID != first.PID || st.Health != steward.HealthUnhealthy {
		t.Errorf("status = %+v, want the same process running, unhealthy", st)
	}
	if err := h.sup.Stop(ctx(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.sup.Get("a"); st.Health != steward.HealthUnknown {
		t.Errorf("health of a stopped service = %s", st.Health)
	}
}

// TestCrashLoopConditions: each crash reports restarting; giving up
// reports failed; a later start clears failed.
func TestCrashLoopConditions(t *testing.T) {
	h, mon := startWith(t, `
services:
  a:
    command: ["{{prog}}", -exit, "1"]
    restart: {policy: always, backoff: 0s, max_backoff: 0s, max_restarts: 20, window: 1m}
`, nil, nil)
	h.sup.Start(ctx(t), []string{"a"})
	h.waitState("a", steward.StateFailed)
	waitCount(t, mon, "a failed true", 1)
	waitCount(t, mon, "a restarting true", 20)
	waitCount(t, mon, "a restarting false: gave up", 1)
	if err := h.sup.Stop(ctx(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	h.sup.requestStarts([]*service{h.sup.service("a")})
	waitCount(t, mon, "a failed false", 1)
}

// TestStableRunClearsRestarting: once a restarted service has run for
// restart.stable, restarting clears.
func TestStableRunClearsRestarting(t *testing.T) {
	h, mon := startWith(t, `
services:
  a:
    command: [sh, -c, "if [ -f {{dir}}/crashed ]; then sleep 30; else touch {{dir}}/crashed; exit 1; fi"]
    restart: {policy: always, backoff: 0s, max_backoff: 0s, stable: 100ms}
`, nil, nil)
	h.sup.Start(ctx(t), []string{"a"})
	waitCount(t, mon, "a restarting true", 1)
	waitCount(t, mon, "a restarting false: running stably for 100ms", 1)
}

// fakeRunner is a built-in kind's runner for tests.
type fakeRunner struct {
	ready   bool
	fail    error // returned once ready (or not)
	finish  bool  // return nil at once
	started chan struct{}
}

func (f *fakeRunner) Run(ctx context.Context, ready func()) error {
	if f.started != nil {
		close(f.started)
	}
	if f.ready {
		ready()
		ready()
	}
	switch {
	case f.finish:
		return nil
	case f.fail != nil:
		return f.fail
	}
	<-ctx.Done()
	return ctx.Err()
}

// testKind is the kind of the built-in services of the tests: one with no
// keys of its own, whose runners the tests provide.
const testKind = "sysmon"

// TestBuiltinKind: a service of a built-in kind runs in-process with the
// same states as a process: starting until ready, running with no pid,
// stopped on a stop, and its failures follow the restart policy.
func TestBuiltinKind(t *testing.T) {
	var mu sync.Mutex
	runners := map[string]*fakeRunner{
		"ok":     {ready: true},
		"fails":  {ready: true, fail: errors.New("boom")},
		"done":   {finish: true},
		"broken": nil,
	}
	kinds := map[string]NewRunner{testKind: func(cfg *config.Service) (Runner, error) {
		mu.Lock()
		defer mu.Unlock()
		r := runners[cfg.Name]
		if r == nil {
			return nil, errors.New("cannot make it")
		}
		return &fakeRunner{ready: r.ready, fail: r.fail, finish: r.finish}, nil
	}}
	h, mon := startWith(t, `
services:
  ok: {kind: sysmon}
  fails: {kind: sysmon, restart: {policy: on-failure, backoff: 0s, max_backoff: 0s, max_restarts: 2}}
  done: {kind: sysmon}
  broken: {kind: sysmon}
  dependent:
    command: ["{{prog}}"]
    depends_on: [ok]
`, kinds, nil)
	h.sup.StartAll()
	st := h.waitState("ok", steward.StateRunning)
	if st.PID != 0 || st.Kind != testKind || st.Reason != "ready" {
		t.Errorf("ok = %+v", st)
	}
	h.waitState("dependent", steward.StateRunning)
	h.waitState("fails", steward.StateFailed)
	waitCount(t, mon, "fails restarting true: failed: boom (restart", 2)
	if st := h.waitState("done", steward.StateExited); st.Reason != "finished" {
		t.Errorf("done = %+v", st)
	}
	if st := h.waitState("broken", steward.StateFailed); !strings.Contains(st.Reason, "cannot make it") {
		t.Errorf("broken = %+v", st)
	}
	if err := h.sup.Stop(ctx(t), []string{"dependent", "ok"}); err != nil {
		t.Fatal(err)
	}
	if st := h.waitState("ok", steward.StateStopped); !strings.Contains(st.Reason, "finished") && !strings.Contains(st.Reason, "stop") {
		t.Errorf("ok after stop = %+v", st)
	}
	if err := h.sup.Restart(ctx(t), []string{"ok"}); err != nil {
		t.Fatal(err)
	}
	h.waitState("ok", steward.StateRunning)
}

// TestUsageAndLimits: sampled figures show in the status and are forgotten
// when the process ends; a limit exceeded for its `for` acts.
func TestUsageAndLimits(t *testing.T) {
	clock := newFakeClock()
	h, mon := startWith(t, `
services:
  restart:
    command: ["{{prog}}"]
    limits: {memory: 100MB, for: 1m, action: restart}
  stop:
    command: ["{{prog}}"]
    limits: {cpu: 50%, action: stop}
  alert:
    command: ["{{prog}}"]
    limits: {memory: 100MB, cpu: 50%, for: 30s, action: alert}
  free:
    command: ["{{prog}}"]
`, nil, clock)
	if err := h.sup.Start(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	pids := h.sup.PIDs()
	if len(pids) != 4 {
		t.Fatalf("PIDs = %v", pids)
	}
	big := Usage{CPUPercent: 80, RSS: 200e6, Threads: 3, OpenFiles: 5}
	all := map[string]Usage{"restart": big, "stop": big, "alert": big, "free": big, "unknown": big}
	h.sup.SetUsage(all)
	if st, _ := h.sup.Get("free"); st.CPUPercent != 80 || st.RSSBytes != 200e6 || st.Threads != 3 || st.OpenFiles != 5 {
		t.Errorf("free = %+v", st)
	}
	h.waitState("stop", steward.StateStopped) // no `for`: at once
	if st, _ := h.sup.Get("stop"); st.RSSBytes != 0 {
		t.Errorf("a stopped service has usage: %+v", st)
	}
	found := false
	for _, ev := range h.events("stop") {
		found = found || (ev.To == steward.StateStopping && ev.Reason == "CPU 80% over the limit of 50%; stopping")
	}
	if !found {
		t.Errorf("no stop event with the limit as its reason: %+v", h.events("stop"))
	}
	clock.Advance(30 * time.Second)
	h.sup.SetUsage(all)
	waitCount(t, mon, "alert limit:memory true: memory 190.7 MiB over the limit of 95.4 MiB for 30s", 1)
	waitCount(t, mon, "alert limit:cpu true", 1)
	if st, _ := h.sup.Get("restart"); st.PID != pids["restart"] {
		t.Errorf("restarted before its `for`")
	}
	clock.Advance(30 * time.Second)
	h.sup.SetUsage(all)
	testwait.NoError(t, 10*time.Second, func() error {
		st, _ := h.sup.Get("restart")
		if st.State != steward.StateRunning || st.PID == pids["restart"] {
			return fmt.Errorf("restart: %s pid %d", st.State, st.PID)
		}
		return nil
	})
	small := Usage{CPUPercent: 1, RSS: 1e6}
	h.sup.SetUsage(map[string]Usage{"alert": small})
	waitCount(t, mon, "alert limit:memory false", 1)
	waitCount(t, mon, "alert limit:cpu false", 1)
	if got := sizeText(512); got != "512 B" {
		t.Errorf("sizeText(512) = %q", got)
	}
}
