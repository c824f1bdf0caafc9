// Package logwatch provides the built-in kind logwatch: a service hosted in
// steward's process that follows log files and globs, and the output of
// supervised services (taken live from their captured output, so that
// their files are not read twice), and checks every line against its
// rules (see the logwatch library in internal/logwatch). Each hit is
// recorded as an event of type log and raises the rule's alert: one alert
// per incident, which fires when the incident starts and resolves when it
// ends. A rule with a count condition ("5 in 1m") has an incident while
// the condition holds; a rule without one has an incident from its first
// match until no line matched for Options.Quiet. The per-rule counters are
// exposed to Prometheus through Kind, a prometheus.Collector. It decodes
// its own services' configuration (Definition); cmd/steward lists it in
// the built-in kinds, and the daemon builds its runtime.
package logwatch

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/alert"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/logcap"
	watch "github.com/stewardhq/steward/internal/logwatch"
	"github.com/stewardhq/steward/internal/supervise"
)

// DefaultQuiet is how long after its last match the alert of a rule
// without a count condition resolves.
const DefaultQuiet = 5 * time.Minute

// Tunables.
const (
	// maxQueue is how many hits may wait to be handled. Past it, the hits
	// of rules without a condition are only counted, until the queue
	// drains: a flood of matching lines must not grow memory without
	// bound. A rule with a condition has at most two hits per incident.
	maxQueue = 1024
	// recordEvery is the least time between two events of one rule
	// without a count condition; the matches in between are counted in
	// the next event.
	recordEvery = time.Second
	stopTimeout = 10 * time.Second
)

// RulePrefix starts the rule of every alert a log watch raises: the rule
// "log:NAME" for the log watch's rule NAME, about the logwatch service.
const RulePrefix = "log:"

// Alerter takes the observations of the rules' conditions.
type Alerter interface {
	Observe(ctx context.Context, c alert.Condition)
}

// Recorder records events.
type Recorder interface {
	Record(ctx context.Context, ev steward.Event) (steward.Event, error)
}

// Subscriber is a supervised service's captured output.
type Subscriber interface {
	Subscribe() (<-chan logcap.Line, func())
}

// Options configure the logwatch kind.
type Options struct {
	// Store keeps the read positions of the files; nil keeps none. The
	// kind only hands it to its watchers.
	Store  watch.OffsetStore
	Alerts Alerter  // nil raises no alerts
	Events Recorder // nil records no events
	// Logs returns the captured output of the named supervised service,
	// for the services a log watch follows; nil follows none.
	Logs   func(service string) (Subscriber, error)
	Logger *slog.Logger
	// Quiet is DefaultQuiet when 0.
	Quiet time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NoEvents makes the watchers poll only (tests).
	NoEvents bool
}

// Kind is the logwatch kind: it makes a Runner per service and collects
// the counters of the running ones. It is safe for concurrent use.
type Kind struct {
	o        Options
	mu       sync.Mutex
	watchers map[string]*watch.Watcher // of the running services, by name
}

var (
	_ supervise.NewRunner  = (*Kind)(nil).NewRunner
	_ prometheus.Collector = (*Kind)(nil)
)

// New returns the logwatch kind.
func New(o Options) *Kind {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Quiet = cmp.Or(o.Quiet, DefaultQuiet)
	return &Kind{o: o, watchers: map[string]*watch.Watcher{}}
}

// NewRunner makes the runner of a logwatch service.
func (k *Kind) NewRunner(cfg *config.Service) (supervise.Runner, error) {
	spec, ok := cfg.Spec.(*watch.Config)
	if !ok {
		return nil, fmt.Errorf("service %s: not of kind logwatch", cfg.Name)
	}
	r := &runner{k: k, name: cfg.Name, cfg: *spec, rules: map[string]*ruleState{}, wake: make(chan struct{}, 1)}
	r.cfg.Name = cfg.Name
	for i, rc := range r.cfg.Rules {
		name := rc.Name
		if name == "" {
			name = fmt.Sprintf("rule-%d", i+1)
		}
		when, err := watch.ParseWhen(rc.When)
		if err != nil {
			return nil, fmt.Errorf("service %s: rule %s: %w", cfg.Name, name, err)
		}
		r.rules[name] = &ruleState{when: when}
		r.order = append(r.order, name)
	}
	return r, nil
}

// Stats returns the counters of every running log watch, by service.
func (k *Kind) Stats() map[string]watch.Stats {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]watch.Stats, len(k.watchers))
	for name, w := range k.watchers {
		out[name] = w.Stats()
	}
	return out
}

var (
	descLines    = prometheus.NewDesc("steward_logwatch_lines_total", "Lines a log watch read from its files and the services it follows.", []string{"service"}, nil)
	descBytes    = prometheus.NewDesc("steward_logwatch_bytes_total", "Bytes a log watch read from its files.", []string{"service"}, nil)
	descFiles    = prometheus.NewDesc("steward_logwatch_files", "Files a log watch is reading.", []string{"service"}, nil)
	descMissed   = prometheus.NewDesc("steward_logwatch_missed_lines_total", "Lines of followed services a log watch dropped because it fell behind.", []string{"service"}, nil)
	descMatches  = prometheus.NewDesc("steward_logwatch_matches_total", "Lines a log watch rule matched (and did not exclude).", []string{"service", "rule", "severity"}, nil)
	descExcluded = prometheus.NewDesc("steward_logwatch_excluded_total", "Lines a log watch rule matched but excluded.", []string{"service", "rule"}, nil)
	descEvents   = prometheus.NewDesc("steward_logwatch_rule_events_total", "Hits a log watch rule raised, the ends of its conditions included.", []string{"service", "rule"}, nil)
	descActive   = prometheus.NewDesc("steward_logwatch_rule_active", "1 while a log watch rule's count condition holds.", []string{"service", "rule"}, nil)
)

// Describe sends the descriptions of the counters.
func (k *Kind) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLines, descBytes, descFiles, descMissed, descMatches, descExcluded, descEvents, descActive} {
		ch <- d
	}
}

// Collect sends the counters of every running log watch. They count from
// the start of its service: Prometheus takes a restart as a counter reset.
func (k *Kind) Collect(ch chan<- prometheus.Metric) {
	for name, st := range k.Stats() {
		ch <- prometheus.MustNewConstMetric(descLines, prometheus.CounterValue, float64(st.Lines), name)
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(st.Bytes), name)
		ch <- prometheus.MustNewConstMetric(descFiles, prometheus.GaugeValue, float64(st.Files), name)
		ch <- prometheus.MustNewConstMetric(descMissed, prometheus.CounterValue, float64(st.Missed), name)
		for _, r := range st.Rules {
			ch <- prometheus.MustNewConstMetric(descMatches, prometheus.CounterValue, float64(r.Matches), name, r.Rule, r.Severity)
			ch <- prometheus.MustNewConstMetric(descExcluded, prometheus.CounterValue, float64(r.Excluded), name, r.Rule)
			ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(r.Events), name, r.Rule)
			active := 0.0
			if r.Active {
				active = 1
			}
			ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, active, name, r.Rule)
		}
	}
}

// runner is one logwatch service.
type runner struct {
	k     *Kind
	name  string
	cfg   watch.Config
	order []string // rule names in order

	// The queue of hits from the watcher's goroutines, and the hits of
	// each rule only counted because the queue was full.
	mu      sync.Mutex
	queue   []watch.Event
	dropped map[string]int
	wake    chan struct{}

	// Owned by the goroutine of process.
	rules map[string]*ruleState
}

// ruleState is what a runner knows of one rule's incident.
type ruleState struct {
	when       watch.When
	open       bool      // an incident is under way (its alert observed active)
	last       time.Time // the last match, for a rule without a condition
	recorded   time.Time // the last event recorded, for a rule without a condition
	suppressed int       // matches since then not recorded as events
	lastHit    watch.Event
}

// Run follows the files and services until ctx ends; it is ready once the
// read positions are loaded. The alerts of its rules resolve when it stops.
func (r *runner) Run(ctx context.Context, ready func()) error {
	w, err := watch.New(r.cfg, watch.Options{
		Store:    r.k.o.Store,
		Handler:  r.add,
		Logger:   r.k.o.Logger,
		Now:      r.k.o.Now,
		NoEvents: r.k.o.NoEvents,
	})
	if err != nil {
		return fmt.Errorf("logwatch %s: %w", r.name, err)
	}
	if err := w.Start(ctx); err != nil {
		return err
	}
	r.k.mu.Lock()
	r.k.watchers[r.name] = w
	r.k.mu.Unlock()

	var follows sync.WaitGroup
	for _, svc := range r.cfg.Services {
		if r.k.o.Logs == nil {
			break
		}
		lg, err := r.k.o.Logs(svc)
		if err != nil {
			r.k.o.Logger.Warn("logwatch: cannot follow a service", "service", r.name, "follows", svc, "err", err)
			continue
		}
		lines, cancel := lg.Subscribe()
		follows.Go(func() {
			defer cancel()
			w.Follow(ctx, svc, lines)
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.process(ctx)
	}()
	ready()
	<-ctx.Done()

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	err = w.Stop(sctx)
	follows.Wait()
	<-done
	r.k.mu.Lock()
	delete(r.k.watchers, r.name)
	r.k.mu.Unlock()
	// What was read before the stop still counts; then every incident ends.
	r.drain(sctx)
	for _, name := range r.order {
		st := r.rules[name]
		if st.suppressed > 0 {
			r.record(sctx, r.k.o.Now(), fmt.Sprintf("log rule %s (%s): %d more matches", name, st.lastHit.Severity, st.suppressed))
			st.suppressed = 0
		}
		if st.open {
			st.open = false
			r.observe(sctx, name, st.lastHit.Severity, false, r.name+" stopped")
		}
	}
	if err != nil {
		r.k.o.Logger.Warn("logwatch: stop", "service", r.name, "err", err)
	}
	return nil
}

// add is the watcher's Handler: it queues ev and returns at once.
func (r *runner) add(ev watch.Event) {
	r.mu.Lock()
	// r.rules is not written once made, and a rule's when never changes.
	if st := r.rules[ev.Rule]; len(r.queue) >= maxQueue && st != nil && st.when.IsZero() {
		if r.dropped == nil {
			r.dropped = map[string]int{}
		}
		r.dropped[ev.Rule]++
		r.mu.Unlock()
		return
	}
	r.queue = append(r.queue, ev)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// process handles the queued hits, and ends the incidents of rules
// without a condition once quiet, until ctx ends.
func (r *runner) process(ctx context.Context) {
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
			r.drain(ctx)
		case <-tk.C:
			r.tick(ctx)
		}
	}
}

// drain handles every queued hit.
func (r *runner) drain(ctx context.Context) {
	for {
		r.mu.Lock()
		evs, dropped := r.queue, r.dropped
		r.queue, r.dropped = nil, nil
		r.mu.Unlock()
		for _, ev := range evs {
			r.handle(ctx, ev)
		}
		// Counted in the rule's next event.
		now := r.k.o.Now()
		for rule, n := range dropped {
			st := r.rules[rule]
			st.suppressed += n
			st.last = now
		}
		if len(evs) == 0 {
			return
		}
	}
}

// handle records ev and observes its rule's condition.
func (r *runner) handle(ctx context.Context, ev watch.Event) {
	st := r.rules[ev.Rule]
	if st == nil {
		return
	}
	now := r.k.o.Now()
	switch {
	case ev.Resolved:
		if !st.open {
			return
		}
		st.open = false
		msg := fmt.Sprintf("fewer than %d matches in %s", st.when.Count, st.when.Window)
		r.record(ctx, ev.Time, fmt.Sprintf("log rule %s: condition %s no longer holds", ev.Rule, whenText(st.when)))
		r.observe(ctx, ev.Rule, ev.Severity, false, msg)
	case st.when.IsZero():
		st.last, st.lastHit = now, ev
		if !st.open {
			st.open = true
			r.observe(ctx, ev.Rule, ev.Severity, true, hitText(ev))
		}
		if now.Sub(st.recorded) < recordEvery {
			st.suppressed++
			return
		}
		r.recordHit(ctx, st, ev, now)
	default:
		st.open, st.lastHit = true, ev
		r.recordHit(ctx, st, ev, now)
		r.observe(ctx, ev.Rule, ev.Severity, true, fmt.Sprintf("%s (%s)", hitText(ev), whenText(st.when)))
	}
}

// tick records the matches left uncounted and ends the quiet incidents.
func (r *runner) tick(ctx context.Context) {
	now := r.k.o.Now()
	for _, name := range r.order {
		st := r.rules[name]
		if !st.when.IsZero() {
			continue
		}
		if st.suppressed > 0 && now.Sub(st.recorded) >= recordEvery {
			n := st.suppressed
			st.suppressed, st.recorded = 0, now
			r.record(ctx, now, fmt.Sprintf("log rule %s (%s): %d more matches", name, st.lastHit.Severity, n))
		}
		if st.open && now.Sub(st.last) >= r.k.o.Quiet {
			st.open = false
			r.observe(ctx, name, st.lastHit.Severity, false, fmt.Sprintf("no match for %s", r.k.o.Quiet))
		}
	}
}

func (r *runner) recordHit(ctx context.Context, st *ruleState, ev watch.Event, now time.Time) {
	reason := fmt.Sprintf("log rule %s (%s) matched", ev.Rule, ev.Severity)
	if !st.when.IsZero() {
		reason = fmt.Sprintf("log rule %s (%s): %s", ev.Rule, ev.Severity, whenText(st.when))
	}
	reason += " in " + ev.Source + ": " + ev.Message
	if st.suppressed > 0 {
		reason += fmt.Sprintf(" (and %d matches before it)", st.suppressed)
	}
	st.suppressed, st.recorded = 0, now
	r.record(ctx, ev.Time, reason)
}

func (r *runner) record(ctx context.Context, t time.Time, reason string) {
	if r.k.o.Events == nil {
		return
	}
	ev := steward.Event{Time: t.UTC(), Type: steward.EventLog, Service: r.name, Reason: reason}
	if _, err := r.k.o.Events.Record(context.WithoutCancel(ctx), ev); err != nil {
		r.k.o.Logger.Error("logwatch: record event", "service", r.name, "err", err)
	}
}

func (r *runner) observe(ctx context.Context, rule, severity string, active bool, msg string) {
	if r.k.o.Alerts == nil {
		return
	}
	r.k.o.Alerts.Observe(context.WithoutCancel(ctx), alert.Condition{
		Rule: RulePrefix + rule, Subject: r.name, Active: active, Severity: severity, Message: msg,
	})
}

// hitText is what an alert says of a hit: where, and the rule's message.
func hitText(ev watch.Event) string {
	return ev.Source + ": " + ev.Message
}

func whenText(w watch.When) string { return w.String() }
