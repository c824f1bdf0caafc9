package run

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// t0 is when the fake clock starts: on a whole minute, as schedules are.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a Clock that moves only when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       chan time.Time
	at      time.Time
	clock   *fakeClock
	stopped bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: make(chan time.Time, 1), at: c.now.Add(d), clock: c}
	if !t.at.After(c.now) {
		t.c <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock on by d and fires the timers due by then.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			t.c <- c.now
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
}

// pending reports whether a timer not stopped is due within d of now.
func (c *fakeClock) pending(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now.Add(d)) {
			return true
		}
	}
	return false
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// condition is one observation the engine reported to the alerts.
type condition struct {
	rule, job string
	active    bool
}

// alerts records the engine's conditions.
type alerts struct {
	mu   sync.Mutex
	seen []condition
}

func (a *alerts) JobCondition(_ context.Context, rule, job string, active bool, _ string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen = append(a.seen, condition{rule, job, active})
}

// count returns how often rule was observed active (or not) for job.
func (a *alerts) count(rule, job string, active bool) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range a.seen {
		if c == (condition{rule, job, active}) {
			n++
		}
	}
	return n
}

// actor is an Actor whose outcome the test sets per job: nil succeeds, a
// non-nil error fails, and block holds the action until its context ends.
type actor struct {
	mu      sync.Mutex
	results map[string]error
}

var errBlock = errors.New("block")

func (a *actor) set(job string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.results[job] = err
}

func (a *actor) act(ctx context.Context, j *config.Job, _ steward.Run) Outcome {
	a.mu.Lock()
	err := a.results[j.Name]
	a.mu.Unlock()
	if errors.Is(err, errBlock) {
		<-ctx.Done()
		return Outcome{Err: ctx.Err()}
	}
	code := 0
	if err != nil {
		code = 1
	}
	return Outcome{Err: err, ExitCode: &code, Output: []byte("out of " + j.Name)}
}

// harness is an engine on a fake clock, a real store and a test actor.
type harness struct {
	t      *testing.T
	e      *Engine
	clock  *fakeClock
	store  *store.Store
	path   string // of the store's database
	alerts *alerts
	actor  *actor
}

func newHarness(t *testing.T, jitter func(time.Duration) time.Duration) *harness {
	t.Helper()
	testwait.NoLeak(t)
	path := filepath.Join(t.TempDir(), "steward.db")
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: &fakeClock{now: t0}, store: st, path: path, alerts: &alerts{}, actor: &actor{results: map[string]error{}}}
	h.e = New(Options{Store: st, Alerts: h.alerts, Clock: h.clock, Act: h.actor.act, Jitter: jitter})
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.e.Run(context.Background())
	}()
	t.Cleanup(func() {
		h.e.Close()
		<-done
		st.Close()
	})
	return h
}

// apply parses the jobs: section text and applies it.
func (h *harness) apply(jobs string) {
	h.t.Helper()
	cfg, err := config.Parse("", []byte("data_dir: "+h.t.TempDir()+"\njobs:\n"+jobs), config.Registry{})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.e.Apply(context.Background(), cfg); err != nil {
		h.t.Fatal(err)
	}
}

// runs returns the runs of job name, oldest first.
func (h *harness) runs(name string) []steward.Run {
	h.t.Helper()
	list, err := h.store.Runs(context.Background(), store.RunFilter{Name: name})
	if err != nil {
		h.t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// waitRuns waits until n runs of job name pass ok, and returns its runs,
// oldest first.
// advanceToTimer waits until the engine has set a timer due within d (a
// retry's backoff, set a moment after the run it follows is stored), then
// moves the clock on by d, which fires it.
func (h *harness) advanceToTimer(d time.Duration) {
	h.t.Helper()
	testwait.For(h.t, 5*time.Second, "a timer due within "+d.String(), func() bool { return h.clock.pending(d) })
	h.clock.Advance(d)
}

// waitIdle waits until no run of job name is in flight: its last run is
// stored as ended a moment before its chain lets go, and a run due in
// between would be skipped by concurrency: forbid.
func (h *harness) waitIdle(name string) {
	h.t.Helper()
	testwait.For(h.t, 5*time.Second, "no run of "+name+" in flight", func() bool {
		h.e.mu.Lock()
		defer h.e.mu.Unlock()
		j := h.e.jobs[name]
		return j != nil && len(j.chains) == 0
	})
}

func (h *harness) waitRuns(name string, n int, what string, ok func(r steward.Run) bool) []steward.Run {
	h.t.Helper()
	var list []steward.Run
	testwait.For(h.t, 5*time.Second, what, func() bool {
		list = h.runs(name)
		count := 0
		for _, r := range list {
			if ok(r) {
				count++
			}
		}
		return count >= n
	})
	return list
}

func ended(r steward.Run) bool   { return r.Status.Done() }
func running(r steward.Run) bool { return r.Status == steward.RunRunning }
