package logwatch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/alert"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// conditions records the observations of the rules' conditions.
type conditions struct {
	mu   sync.Mutex
	list []alert.Condition
}

func (c *conditions) Observe(_ context.Context, cond alert.Condition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, cond)
}

// seen returns the observations of rule as "+" (active) and "-".
func (c *conditions) seen(rule string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, cond := range c.list {
		if cond.Rule == RulePrefix+rule {
			if cond.Active {
				b.WriteString("+")
			} else {
				b.WriteString("-")
			}
		}
	}
	return b.String()
}

// events records events.
type events struct {
	mu   sync.Mutex
	list []steward.Event
}

func (e *events) Record(_ context.Context, ev steward.Event) (steward.Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
	return ev, nil
}

func (e *events) reasons() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.list {
		out = append(out, ev.Reason)
	}
	return out
}

// fakeLog is a followed service's output.
type fakeLog struct{ ch chan logcap.Line }

func (f *fakeLog) Subscribe() (<-chan logcap.Line, func()) { return f.ch, func() {} }

func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Fatal(err)
		}
	}
}

// harness runs the logwatch service "applog" of a config.
type harness struct {
	t      *testing.T
	dir    string
	st     *store.Store
	conds  *conditions
	events *events
	kind   *Kind
	app    *fakeLog
	yaml   string
	// skew is how far the kind's clock is ahead of the wall clock, in
	// nanoseconds: a test moves it on instead of sleeping.
	skew atomic.Int64
}

func newHarness(t *testing.T, yaml string) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), conds: &conditions{}, events: &events{}, app: &fakeLog{ch: make(chan logcap.Line, 10)}}
	h.yaml = strings.ReplaceAll(yaml, "{{dir}}", h.dir)
	var err error
	h.st, err = store.Open(context.Background(), filepath.Join(h.dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.st.Close() })
	h.kind = New(Options{
		Store: h.st, Alerts: h.conds, Events: h.events, Quiet: 300 * time.Millisecond, NoEvents: true,
		Now: func() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) },
		Logs: func(name string) (Subscriber, error) {
			if name != "app" {
				return nil, fmt.Errorf("no service %s", name)
			}
			return h.app, nil
		},
	})
	return h
}

// start runs the service until the returned stop is called, once it
// follows the files of the test's directory.
func (h *harness) start() (stop func()) {
	h.t.Helper()
	c, err := config.Parse(filepath.Join(h.dir, "steward.yaml"), []byte(h.yaml), registry())
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := h.kind.NewRunner(c.Services["applog"])
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		h.t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		h.t.Fatal("not ready")
	}
	testwait.NoError(h.t, 10*time.Second, func() error {
		if n := h.kind.Stats()["applog"].Files; n == 0 {
			return fmt.Errorf("following %d files", n)
		}
		return nil
	})
	return func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Run = %v", err)
		}
	}
}

const watchYAML = `services:
  app: {command: x}
  applog:
    kind: logwatch
    files: ["{{dir}}/*.log"]
    service: app
    poll: 20ms
    rules:
      - {name: burst, match: 'ERROR (?P<what>\w+)', when: "2 in 400ms", severity: critical, message: "error in $what"}
      - {name: panic, match: panic, exclude: "panic: test"}
`

func TestIncidents(t *testing.T) {
	h := newHarness(t, watchYAML)
	log := filepath.Join(h.dir, "app.log")
	appendLines(t, log, "ERROR old", "ERROR old", "panic old") // before the first start: not read
	stop := h.start()

	// Two errors within the window start one incident; more within it
	// change nothing; it ends once fewer than two fall in the window.
	appendLines(t, log, "ERROR db", "ERROR db", "ERROR db", "ok")
	testwait.NoError(t, 5*time.Second, func() error {
		if got := h.conds.seen("burst"); got != "+-" {
			return fmt.Errorf("burst observations %q, want +-", got)
		}
		return nil
	})
	// A rule without a condition: an incident from the first match until
	// Quiet passed without one; excluded lines do not count.
	appendLines(t, log, "panic: test", "panic here")
	testwait.NoError(t, 5*time.Second, func() error {
		if len(h.events.reasons()) < 3 {
			return fmt.Errorf("events: %q", h.events.reasons())
		}
		return nil
	})
	testwait.NoError(t, 5*time.Second, func() error {
		if got := h.conds.seen("panic"); got != "+-" {
			return fmt.Errorf("panic observations %q, want +-", got)
		}
		return nil
	})
	h.skew.Add(int64(recordEvery)) // else the next match only counts in a later event
	h.app.ch <- logcap.Line{Text: "panic in the app", Time: time.Now()}
	testwait.NoError(t, 5*time.Second, func() error {
		if got := h.conds.seen("panic"); got != "+-+-" {
			return fmt.Errorf("panic observations %q, want +-+-", got)
		}
		return nil
	})
	reasons := strings.Join(h.events.reasons(), "\n")
	for _, want := range []string{
		"log rule burst (critical): 2 in 400ms in " + log + ": error in db",
		"log rule burst: condition 2 in 400ms no longer holds",
		"log rule panic (warning) matched in " + log + ": panic here",
		"log rule panic (warning) matched in service:app: panic in the app",
	} {
		if !strings.Contains(reasons, want) {
			t.Errorf("events lack %q:\n%s", want, reasons)
		}
	}
	if strings.Contains(reasons, "error in old") || strings.Contains(reasons, "panic old") || strings.Contains(reasons, "panic: test") {
		t.Errorf("events of old or excluded lines:\n%s", reasons)
	}

	// The counters are exposed while the service runs.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h.kind)
	if got, want := matches(t, reg), "burst/critical=3 panic/warning=2"; got != want {
		t.Errorf("steward_logwatch_matches_total: %s, want %s", got, want)
	}

	// An incident open when the service stops ends with it.
	appendLines(t, log, "panic again")
	testwait.NoError(t, 5*time.Second, func() error {
		if got := h.conds.seen("panic"); got != "+-+-+" {
			return fmt.Errorf("panic observations %q, want +-+-+", got)
		}
		return nil
	})
	stop()
	if got := h.conds.seen("panic"); got != "+-+-+-" {
		t.Errorf("after stop: %q, want +-+-+-", got)
	}
	if got := matches(t, reg); got != "" {
		t.Errorf("series of a stopped watch: %s", got)
	}

	// A restart neither reads the old lines again nor misses new ones.
	appendLines(t, log, "panic while stopped")
	before := len(h.events.reasons())
	stop = h.start()
	testwait.NoError(t, 5*time.Second, func() error {
		if got := h.conds.seen("panic"); got != "+-+-+-+" {
			return fmt.Errorf("panic observations %q, want +-+-+-+", got)
		}
		return nil
	})
	stop()
	after := h.events.reasons()[before:]
	if len(after) != 1 || !strings.Contains(after[0], "panic while stopped") {
		t.Errorf("events after restart: %q", after)
	}
}

// TestFlood: a flood of matches is recorded as a few events that count
// the rest, and raises one incident.
func TestFlood(t *testing.T) {
	h := newHarness(t, watchYAML)
	log := filepath.Join(h.dir, "app.log")
	appendLines(t, log)
	stop := h.start()
	defer stop()
	lines := make([]string, 5000)
	for i := range lines {
		lines[i] = fmt.Sprintf("panic %d", i)
	}
	appendLines(t, log, lines...)
	testwait.NoError(t, 10*time.Second, func() error {
		total := 0
		for _, r := range h.events.reasons() {
			var n int
			switch {
			case strings.Contains(r, "more matches"):
				fmt.Sscanf(r[strings.Index(r, "): ")+3:], "%d", &n)
			case strings.Contains(r, "matches before it"):
				fmt.Sscanf(r[strings.LastIndex(r, "(and ")+5:], "%d", &n)
				n++
			default:
				n = 1
			}
			total += n
		}
		if total != len(lines) {
			return fmt.Errorf("events count %d matches, want %d", total, len(lines))
		}
		return nil
	})
	if n := len(h.events.reasons()); n > 10 {
		t.Errorf("%d events for a flood, want a few", n)
	}
	if got := h.conds.seen("panic"); strings.Count(got, "+") != 1 {
		t.Errorf("observations %q, want one incident", got)
	}
}

// matches returns the series of steward_logwatch_matches_total in reg as
// "RULE/SEVERITY=N ...".
func matches(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if mf.GetName() != "steward_logwatch_matches_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			out = append(out, fmt.Sprintf("%s/%s=%g", l["rule"], l["severity"], m.GetCounter().GetValue()))
		}
	}
	return strings.Join(out, " ")
}

// registry is the configuration registry with this kind only.
func registry() config.Registry {
	return config.Registry{Kinds: map[string]config.KindSchema{Name: Definition().Schema}}
}
