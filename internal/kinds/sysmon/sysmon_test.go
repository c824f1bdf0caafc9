package sysmon

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/alert"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

var ctx = context.Background()

// fakeSampler returns the figures a test sets.
type fakeSampler struct {
	mu      sync.Mutex
	sys     metrics.System
	err     error
	samples int // how many were taken
}

func (f *fakeSampler) set(cpu, mem float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sys.CPUPercent, f.sys.MemPercent = cpu, mem
}

func (f *fakeSampler) Sample(context.Context) (metrics.System, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.samples++
	return f.sys, f.err
}

func parse(t *testing.T, yaml string) *config.Service {
	t.Helper()
	c, err := config.Parse(filepath.Join(t.TempDir(), "s.yaml"), []byte(yaml), registry())
	if err != nil {
		t.Fatal(err)
	}
	return c.Services["machine"]
}

// TestThresholdsFire: cpu "> 80% for 5m" fires only after five minutes
// above 80 % on the injected clock; memory "> 85%" at once; both resolve
// when the figures fall.
func TestThresholdsFire(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := alert.New(ctx, alert.Options{Store: st, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	h, err := metrics.NewHistory(ctx, metrics.HistoryOptions{Store: st, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeSampler{}
	k := New(Options{Alerts: eng, History: h, NewSampler: func(*config.Service) Sampler { return fs }})
	cfg := parse(t, `services:
  machine:
    kind: sysmon
    alert: {cpu: "> 80% for 5m", memory: "> 85%", swap: "> 1GiB", "disk:/srv": "> 90%"}
`)
	r, err := k.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rn := r.(*runner)
	firing := func() map[string]steward.AlertState {
		list, err := eng.Alerts(ctx, store.AlertFilter{Open: true})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]steward.AlertState{}
		for _, a := range list {
			out[a.Rule] = a.State
		}
		return out
	}
	fs.set(90, 50)
	rn.sample(ctx)
	if got := firing(); got["cpu"] != steward.AlertPending || len(got) != 1 {
		t.Fatalf("after one hot sample: %v", got)
	}
	now = now.Add(4 * time.Minute)
	fs.set(95, 90)
	rn.sample(ctx)
	if got := firing(); got["cpu"] != steward.AlertPending || got["memory"] != steward.AlertFiring {
		t.Fatalf("after 4 minutes: %v", got)
	}
	now = now.Add(time.Minute)
	rn.sample(ctx)
	if got := firing(); got["cpu"] != steward.AlertFiring {
		t.Fatalf("after 5 minutes: %v", got)
	}
	a, _ := eng.Alerts(ctx, store.AlertFilter{Open: true})
	for _, x := range a {
		if x.Rule == "cpu" && x.Message != "cpu is 95.0%, threshold > 80% for 5m" {
			t.Errorf("message = %q", x.Message)
		}
	}
	fs.set(10, 10)
	rn.sample(ctx)
	if got := firing(); len(got) != 0 {
		t.Fatalf("after cooling down: %v", got)
	}
	if last := k.Last()["machine"]; last.CPUPercent != 10 {
		t.Errorf("last sample = %+v", last)
	}
	if got := h.Latest(time.Hour); len(got) == 0 {
		t.Error("no samples recorded")
	}
}

// TestRun: the runner is ready after its first sample, samples every
// `every`, logs a sampling error once, and resolves its alerts when it
// stops.
func TestRun(t *testing.T) {
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := alert.New(ctx, alert.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeSampler{err: errors.New("no load here")}
	fs.set(99, 0)
	k := New(Options{Alerts: eng, NewSampler: func(*config.Service) Sampler { return fs }})
	r, err := k.NewRunner(parse(t, "services:\n  machine: {kind: sysmon, every: 10ms, alert: {cpu: \"> 50%\"}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	ready := make(chan struct{})
	done := make(chan error)
	go func() { done <- r.Run(rctx, func() { close(ready) }) }()
	<-ready
	if c := eng.Counts(); c[steward.AlertFiring] != 1 {
		t.Errorf("counts = %v", c)
	}
	// A few more samples, the threshold still holding, raise no other alert.
	testwait.For(t, 5*time.Second, "three more samples", func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		return fs.samples >= 4
	})
	if c := eng.Counts(); c[steward.AlertFiring] != 1 {
		t.Errorf("counts after more samples = %v", c)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if c := eng.Counts(); c[steward.AlertFiring] != 0 {
		t.Errorf("counts after stop = %v", c)
	}
	if len(k.Last()) != 0 {
		t.Errorf("last after stop = %v", k.Last())
	}
	if _, err := k.NewRunner(&config.Service{Name: "x"}); err == nil {
		t.Error("NewRunner of a service without sysmon settings")
	}
}

// TestRealSampler runs the default sampler once.
func TestRealSampler(t *testing.T) {
	k := New(Options{})
	r, err := k.NewRunner(parse(t, "services:\n  machine: {kind: sysmon, alert: {\"disk:/\": \"> 99.9%\"}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r.(*runner).sample(ctx)
	if _, ok := k.Last()["machine"].Figure("disk:/", "%"); !ok {
		t.Errorf("no disk:/ figure: %+v", k.Last()["machine"].Filesystems)
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		unit string
		want string
	}{{85.04, "%", "85.0%"}, {3 << 30, "B", "3.0 GiB"}, {100, "B", "100.0 B"}, {1.234, "", "1.23"}} {
		if got := format(tt.v, tt.unit); got != tt.want {
			t.Errorf("format(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}

// registry is the configuration registry with this kind only.
func registry() config.Registry {
	return config.Registry{Kinds: map[string]config.KindSchema{Name: Definition().Schema}}
}
