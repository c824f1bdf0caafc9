package run

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// call is one action the step actor performed.
type call struct {
	name    string // WORKFLOW/STEP
	attempt int
	run     int64
	command []string
	env     map[string]string
}

// stepActor is an Actor for workflow steps: by default a step succeeds
// with no output; do sets what a step does.
type stepActor struct {
	mu    sync.Mutex
	calls []call
	do    map[string]func(ctx context.Context, c call) Outcome
}

func (a *stepActor) set(name string, f func(ctx context.Context, c call) Outcome) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.do[name] = f
}

func (a *stepActor) act(ctx context.Context, j *config.Job, r steward.Run) Outcome {
	c := call{name: j.Name, attempt: r.Attempt, run: r.ID}
	if j.Command != nil {
		c.command, c.env = j.Command.Command, j.Command.Env
	}
	a.mu.Lock()
	a.calls = append(a.calls, c)
	f := a.do[j.Name]
	a.mu.Unlock()
	if f == nil {
		return Outcome{}
	}
	return f(ctx, c)
}

func (a *stepActor) called() []call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

func (a *stepActor) names() []string {
	var out []string
	for _, c := range a.called() {
		out = append(out, c.name)
	}
	return out
}

func output(s string) func(context.Context, call) Outcome {
	return func(context.Context, call) Outcome { return Outcome{Output: []byte(s)} }
}

func fail(context.Context, call) Outcome { return Outcome{Err: errors.New("exit status 1")} }

func block(ctx context.Context, _ call) Outcome {
	<-ctx.Done()
	return Outcome{Err: ctx.Err()}
}

// wfHarness is an engine with workflows on a fake clock and a real store.
type wfHarness struct {
	t      *testing.T
	e      *Engine
	clock  *fakeClock
	store  *store.Store
	actor  *stepActor
	path   string
	bus    *fakeBus
	events *fakeEvents
	alerts *alertBook
	stop   func()
}

func newWF(t *testing.T) *wfHarness {
	t.Helper()
	testwait.NoLeak(t)
	path := filepath.Join(t.TempDir(), "steward.db")
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	h := &wfHarness{t: t, clock: &fakeClock{now: t0}, store: st, path: path, actor: &stepActor{do: map[string]func(context.Context, call) Outcome{}},
		bus: &fakeBus{}, events: &fakeEvents{}, alerts: &alertBook{}}
	h.start()
	t.Cleanup(func() {
		h.stop()
		h.store.Close()
	})
	return h
}

// start builds the engine over the store and runs its scheduler.
func (h *wfHarness) start() {
	h.e = New(Options{Store: h.store, Clock: h.clock, Act: h.actor.act, Bus: h.bus, Events: h.events, Alerts: h.alerts})
	if err := h.e.Recover(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.e.Run(context.Background())
	}()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			h.e.Close()
			<-done
		})
	}
}

// apply parses the workflows: section text (with a bus) and applies it.
func (h *wfHarness) apply(workflows string) {
	h.t.Helper()
	text := "data_dir: " + h.t.TempDir() + "\nbus: {}\nservices: {api: {command: 'true'}}\nworkflows:\n" + workflows
	cfg, err := config.Parse("", []byte(text), config.Registry{})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.e.Apply(context.Background(), cfg); err != nil {
		h.t.Fatal(err)
	}
}

func (h *wfHarness) run(name string, inputs map[string]string) steward.Run {
	h.t.Helper()
	r, err := h.e.StartWorkflow(context.Background(), name, steward.TriggerManual, nil, inputs)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// wait waits for run id to end and returns it with its steps.
func (h *wfHarness) wait(id int64) steward.Run {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.e.Wait(ctx, id); err != nil {
		h.t.Fatal(err)
	}
	r, err := h.e.Get(ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// waitStep waits until step name of run id is status, and returns the run.
func (h *wfHarness) waitStep(id int64, name string, status steward.RunStatus) steward.Run {
	h.t.Helper()
	var r steward.Run
	testwait.For(h.t, 10*time.Second, "step "+name+" "+string(status), func() bool {
		var err error
		r, err = h.e.Get(context.Background(), id)
		return err == nil && stepOf(r, name).Status == status
	})
	return r
}

func stepOf(r steward.Run, name string) steward.StepRun {
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	return steward.StepRun{}
}

func statuses(r steward.Run) string {
	var b []string
	for _, s := range r.Steps {
		b = append(b, s.Name+"="+string(s.Status))
	}
	return strings.Join(b, " ")
}

// waitRuns waits until workflow name has n runs and returns them, newest
// first.
func (h *wfHarness) waitRuns(name string, n int) []steward.Run {
	h.t.Helper()
	var list []steward.Run
	testwait.For(h.t, 10*time.Second, "runs of "+name, func() bool {
		var err error
		list, err = h.store.Runs(context.Background(), store.RunFilter{Name: name})
		return err == nil && len(list) >= n
	})
	return list
}

// fakeBus records what is published and delivers what the test sends to
// the subscribers of a subject.
type fakeBus struct {
	mu        sync.Mutex
	published []string // SUBJECT DATA
	subs      map[string]func(string, []byte)
}

func (b *fakeBus) Publish(_ context.Context, subject string, data []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.published = append(b.published, subject+" "+string(data))
	return nil
}

func (b *fakeBus) Subscribe(ctx context.Context, subject string, ready func(), fn func(string, []byte)) error {
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[string]func(string, []byte){}
	}
	b.subs[subject] = fn
	b.mu.Unlock()
	ready()
	<-ctx.Done()
	b.mu.Lock()
	delete(b.subs, subject)
	b.mu.Unlock()
	return nil
}

func (b *fakeBus) send(t *testing.T, subject string, data string) {
	t.Helper()
	var fn func(string, []byte)
	testwait.For(t, 5*time.Second, "a subscriber of "+subject, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		fn = b.subs[subject]
		return fn != nil
	})
	fn(subject, []byte(data))
}

// fakeEvents hands each subscriber the events the test sends.
type fakeEvents struct {
	mu   sync.Mutex
	subs []chan steward.Event
}

func (f *fakeEvents) Subscribe() (<-chan steward.Event, func()) {
	ch := make(chan steward.Event, 16)
	f.mu.Lock()
	f.subs = append(f.subs, ch)
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if i := slices.Index(f.subs, ch); i >= 0 {
			f.subs = slices.Delete(f.subs, i, i+1)
		}
	}
}

func (f *fakeEvents) send(t *testing.T, ev steward.Event) {
	t.Helper()
	testwait.For(t, 5*time.Second, "a subscriber of events", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.subs) > 0
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		ch <- ev
	}
}

// alertBook is an Alerter that also looks alerts up.
type alertBook struct{}

func (alertBook) JobCondition(context.Context, string, string, bool, string) {}

func (alertBook) Alert(_ context.Context, id int64) (steward.Alert, error) {
	sev := steward.SeverityWarning
	if id == 7 {
		sev = steward.SeverityCritical
	}
	return steward.Alert{ID: id, Rule: "cpu", Subject: "api", Severity: sev}, nil
}
