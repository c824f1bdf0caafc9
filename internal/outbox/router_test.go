package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// captured is an Enqueuer that keeps what it is given.
type captured struct {
	mu      sync.Mutex
	msgs    []sent
	fail    error // returned, once, by the next Enqueue to a notifier named failFor
	failFor string
}

type sent struct {
	to string
	m  notify.Message
}

func (c *captured) Enqueue(ctx context.Context, to string, m notify.Message) (Notification, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil && to == c.failFor {
		err := c.fail
		c.fail = nil
		return Notification{}, err
	}
	for _, s := range c.msgs {
		if s.m.Key == m.Key {
			return Notification{}, steward.Errorf(steward.ECONFLICT, "key %s exists", m.Key)
		}
	}
	c.msgs = append(c.msgs, sent{to, m})
	return Notification{Key: m.Key, Notifier: to}, nil
}

// take returns and forgets what was enqueued.
func (c *captured) take() []sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.msgs
	c.msgs = nil
	return s
}

func alert(status notify.Status, severity, rule, subject string) notify.Alert {
	return notify.Alert{Status: status, Severity: severity, Rule: rule, Subject: subject, Summary: rule + " on " + subject}
}

// summary renders what was sent compactly: "to:STATUS[rule/STATUS,…]".
func summary(ss []sent) []string {
	var out []string
	for _, s := range ss {
		var as []string
		for _, a := range s.m.Alerts {
			as = append(as, a.Rule+"/"+string(a.Status))
		}
		rep := ""
		if s.m.Repeat {
			rep = " repeat"
		}
		out = append(out, fmt.Sprintf("%s:%s%s[%s]", s.to, s.m.Status, rep, strings.Join(as, ",")))
	}
	slices.Sort(out)
	return out
}

func newTestRouter(t *testing.T, c RouterConfig) (*Router, *captured, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	out := &captured{}
	r, err := NewRouter(c, out, RouterOptions{Node: "web-01", Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return r, out, clock
}

func TestRouterGroupsAndResolves(t *testing.T) {
	ctx := context.Background()
	r, out, clock := newTestRouter(t, RouterConfig{Routes: []Route{
		{Name: "crit", Match: Match{Severity: []string{"critical"}}, To: []string{"mail", "hook"}, GroupWait: 10 * time.Second},
	}})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Alert(ctx, alert(notify.StatusFiring, "critical", "disk", "/")))
	clock.Add(3 * time.Second)
	must(r.Alert(ctx, alert(notify.StatusFiring, "critical", "mem", "api")))
	must(r.Alert(ctx, alert(notify.StatusFiring, "warning", "cpu", "host"))) // no route
	if wait := r.process(ctx); wait != 7*time.Second {
		t.Errorf("wait = %v, want 7s: the group waits 10s from its first alert", wait)
	}
	if got := out.take(); len(got) != 0 {
		t.Fatalf("sent within group_wait: %v", summary(got))
	}
	clock.Add(7 * time.Second)
	r.process(ctx)
	got := out.take()
	want := []string{"hook:firing[disk/firing,mem/firing]", "mail:firing[disk/firing,mem/firing]"}
	if s := summary(got); !slices.Equal(s, want) {
		t.Fatalf("first message = %v, want %v", s, want)
	}
	m := got[0].m
	if m.Route != "crit" || m.Node != "web-01" || m.Severity != "critical" || !m.Time.Equal(clock.Now()) {
		t.Errorf("message = %+v", m)
	}
	if got[0].m.Key == got[1].m.Key || !strings.HasSuffix(got[0].m.Key, "-"+got[0].to) {
		t.Errorf("keys %q and %q: want one per notifier", got[0].m.Key, got[1].m.Key)
	}

	// The same alert again changes nothing; a new summary is news.
	must(r.Alert(ctx, alert(notify.StatusFiring, "critical", "disk", "/")))
	clock.Add(time.Minute)
	r.process(ctx)
	if got := out.take(); len(got) != 0 {
		t.Errorf("a repeated alert was sent again: %v", summary(got))
	}

	// One resolves: a message with it and what still fires.
	must(r.Alert(ctx, alert(notify.StatusResolved, "critical", "mem", "api")))
	must(r.Alert(ctx, alert(notify.StatusResolved, "critical", "mem", "api"))) // twice
	clock.Add(10 * time.Second)
	r.process(ctx)
	if s := summary(out.take()); !slices.Equal(s, []string{"hook:firing[disk/firing,mem/resolved]", "mail:firing[disk/firing,mem/resolved]"}) {
		t.Errorf("after one resolved: %v", s)
	}
	// The last resolves: a resolved message.
	must(r.Alert(ctx, alert(notify.StatusResolved, "critical", "disk", "/")))
	clock.Add(10 * time.Second)
	r.process(ctx)
	if s := summary(out.take()); !slices.Equal(s, []string{"hook:resolved[disk/resolved]", "mail:resolved[disk/resolved]"}) {
		t.Errorf("after all resolved: %v", s)
	}
	// Resolving an unknown alert does nothing; the group is empty.
	must(r.Alert(ctx, alert(notify.StatusResolved, "critical", "disk", "/")))
	if wait := r.process(ctx); wait != idleWait {
		t.Errorf("idle wait = %v", wait)
	}
	if err := r.Alert(ctx, notify.Alert{Status: "pending"}); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("invalid status: %v", err)
	}
}

func TestRouterFlapWithinGroupWait(t *testing.T) {
	ctx := context.Background()
	r, out, clock := newTestRouter(t, RouterConfig{Routes: []Route{{To: []string{"hook"}}}})
	r.Alert(ctx, alert(notify.StatusFiring, "critical", "disk", "/"))
	r.Alert(ctx, alert(notify.StatusResolved, "critical", "disk", "/"))
	clock.Add(DefaultGroupWait)
	r.process(ctx)
	if got := out.take(); len(got) != 0 {
		t.Errorf("an alert resolved within group_wait was sent: %v", summary(got))
	}
}

func TestRouterRepeat(t *testing.T) {
	ctx := context.Background()
	r, out, clock := newTestRouter(t, RouterConfig{Routes: []Route{{To: []string{"hook"}, GroupWait: -1, Repeat: time.Hour}}})
	r.Alert(ctx, alert(notify.StatusFiring, "critical", "disk", "/"))
	if wait := r.process(ctx); wait != idleWait {
		t.Errorf("wait after sending = %v, want the repeat of 1h capped at %v", wait, idleWait)
	}
	if s := summary(out.take()); !slices.Equal(s, []string{"hook:firing[disk/firing]"}) {
		t.Fatalf("no group wait: %v", s)
	}
	clock.Add(59 * time.Minute)
	r.process(ctx)
	if got := out.take(); len(got) != 0 {
		t.Errorf("repeated early: %v", summary(got))
	}
	clock.Add(time.Minute)
	r.process(ctx)
	got := out.take()
	if s := summary(got); !slices.Equal(s, []string{"hook:firing repeat[disk/firing]"}) {
		t.Fatalf("repeat = %v", s)
	}
	// A change restarts the repeat clock.
	clock.Add(30 * time.Minute)
	a := alert(notify.StatusFiring, "critical", "disk", "/")
	a.Summary = "worse"
	r.Alert(ctx, a)
	r.process(ctx)
	if s := summary(out.take()); !slices.Equal(s, []string{"hook:firing[disk/firing]"}) {
		t.Fatalf("changed summary = %v", s)
	}
	clock.Add(30 * time.Minute)
	r.process(ctx)
	if got := out.take(); len(got) != 0 {
		t.Errorf("repeated 30m after a change: %v", summary(got))
	}
	// Once resolved, nothing repeats.
	r.Alert(ctx, alert(notify.StatusResolved, "critical", "disk", "/"))
	r.process(ctx)
	out.take()
	clock.Add(3 * time.Hour)
	r.process(ctx)
	if got := out.take(); len(got) != 0 {
		t.Errorf("repeated after resolving: %v", summary(got))
	}
}

func TestRouterMatching(t *testing.T) {
	ctx := context.Background()
	r, out, clock := newTestRouter(t, RouterConfig{Routes: []Route{
		{Name: "db", Match: Match{Service: []string{"db", "pg"}, Labels: map[string]string{"team": "data"}}, To: []string{"data"}, Continue: true},
		{Name: "crit", Match: Match{Severity: []string{"critical"}}, To: []string{"ops"}},
		{Name: "rest", To: []string{"log"}},
	}})
	for _, a := range []notify.Alert{
		{Status: notify.StatusFiring, Severity: "critical", Rule: "a", Service: "db", Labels: map[string]string{"team": "data"}}, // db, crit
		{Status: notify.StatusFiring, Severity: "warning", Rule: "b", Service: "pg", Labels: map[string]string{"team": "data"}},  // db, rest
		{Status: notify.StatusFiring, Severity: "critical", Rule: "c", Service: "db", Labels: map[string]string{"team": "web"}},  // crit
		{Status: notify.StatusFiring, Severity: "info", Rule: "d", Service: "db"},                                                // rest
	} {
		if err := r.Alert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(DefaultGroupWait)
	r.process(ctx)
	want := []string{"data:firing[a/firing,b/firing]", "log:firing[b/firing,d/firing]", "ops:firing[a/firing,c/firing]"}
	if s := summary(out.take()); !slices.Equal(s, want) {
		t.Errorf("routed = %v, want %v", s, want)
	}
}

func TestRouterEnqueueFailure(t *testing.T) {
	ctx := context.Background()
	r, out, clock := newTestRouter(t, RouterConfig{Routes: []Route{{To: []string{"a", "b"}, GroupWait: -1}}})
	out.fail, out.failFor = errors.New("disk full"), "b"
	r.Alert(ctx, alert(notify.StatusFiring, "critical", "disk", "/"))
	if wait := r.process(ctx); wait != retryEnqueue {
		t.Errorf("wait after a failure = %v, want %v", wait, retryEnqueue)
	}
	first := out.take()
	if s := summary(first); !slices.Equal(s, []string{"a:firing[disk/firing]"}) {
		t.Fatalf("before the failure: %v", s)
	}
	out.mu.Lock()
	out.msgs = first // a keeps its copy: the retry must not send it twice
	out.mu.Unlock()
	clock.Add(retryEnqueue)
	r.process(ctx)
	got := out.take()
	if s := summary(got); !slices.Equal(s, []string{"a:firing[disk/firing]", "b:firing[disk/firing]"}) {
		t.Fatalf("after the retry: %v, want a once and b", s)
	}
	if strings.TrimSuffix(got[0].m.Key, "-a") != strings.TrimSuffix(got[1].m.Key, "-b") {
		t.Errorf("keys %s and %s do not share their base", got[0].m.Key, got[1].m.Key)
	}
}

// TestRouterToOutbox runs a Router and an Outbox for real: alerts raised
// together reach a webhook receiver as one message.
func TestRouterToOutbox(t *testing.T) {
	testwait.NoLeak(t)
	h := newHookReceiver(t)
	st, _ := openStore(t)
	o := startOutbox(t, st, map[string]notify.Notifier{"hook": h.notifier(t)}, Options{})
	r, err := NewRouter(RouterConfig{Routes: []Route{{To: []string{"hook"}, GroupWait: 100 * time.Millisecond}}}, o,
		RouterOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err == nil {
		t.Error("a second Start succeeded")
	}
	for _, rule := range []string{"a", "b", "c"} {
		r.Alert(context.Background(), alert(notify.StatusFiring, "critical", rule, "x"))
	}
	testwait.For(t, 5*time.Second, "delivery", func() bool { _, acc := h.counts(); return acc == 1 })
	ns, err := o.List(context.Background(), Filter{})
	if err != nil || len(ns) != 1 || len(ns[0].Message.Alerts) != 3 {
		t.Fatalf("outbox = %+v, %v, want one message of 3 alerts", ns, err)
	}
	// Stop enqueues what waits in a group.
	r.Alert(context.Background(), alert(notify.StatusResolved, "critical", "a", "x"))
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	ns, _ = o.List(context.Background(), Filter{})
	if len(ns) != 2 || ns[0].Message.Alerts[2].Status != notify.StatusResolved {
		t.Fatalf("after Stop: %+v, want the resolved message enqueued", ns)
	}
	testwait.For(t, 5*time.Second, "delivery of the resolved message", func() bool {
		n, _ := o.Get(context.Background(), ns[0].ID)
		return n.State == store.NotificationDelivered
	})
}

func TestRouterStopErrors(t *testing.T) {
	r, out, _ := newTestRouter(t, RouterConfig{Routes: []Route{{To: []string{"a"}}}})
	out.fail, out.failFor = errors.New("disk full"), "a"
	r.Alert(context.Background(), alert(notify.StatusFiring, "critical", "disk", "/"))
	if err := r.Stop(context.Background()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Stop = %v, want the enqueue error", err)
	}
	if err := r.Start(context.Background()); err == nil {
		t.Error("Start after Stop succeeded")
	}
	if _, err := NewRouter(RouterConfig{}, nil, RouterOptions{}); err == nil {
		t.Error("NewRouter without an enqueuer succeeded")
	}
	if _, err := NewRouter(RouterConfig{Routes: []Route{{}}}, out, RouterOptions{}); err == nil {
		t.Error("NewRouter with an invalid route succeeded")
	}
}

func TestRouterValidate(t *testing.T) {
	for _, tt := range []struct {
		c    RouterConfig
		errs []string
	}{
		{RouterConfig{}, nil},
		{RouterConfig{Routes: []Route{{To: []string{"a"}}, {Name: "x", To: []string{"b"}, Repeat: time.Hour}}}, nil},
		{RouterConfig{Routes: []Route{{}}}, []string{"routes[0].to: needs at least one notifier"}},
		{RouterConfig{Routes: []Route{{To: []string{"a", "", "a"}, Repeat: -1,
			Match: Match{Severity: []string{""}, Service: []string{""}, Labels: map[string]string{"": "x"}}}}},
			[]string{"routes[0].to[1]: empty", "routes[0].to[2]: notifier \"a\" is listed twice", "routes[0].repeat",
				"routes[0].match.severity[0]", "routes[0].match.service[0]", "routes[0].match.labels"}},
		{RouterConfig{Routes: []Route{{Name: "route-2", To: []string{"a"}}, {To: []string{"b"}}}}, []string{"routes[1].name: route \"route-2\" is already defined"}},
	} {
		checkProblems(t, fmt.Sprint(tt.c), tt.c.Validate(), tt.errs)
	}
	c := RouterConfig{Routes: []Route{{To: []string{"a", "b"}}}}
	checkProblems(t, "CheckNotifiers", c.CheckNotifiers(func(n string) bool { return n == "a" }), []string{`routes[0].to[1]: no notifier "b" in notify`})
}

func checkProblems(t *testing.T, what string, err error, want []string) {
	t.Helper()
	var got []string
	for _, fe := range notify.FieldErrors(err) {
		got = append(got, fe.Error())
	}
	if len(got) != len(want) {
		t.Errorf("%s: problems = %q, want %q", what, got, want)
		return
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, w) }) {
			t.Errorf("%s: problems = %q, want one with %q", what, got, w)
		}
	}
}
