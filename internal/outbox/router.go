package outbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/store"
)

// DefaultGroupWait is a route's group_wait when none is set.
const DefaultGroupWait = 10 * time.Second

// retryEnqueue is how soon the Router tries again to enqueue a message the
// store refused.
const retryEnqueue = 5 * time.Second

// RouterConfig is the alerts.routes section: routes tried in order.
type RouterConfig struct {
	Routes []Route `json:"routes"`
}

// Route sends the alerts it matches to notifiers.
type Route struct {
	// Name names the route in messages and logs; default "route-N", N
	// from 1 in file order.
	Name  string   `json:"name,omitempty"`
	Match Match    `json:"match"`
	To    []string `json:"to"` // notifier names
	// GroupWait is how long the route collects alerts into one message
	// after the first that changed; 0 means DefaultGroupWait. Use a
	// negative value for none at all (config: "0s" maps to it).
	GroupWait time.Duration `json:"group_wait,omitempty"`
	// Repeat, when positive, resends what is still firing that long after
	// the last message; 0 means never.
	Repeat time.Duration `json:"repeat,omitempty"`
	// Continue makes alerts this route matches try the following routes
	// too; by default the first matching route is the only one.
	Continue bool `json:"continue,omitempty"`
}

// Match selects alerts. Every set field must match; the zero Match matches
// every alert. Values are globs with path.Match's syntax, except that '/'
// is a character like any other ("disk:*" matches "disk:/srv"), as in
// silences; a value without '*', '?', '[' or '\\' must be equal.
type Match struct {
	Severity []string          `json:"severity,omitempty"` // any of these
	Service  []string          `json:"service,omitempty"`  // any of these
	Rule     []string          `json:"rule,omitempty"`     // any of these
	Subject  []string          `json:"subject,omitempty"`  // any of these
	Labels   map[string]string `json:"labels,omitempty"`   // each label
}

// Matches reports whether m selects a.
func (m Match) Matches(a notify.Alert) bool {
	for _, f := range []struct {
		pats []string
		v    string
	}{{m.Severity, a.Severity}, {m.Service, a.Service}, {m.Rule, a.Rule}, {m.Subject, a.Subject}} {
		if len(f.pats) > 0 && !slices.ContainsFunc(f.pats, func(p string) bool { return glob(p, f.v) }) {
			return false
		}
	}
	for k, v := range m.Labels {
		if got, ok := a.Labels[k]; !ok || !glob(v, got) {
			return false
		}
	}
	return true
}

// glob reports whether s matches pattern pat; '/' is an ordinary character.
func glob(pat, s string) bool {
	if !strings.ContainsAny(pat, `*?[\`) {
		return pat == s
	}
	ok, _ := path.Match(strings.ReplaceAll(pat, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
	return ok
}

// Validate reports every problem with c, with fields such as
// "routes[0].to". It does not know which notifiers exist: see
// CheckNotifiers.
func (c RouterConfig) Validate() error {
	var p notify.Problems
	names := map[string]int{}
	for i, r := range c.Routes {
		p.Nest(fmt.Sprintf("routes[%d]", i), r.Validate())
		if name := r.name(i); names[name] > 0 {
			p.Add(fmt.Sprintf("routes[%d].name", i), "route %q is already defined", name)
		} else {
			names[name] = i + 1
		}
	}
	return p.Err()
}

// CheckNotifiers reports every notifier a route sends to that exists does
// not know.
func (c RouterConfig) CheckNotifiers(exists func(name string) bool) error {
	var p notify.Problems
	for i, r := range c.Routes {
		for j, to := range r.To {
			if !exists(to) {
				p.Add(fmt.Sprintf("routes[%d].to[%d]", i, j), "no notifier %q in notify", to)
			}
		}
	}
	return p.Err()
}

// Validate reports every problem with r.
func (r Route) Validate() error {
	var p notify.Problems
	if len(r.To) == 0 {
		p.Add("to", "needs at least one notifier")
	}
	seen := map[string]bool{}
	for j, to := range r.To {
		switch {
		case to == "":
			p.Add(fmt.Sprintf("to[%d]", j), "empty notifier name")
		case seen[to]:
			p.Add(fmt.Sprintf("to[%d]", j), "notifier %q is listed twice", to)
		}
		seen[to] = true
	}
	for j, s := range r.Match.Severity {
		if s == "" {
			p.Add(fmt.Sprintf("match.severity[%d]", j), "empty severity")
		}
	}
	for j, s := range r.Match.Service {
		if s == "" {
			p.Add(fmt.Sprintf("match.service[%d]", j), "empty service name")
		}
	}
	for j, s := range r.Match.Rule {
		if s == "" {
			p.Add(fmt.Sprintf("match.rule[%d]", j), "empty rule")
		}
	}
	for j, s := range r.Match.Subject {
		if s == "" {
			p.Add(fmt.Sprintf("match.subject[%d]", j), "empty subject")
		}
	}
	for k := range r.Match.Labels {
		if k == "" {
			p.Add("match.labels", "empty label name")
		}
	}
	if r.Repeat < 0 {
		p.Add("repeat", "must not be negative")
	}
	return p.Err()
}

func (r Route) name(i int) string {
	if r.Name != "" {
		return r.Name
	}
	return fmt.Sprintf("route-%d", i+1)
}

func (r Route) groupWait() time.Duration {
	switch {
	case r.GroupWait < 0:
		return 0
	case r.GroupWait == 0:
		return DefaultGroupWait
	}
	return r.GroupWait
}

// Enqueuer stores a message for a notifier: the Outbox.
type Enqueuer interface {
	Enqueue(ctx context.Context, notifier string, m notify.Message) (Notification, error)
}

var _ Enqueuer = (*Outbox)(nil)

// DeliveredStore keeps, per route, the alerts whose firing the Router
// notified: *store.Store.
type DeliveredStore interface {
	RouteAlerts(ctx context.Context) ([]store.RouteAlert, error)
	SaveRouteAlerts(ctx context.Context, route string, notified []store.RouteAlert, forget []string) error
}

// RouterOptions configure a Router.
type RouterOptions struct {
	// Delivered keeps what each route notified across restarts of
	// steward; nil keeps it in memory only, so that a new Router notifies
	// again every firing alert it is given.
	Delivered DeliveredStore
	Node      string           // set as Message.Node
	Logger    *slog.Logger     // nil means slog.Default()
	Now       func() time.Time // clock; nil means time.Now
}

// Router turns alerts into grouped notifications. It is safe for concurrent
// use. Its groups live in memory: the alerts it holds when steward stops
// are enqueued by Stop, and at start the alert engine feeds it the alerts
// that are still firing. With RouterOptions.Delivered, each route's
// notified alerts are also stored as they are enqueued and loaded by
// Start, so that an alert a route already notified is not notified again
// after a restart, its resolution is, and repeats keep their schedule.
// Without it, a new Router notifies the firing alerts it is fed once more.
type Router struct {
	out       Enqueuer
	delivered DeliveredStore
	log       *slog.Logger
	now       func() time.Time
	node      string

	mu      sync.Mutex
	routes  []Route
	groups  []*group // one per route
	wake    chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
	stopped bool
}

// group is what one route holds: the alerts it has seen, by fingerprint.
type group struct {
	route    Route
	name     string
	alerts   map[string]*entry
	flushAt  time.Time // when the changed alerts are sent; zero when none changed
	repeatAt time.Time // when what is firing is sent again; zero for never
	// key is the base of the keys of the message being sent: kept when an
	// Enqueue fails, so that the retry does not send a notifier that
	// already has it the message twice.
	key string
}

type entry struct {
	alert    notify.Alert
	notified bool // a firing message with it was enqueued
	changed  bool // it must be in the next message
}

// NewRouter validates c and returns a Router that enqueues its messages in
// out. It has no side effects.
func NewRouter(c RouterConfig, out Enqueuer, opts RouterOptions) (*Router, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("router: no enqueuer")
	}
	r := &Router{
		out:       out,
		delivered: opts.Delivered,
		log:       cmp.Or(opts.Logger, slog.Default()),
		now:       opts.Now,
		node:      opts.Node,
		routes:    slices.Clone(c.Routes),
		wake:      make(chan struct{}, 1),
	}
	if r.now == nil {
		r.now = time.Now
	}
	for i, rt := range r.routes {
		r.groups = append(r.groups, &group{route: rt, name: rt.name(i), alerts: map[string]*entry{}})
	}
	return r, nil
}

// Alert hands the Router an alert that fired, changed or resolved. A firing
// alert it already holds unchanged (same severity and summary) is ignored;
// a resolved alert it never notified is dropped quietly. It returns at once:
// messages are enqueued by the Router's goroutine after each route's group
// wait. It fails with code steward.EINVALID for an alert that is neither
// firing nor resolved.
func (r *Router) Alert(ctx context.Context, a notify.Alert) error {
	if a.Status != notify.StatusFiring && a.Status != notify.StatusResolved {
		return steward.Errorf(steward.EINVALID, "alert status %q is neither firing nor resolved", a.Status)
	}
	a.Labels = maps.Clone(a.Labels)
	fp := a.Fingerprint()
	now := r.now()
	r.mu.Lock()
	changed := false
	for _, g := range r.groups {
		if !g.route.Match.Matches(a) {
			continue
		}
		changed = g.add(fp, a, now) || changed
		if !g.route.Continue {
			break
		}
	}
	r.mu.Unlock()
	if changed {
		r.kick()
	}
	return nil
}

// add records a in g and reports whether g must send something.
func (g *group) add(fp string, a notify.Alert, now time.Time) bool {
	e := g.alerts[fp]
	switch {
	case a.Status == notify.StatusResolved && e == nil:
		return false
	case a.Status == notify.StatusResolved && !e.notified:
		delete(g.alerts, fp) // resolved before anyone was told
		return false
	case a.Status == notify.StatusResolved && e.alert.Status == notify.StatusResolved:
		return false
	case e != nil && e.alert.Status == notify.StatusFiring && a.Status == notify.StatusFiring &&
		e.alert.Severity == a.Severity && e.alert.Summary == a.Summary:
		e.alert = a // same incident, nothing new to say
		return false
	}
	if e == nil {
		e = &entry{}
		g.alerts[fp] = e
	}
	e.alert, e.changed = a, true
	if g.flushAt.IsZero() {
		g.flushAt = now.Add(g.route.groupWait())
	}
	return true
}

func (r *Router) kick() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Start loads what each route notified before, when the Router has a
// DeliveredStore, and starts the goroutine that sends each group's messages
// when due. A failure to load is logged: the Router then starts as if
// nothing had been notified.
func (r *Router) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil || r.stopped {
		return errors.New("router: already started")
	}
	if err := r.load(ctx); err != nil {
		r.log.Error("router: load notified alerts; those still firing will be notified again", "err", err)
	}
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.done = make(chan struct{})
	go r.loop(ctx)
	return nil
}

// Stop stops the goroutine, then enqueues at once what each group still
// holds unsent, so that no alert is lost with the process. It is safe to
// call without Start and more than once.
func (r *Router) Stop(ctx context.Context) error {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.stopped = true
	r.mu.Unlock()
	if cancel != nil {
		cancel()
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("router: stop: %w", ctx.Err())
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	now := r.now()
	for _, g := range r.groups {
		if !g.flushAt.IsZero() {
			if err := r.flush(ctx, g, now); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("router: stop: %w", err)
	}
	return nil
}

func (r *Router) loop(ctx context.Context) {
	defer close(r.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := r.process(ctx)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-timer.C:
		}
	}
}

// process sends what is due and returns how long until the next is due.
func (r *Router) process(ctx context.Context) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	next := time.Duration(idleWait)
	for _, g := range r.groups {
		if !g.flushAt.IsZero() && !g.flushAt.After(now) {
			if err := r.flush(ctx, g, now); err != nil {
				if ctx.Err() != nil {
					return next
				}
				r.log.Error("router: enqueue notification", "route", g.name, "err", err)
				g.flushAt = now.Add(retryEnqueue)
			}
		}
		if g.flushAt.IsZero() && !g.repeatAt.IsZero() && !g.repeatAt.After(now) {
			if err := r.send(ctx, g, now, true); err != nil {
				if ctx.Err() != nil {
					return next
				}
				r.log.Error("router: enqueue repeated notification", "route", g.name, "err", err)
				g.repeatAt = now.Add(retryEnqueue)
			}
		}
		for _, t := range []time.Time{g.flushAt, g.repeatAt} {
			if !t.IsZero() {
				next = min(next, t.Sub(now))
			}
		}
	}
	return max(next, 0)
}

// flush sends g's changed alerts together with those still firing.
func (r *Router) flush(ctx context.Context, g *group, now time.Time) error {
	if err := r.send(ctx, g, now, false); err != nil {
		return err
	}
	g.flushAt = time.Time{}
	return nil
}

// send enqueues one message per notifier of g's route: the firing alerts,
// and unless repeat the resolved ones not yet told. Then it updates g.
func (r *Router) send(ctx context.Context, g *group, now time.Time, repeat bool) error {
	var alerts []notify.Alert
	firing := false
	for _, e := range g.alerts {
		switch {
		case e.alert.Status == notify.StatusFiring:
			alerts = append(alerts, e.alert)
			firing = true
		case !repeat && e.changed:
			alerts = append(alerts, e.alert)
		}
	}
	if len(alerts) > 0 {
		if g.key == "" {
			g.key = NewKey()
		}
		for _, to := range g.route.To {
			m := notify.Message{
				Key:    g.key + "-" + to,
				Route:  g.name,
				Node:   r.node,
				Time:   now.UTC(),
				Repeat: repeat,
				Alerts: slices.Clone(alerts),
			}
			m.Summarize()
			if _, err := r.out.Enqueue(ctx, to, m); err != nil && steward.ErrorCode(err) != steward.ECONFLICT {
				return err
			}
		}
	}
	g.key = ""
	if len(alerts) > 0 {
		r.saveNotified(ctx, g, now)
	}
	for fp, e := range g.alerts {
		switch {
		case e.alert.Status == notify.StatusResolved:
			delete(g.alerts, fp)
		default:
			e.notified, e.changed = true, false
		}
	}
	g.repeatAt = time.Time{}
	if firing && g.route.Repeat > 0 {
		g.repeatAt = now.Add(g.route.Repeat)
	}
	return nil
}
