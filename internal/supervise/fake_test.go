package supervise

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/proc"
	"github.com/stewardhq/steward/internal/testwait"
)

// This file holds the fakes that let the state machine run on every OS
// with no real process and no real waiting: a clock that moves only when
// told, processes that exit when told, and an in-memory event recorder.

// fakeClock is a Clock that moves only by Advance. It is safe for
// concurrent use.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*fakeTimer]bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), timers: map[*fakeTimer]bool{}}
}

type fakeTimer struct {
	clock *fakeClock
	at    time.Time
	d     time.Duration
	c     chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, at: c.now.Add(d), d: d, c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.now
		return t
	}
	c.timers[t] = true
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	pending := t.clock.timers[t]
	delete(t.clock.timers, t)
	return pending
}

// Advance moves the clock by d and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for t := range c.timers {
		if !t.at.After(c.now) {
			t.c <- c.now
			delete(c.timers, t)
		}
	}
}

// waitTimer waits until a timer set for a duration within [lo, hi] is
// pending, and returns that duration.
func (c *fakeClock) waitTimer(t *testing.T, lo, hi time.Duration) time.Duration {
	t.Helper()
	var got time.Duration
	testwait.NoError(t, 10*time.Second, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		var ds []time.Duration
		for tm := range c.timers {
			if tm.d >= lo && tm.d <= hi {
				got = tm.d
				return nil
			}
			ds = append(ds, tm.d)
		}
		slices.Sort(ds)
		return fmt.Errorf("no timer within [%v, %v]; pending: %v", lo, hi, ds)
	})
	return got
}

// fakeExit is the ExitStatus of a fakeProcess.
type fakeExit struct {
	code int
	desc string
}

func (e fakeExit) ExitCode() int { return e.code }
func (e fakeExit) String() string {
	if e.desc != "" {
		return e.desc
	}
	return "exit status " + strconv.Itoa(e.code)
}

// fakeProcess is a Process that exits when told to, or at the stop signal
// unless its command has the argument "ignore-term".
type fakeProcess struct {
	pid        int
	ignoreTerm bool
	once       sync.Once
	exit       chan fakeExit
}

// Exit makes the process exit with code; later exits are ignored.
func (p *fakeProcess) Exit(code int) { p.end(fakeExit{code: code}) }

func (p *fakeProcess) end(e fakeExit) { p.once.Do(func() { p.exit <- e }) }

func (p *fakeProcess) Pid() int { return p.pid }

func (p *fakeProcess) Signal(sig string) error {
	if !p.ignoreTerm {
		p.end(fakeExit{code: -1, desc: "signal: " + strings.ToLower(sig)})
	}
	return nil
}

func (p *fakeProcess) KillTree() error {
	p.end(fakeExit{code: -1, desc: "signal: killed"})
	return nil
}

func (p *fakeProcess) Wait() (ExitStatus, error) { return <-p.exit, nil }

// fakeStarter is a Starter of fakeProcesses; a command "missing" fails to
// start as a program not found does, and failNext makes the next starts of
// a service fail. It is safe for concurrent use.
type fakeStarter struct {
	mu    sync.Mutex
	procs map[string][]*fakeProcess
	fails map[string][]error // the errors of the next starts, by service
	pids  int
}

var _ Starter = (*fakeStarter)(nil)

func (f *fakeStarter) Start(spec proc.Spec) (Process, error) {
	if spec.Path == "missing" {
		return nil, fmt.Errorf("look up %s in PATH: %w", spec.Path, exec.ErrNotFound)
	}
	svc := ""
	for _, kv := range spec.Env {
		if v, ok := strings.CutPrefix(kv, "STEWARD_SERVICE="); ok {
			svc = v
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if errs := f.fails[svc]; len(errs) > 0 {
		f.fails[svc] = errs[1:]
		return nil, errs[0]
	}
	f.pids++
	p := &fakeProcess{pid: 1000 + f.pids, ignoreTerm: slices.Contains(spec.Args, "ignore-term"), exit: make(chan fakeExit, 1)}
	f.procs[svc] = append(f.procs[svc], p)
	return p, nil
}

// failNext makes the next len(errs) starts of svc fail with errs, in order.
func (f *fakeStarter) failNext(svc string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails[svc] = append(f.fails[svc], errs...)
}

// count returns how many processes of svc were started.
func (f *fakeStarter) count(svc string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.procs[svc])
}

// memRecorder is a Recorder that keeps events in memory, numbered in the
// order they came. It is safe for concurrent use.
type memRecorder struct {
	mu  sync.Mutex
	evs []steward.Event
}

func (r *memRecorder) Record(_ context.Context, ev steward.Event) (steward.Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev.ID = int64(len(r.evs) + 1)
	r.evs = append(r.evs, ev)
	return ev, nil
}

// find returns the ID of the first state event of svc from state from to
// state to at or after the event after, 0 when there is none.
func (r *memRecorder) find(svc string, from, to steward.State, after int64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.evs {
		if ev.ID > after && ev.Type == steward.EventState && ev.Service == svc && ev.From == from && ev.To == to {
			return ev.ID
		}
	}
	return 0
}

// reasons returns the reasons of the events of type typ of svc.
func (r *memRecorder) reasons(svc, typ string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.evs {
		if ev.Type == typ && ev.Service == svc {
			out = append(out, ev.Reason)
		}
	}
	return out
}

// transitions returns the state changes of svc as "from>to".
func (r *memRecorder) transitions(svc string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.evs {
		if ev.Type == steward.EventState && ev.Service == svc {
			out = append(out, string(ev.From)+">"+string(ev.To))
		}
	}
	return out
}

// conditions is a Monitor that records what it hears.
type conditions struct {
	mu   sync.Mutex
	list []string // "service cond active: message"
}

func (c *conditions) ServiceCondition(_ context.Context, svc, cond string, active bool, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, fmt.Sprintf("%s %s %v: %s", svc, cond, active, msg))
}

// count returns how many recorded conditions start with prefix.
func (c *conditions) count(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

func (c *conditions) all() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.list, "\n")
}

func waitCount(t *testing.T, mon *conditions, prefix string, n int) {
	t.Helper()
	testwait.NoError(t, 10*time.Second, func() error {
		if got := mon.count(prefix); got < n {
			return fmt.Errorf("%d conditions %q, want %d; have:\n%s", got, prefix, n, mon.all())
		}
		return nil
	})
}

// fakes is a supervisor over fake processes, a fake clock and in-memory
// events.
type fakes struct {
	t      *testing.T
	sup    *Supervisor
	clock  *fakeClock
	procs  *fakeStarter
	events *memRecorder
	mon    *conditions
}

// startFakes parses yaml and returns a supervisor over it with fakes,
// shut down when the test ends, which fails if goroutines are left.
func startFakes(t *testing.T, yaml string) *fakes {
	t.Helper()
	return startFakesWith(t, yaml, nil)
}

// startFakesWith is startFakes with more options, which set sets.
func startFakesWith(t *testing.T, yaml string, set func(*Options)) *fakes {
	t.Helper()
	testwait.NoLeak(t)
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "steward.yaml"), []byte("data_dir: '"+dir+"'\n"+yaml), config.Registry{})
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	f := &fakes{t: t, clock: newFakeClock(), procs: &fakeStarter{procs: map[string][]*fakeProcess{}, fails: map[string][]error{}}, events: &memRecorder{}, mon: &conditions{}}
	opts := Options{Events: f.events, LogDir: filepath.Join(dir, "logs"), Clock: f.clock, Starter: f.procs, Monitor: f.mon}
	if set != nil {
		set(&opts)
	}
	f.sup, err = New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f.sup.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		f.sup.Close()
	})
	return f
}

// proc waits for the n-th (1-based) process of svc and returns it.
func (f *fakes) proc(svc string, n int) *fakeProcess {
	f.t.Helper()
	testwait.For(f.t, 10*time.Second, fmt.Sprintf("process %d of %s", n, svc), func() bool { return f.procs.count(svc) >= n })
	f.procs.mu.Lock()
	defer f.procs.mu.Unlock()
	return f.procs.procs[svc][n-1]
}

// waitState waits until svc is in state want and returns its status.
func (f *fakes) waitState(svc string, want steward.State) steward.ServiceStatus {
	f.t.Helper()
	var st steward.ServiceStatus
	testwait.NoError(f.t, 10*time.Second, func() error {
		var err error
		if st, err = f.sup.Get(svc); err != nil {
			return err
		}
		if st.State != want {
			return fmt.Errorf("%s is %s (%s), want %s", svc, st.State, st.Reason, want)
		}
		return nil
	})
	return st
}

func (f *fakes) ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	f.t.Cleanup(cancel)
	return c
}
