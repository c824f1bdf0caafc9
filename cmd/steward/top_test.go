package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// fakeTop is the API for steward top's model: it answers from its fields
// and records the calls.
type fakeTop struct {
	mu        sync.Mutex
	list      []steward.ServiceStatus
	listErr   error
	series    []steward.MetricSeries
	seriesErr error
	actErr    error
	events    []steward.Event
	eventsErr error
	logs      map[string][]steward.LogLine
	block     bool // a follow waits for its context to end after its items

	calls  []string             // actions and follows, in order
	query  steward.MetricQuery  // the last metrics query
	ctxs   []context.Context    // of the log follows
	evQuer []steward.EventQuery // of the event follows
}

var _ topAPI = (*fakeTop)(nil)

func (f *fakeTop) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeTop) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// followEnded reports whether log follow i has started and its context ended.
func (f *fakeTop) followEnded(i int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return i < len(f.ctxs) && f.ctxs[i].Err() != nil
}

func (f *fakeTop) Services(context.Context) ([]steward.ServiceStatus, error) {
	return f.list, f.listErr
}

func (f *fakeTop) act(verb string, names []string) ([]steward.ServiceStatus, error) {
	f.record(verb + " " + strings.Join(names, " "))
	if f.actErr != nil {
		return nil, f.actErr
	}
	return []steward.ServiceStatus{{Name: names[0], State: steward.StateRunning, PID: 99}}, nil
}

func (f *fakeTop) Start(_ context.Context, names ...string) ([]steward.ServiceStatus, error) {
	return f.act("start", names)
}

func (f *fakeTop) Stop(_ context.Context, names ...string) ([]steward.ServiceStatus, error) {
	return f.act("stop", names)
}

func (f *fakeTop) Restart(_ context.Context, names ...string) ([]steward.ServiceStatus, error) {
	return f.act("restart", names)
}

func (f *fakeTop) QueryMetrics(_ context.Context, q steward.MetricQuery) ([]steward.MetricSeries, error) {
	f.query = q
	return f.series, f.seriesErr
}

func (f *fakeTop) FollowEvents(ctx context.Context, q steward.EventQuery, fn func(steward.Event) error) error {
	f.mu.Lock()
	f.evQuer = append(f.evQuer, q)
	f.mu.Unlock()
	for _, ev := range f.events {
		if err := fn(ev); err != nil {
			return err
		}
	}
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.eventsErr
}

func (f *fakeTop) FollowLogs(ctx context.Context, name string, n int, follow bool, fn func(steward.LogLine) error) error {
	f.mu.Lock()
	f.ctxs = append(f.ctxs, ctx)
	f.mu.Unlock()
	f.record(fmt.Sprintf("logs %s n=%d follow=%v", name, n, follow))
	for _, l := range f.logs[name] {
		if err := fn(l); err != nil {
			return err
		}
	}
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

var topNow = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func topStatuses() []steward.ServiceStatus {
	return []steward.ServiceStatus{
		{Name: "web", State: steward.StateRunning, PID: 1234, Restarts: 2, Health: steward.HealthHealthy,
			Since: topNow.Add(-5*time.Minute - 3*time.Second), CPUPercent: 12.5, RSSBytes: 39 << 20},
		{Name: "db", State: steward.StateStopped, Health: steward.HealthUnknown, Since: topNow.Add(-time.Hour)},
		{Name: "a-very-long-service-name-indeed", State: steward.StateBackoff, Restarts: 5, Health: steward.HealthUnknown,
			Since: topNow.Add(-42 * time.Second)},
	}
}

// newTestTop returns a model on f with a window of w×h and the services
// of f loaded.
func newTestTop(t *testing.T, f *fakeTop, w, h int) *topModel {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := newTopModel(ctx, f, "/run/steward.sock", 2*time.Second, func() time.Time { return topNow })
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(m.fetch()())
	return m
}

// press sends keys (a string of runes, or a tea.KeyType) and returns the
// command of the last.
func press(m *topModel, keys ...any) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			_, cmd = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		case tea.KeyType:
			_, cmd = m.Update(tea.KeyMsg{Type: k})
		}
	}
	return cmd
}

// plain is the view without the selection's reverse video.
func plain(m *topModel) string {
	return strings.NewReplacer("\x1b[7m", "", "\x1b[0m", "").Replace(m.View())
}

func TestTopViewGolden(t *testing.T) {
	f := &fakeTop{list: topStatuses()}
	m := newTestTop(t, f, 120, 10)
	from := topNow.Truncate(topStep).Add(topStep).Add(-topSamples * topStep)
	f.series = []steward.MetricSeries{{Name: "service_rss_bytes", Labels: map[string]string{"service": "web"}, Points: [][4]float64{
		{float64(from.UnixMilli()), 10 << 20, 0, 0},
		{float64(from.Add(27 * topStep).UnixMilli()), 20 << 20, 0, 0},
		{float64(from.Add(28 * topStep).UnixMilli()), 30 << 20, 0, 0},
		{float64(from.Add(29 * topStep).UnixMilli()), 40 << 20, 0, 0},
		{float64(from.Add(30 * topStep).UnixMilli()), 50 << 20, 0, 0}, // past the window: dropped
	}}, {Name: "service_rss_bytes"}}
	m.Update(m.fetchHistory()())
	if f.query.Name != "service_rss_bytes" || f.query.Step != topStep || f.query.To.Sub(f.query.From) != topSamples*topStep {
		t.Errorf("metrics query %+v", f.query)
	}
	golden(t, "top.golden", []byte(m.View()))
	if got := m.history["web"]; len(got) != topSamples || got[0] != 10<<20 || got[1] != 0 || got[29] != 40<<20 {
		t.Errorf("history of web: %v", got)
	}
}

func TestSparkline(t *testing.T) {
	for _, tt := range []struct {
		in   []uint64
		want string
	}{
		{nil, ""},
		{[]uint64{0, 0}, "  "},
		{[]uint64{5, 5, 5}, "███"},
		{[]uint64{1, 2, 3, 4, 5, 6, 7, 8, 0}, "▁▂▃▄▅▆▇█ "},
		{[]uint64{1, 100}, "▁█"},
	} {
		if got := sparkline(tt.in); got != tt.want {
			t.Errorf("sparkline(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTopSelectAndScroll(t *testing.T) {
	var list []steward.ServiceStatus
	for i := range 10 {
		list = append(list, steward.ServiceStatus{Name: fmt.Sprintf("svc%02d", 9-i), State: steward.StateRunning, PID: 100 + i})
	}
	m := newTestTop(t, &fakeTop{list: list}, 100, 8) // room for 4 rows
	if m.selected != "svc00" {
		t.Fatalf("selected %q, want the first by name", m.selected)
	}
	press(m, "k", tea.KeyUp) // at the top already
	press(m, "j", "j", tea.KeyDown, tea.KeyDown, "j")
	v := plain(m)
	if m.selected != "svc05" || !strings.Contains(v, "> svc05") || strings.Contains(v, "svc01") || !strings.Contains(v, "svc02") {
		t.Errorf("selected %q; view:\n%s", m.selected, v)
	}
	press(m, "jjjjjjjj")
	if m.selected != "svc09" {
		t.Errorf("selected %q after the last, want svc09", m.selected)
	}
	m.Update(topServices{list: list[:5]}) // svc09…svc05 remain: svc09 stays selected
	if m.selected != "svc09" {
		t.Errorf("selected %q after a refresh, want svc09", m.selected)
	}
	m.Update(topServices{list: list[1:3]}) // svc08, svc07: the first is selected
	if m.selected != "svc07" {
		t.Errorf("selected %q when it went, want svc07", m.selected)
	}
	m.Update(topServices{})
	if v := plain(m); m.selected != "" || !strings.Contains(v, "no services") || !strings.Contains(v, " 0 services") {
		t.Errorf("selected %q; view:\n%s", m.selected, v)
	}
	press(m, "j")
	if cmd := press(m, "s"); cmd != nil || m.status != "start: no service selected" {
		t.Errorf("start with nothing selected: %v, %q", cmd, m.status)
	}
}

func TestTopActions(t *testing.T) {
	f := &fakeTop{list: topStatuses()}
	m := newTestTop(t, f, 120, 10)
	press(m, "j") // db
	for _, tt := range []struct {
		key, verb string
		err       error
		want      string
	}{
		{"r", "restart", nil, "restart db: done; db running (pid 99)"},
		{"s", "start", nil, "start db: done; db running (pid 99)"},
		{"x", "stop", &steward.Error{Code: steward.EFORBIDDEN, Message: `"control" needs the role operator; token:ci is viewer`},
			`stop db: refused (403 forbidden): "control" needs the role operator; token:ci is viewer`},
		{"x", "stop", steward.Errorf(steward.ECONFLICT, "db is stopping"), "stop db: db is stopping"},
	} {
		f.actErr = tt.err
		cmd := press(m, tt.key)
		if m.status != tt.verb+" db…" {
			t.Errorf("%s: status %q while it runs", tt.key, m.status)
		}
		msg := cmd()
		if calls := f.called(); calls[len(calls)-1] != tt.verb+" db" {
			t.Errorf("%s: calls %q", tt.key, calls)
		}
		_, cmd = m.Update(msg)
		if m.status != tt.want {
			t.Errorf("%s: status %q, want %q", tt.key, m.status, tt.want)
		}
		if !strings.Contains(m.View(), tt.want) {
			t.Errorf("%s: the view lacks the status:\n%s", tt.key, m.View())
		}
		if _, ok := cmd().(topServices); !ok {
			t.Errorf("%s: no refresh after the action", tt.key)
		}
		m.Update(topServices{list: f.list})
	}
}

func TestTopFilter(t *testing.T) {
	f := &fakeTop{list: topStatuses()}
	m := newTestTop(t, f, 120, 10)
	press(m, "/", "w", "x", tea.KeyBackspace, "e")
	v := plain(m)
	if !m.filtering || !strings.Contains(v, "filter: we_") || !strings.Contains(v, "> web") || strings.Contains(v, " db ") ||
		!strings.Contains(v, "1 of 3 services") {
		t.Errorf("filtering we:\n%s", v)
	}
	press(m, "q") // a letter of the filter, not quit
	if !strings.Contains(plain(m), `no service matches "weq"`) || m.selected != "" {
		t.Errorf("filter weq:\n%s", plain(m))
	}
	press(m, tea.KeyBackspace, tea.KeyDown, tea.KeyUp, tea.KeyEnter)
	if v := plain(m); m.filtering || !strings.Contains(v, "[filter: we]") || m.selected != "web" {
		t.Errorf("after enter, selected %q:\n%s", m.selected, v)
	}
	press(m, tea.KeyEsc)
	if m.filter != "" || !strings.Contains(plain(m), " db ") {
		t.Errorf("esc keeps the filter %q", m.filter)
	}
	press(m, "/d", tea.KeyEsc) // typed fast: one message
	if m.filtering || m.filter != "" || !strings.Contains(plain(m), " db ") {
		t.Errorf("esc while filtering: %q %v", m.filter, m.filtering)
	}
	press(m, "/b", tea.KeySpace, tea.KeyEnter)
	if m.filter != "b " {
		t.Errorf("filter %q, want %q", m.filter, "b ")
	}
}

func TestTopQuitAndHelp(t *testing.T) {
	m := newTestTop(t, &fakeTop{list: topStatuses()}, 120, 20)
	for _, keys := range [][]any{{"q"}, {tea.KeyCtrlC}, {"/", tea.KeyCtrlC}} {
		cmd := press(m, keys...)
		if cmd == nil {
			t.Fatalf("%v: no command", keys)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%v does not quit", keys)
		}
		m.filtering = false
	}
	press(m, "?")
	if v := plain(m); !strings.Contains(v, "filter by name") || !strings.Contains(v, "a bar per 10s") || strings.Contains(v, "> a-very") {
		t.Errorf("help:\n%s", v)
	}
	press(m, "?")
	if strings.Contains(plain(m), "filter by name") {
		t.Error("? does not close the help")
	}
	press(m, "?", tea.KeyEsc)
	if m.help {
		t.Error("esc does not close the help")
	}
	press(m, "z") // nothing
}

func TestTopLogPane(t *testing.T) {
	testwait.NoLeak(t)
	f := &fakeTop{list: topStatuses(), block: true, logs: map[string][]steward.LogLine{
		"db":  {{Text: "db line 1"}, {Text: "db\tline 2 \x1b[2J"}, {Text: "db line 3", Missed: 4}},
		"web": {{Text: "web says hi", Stream: "stderr"}},
	}}
	m := newTestTop(t, f, 120, 12)
	press(m, "j")
	cmd := press(m, "l")
	msg := cmd().(topStream[steward.LogLine])
	_, next := m.Update(msg)
	for len(m.logs) < 3 {
		_, next = m.Update(next())
	}
	v := plain(m)
	for _, w := range []string{"── output of db ──", "db    line 2 \\x1b[2J", "… 4 lines missed", "db line 3"} {
		if !strings.Contains(v, w) {
			t.Errorf("log pane lacks %q:\n%s", w, v)
		}
	}
	if strings.Contains(v, "db line 1") { // 12 lines: 4 for the pane, the title and 3 lines
		t.Errorf("the pane shows more lines than it has room for:\n%s", v)
	}
	pending := make(chan tea.Msg)
	go func() { pending <- next() }()

	cmd = press(m, "j") // the selection moves: the pane follows web
	testwait.For(t, 5*time.Second, "the follow of db to end", func() bool { return f.followEnded(0) })
	if _, cmd := m.Update(<-pending); cmd != nil || m.status != "" {
		t.Errorf("the end of the replaced stream: %v, status %q", cmd, m.status)
	}
	_, next = m.Update(cmd())
	if v := plain(m); !strings.Contains(v, "web says hi") || strings.Contains(v, "db line 3") {
		t.Errorf("after k:\n%s", v)
	}
	go func() { pending <- next() }()
	if cmd := press(m, "l"); cmd != nil {
		t.Error("closing the pane starts something")
	}
	testwait.For(t, 5*time.Second, "the follow of web to end", func() bool { return f.followEnded(1) })
	m.Update(<-pending)
	if strings.Contains(plain(m), "web says hi") {
		t.Errorf("the pane stays open:\n%s", plain(m))
	}
	if got, want := strings.Join(f.called(), "; "), "logs db n=500 follow=true; logs web n=500 follow=true"; got != want {
		t.Errorf("calls %q, want %q", got, want)
	}
}

func TestTopLogEndAndRetry(t *testing.T) {
	f := &fakeTop{list: topStatuses(), logs: map[string][]steward.LogLine{"a-very-long-service-name-indeed": {{Text: "one"}}}}
	m := newTestTop(t, f, 120, 12)
	cmd := press(m, tea.KeyEnter)
	for cmd != nil {
		_, cmd = m.Update(cmd())
	}
	if !strings.Contains(m.status, "steward ended the stream") || m.logUp {
		t.Errorf("status %q after the end of the stream", m.status)
	}
	m.eventsUp = true
	_, cmd = m.Update(topTick{})
	batch := cmd().(tea.BatchMsg)
	if len(batch) != 3 { // tick, refresh, logs
		t.Fatalf("tick: %d commands, want 3", len(batch))
	}
	for msg := batch[2](); msg != nil; {
		var c tea.Cmd
		_, c = m.Update(msg)
		msg = nil
		if c != nil {
			msg = c()
		}
	}
	if got := f.called(); len(got) != 2 || got[1] != "logs a-very-long-service-name-indeed n=0 follow=true" {
		t.Errorf("calls %q", got)
	}
	if v := plain(m); strings.Count(v, "one") != 2 {
		t.Errorf("the lines from before the retry are lost:\n%s", v)
	}
}

func TestTopEventsRefresh(t *testing.T) {
	f := &fakeTop{list: topStatuses(), events: []steward.Event{{ID: 1, Service: "web"}, {ID: 2, Service: "db"}}, eventsErr: errors.New("connection reset")}
	m := newTestTop(t, f, 120, 12)
	cmd := m.Init()
	if len(cmd().(tea.BatchMsg)) != 5 || !m.fetching {
		t.Fatal("init: want a fetch, a tick, a history fetch, a history tick and the events")
	}
	// The events come while a fetch is under way: one more fetch after it.
	msg := m.follow()()
	for {
		ev := msg.(topStream[steward.Event])
		_, cmd = m.Update(ev)
		if ev.done {
			break
		}
		msg = ev.next()
	}
	if cmd != nil || !m.again {
		t.Errorf("events during a fetch: command %v, again %v", cmd, m.again)
	}
	if m.eventsUp || m.status != "events: connection reset; following again soon" {
		t.Errorf("after the end of the events: up %v, status %q", m.eventsUp, m.status)
	}
	_, cmd = m.Update(topServices{list: f.list})
	if _, ok := cmd().(topServices); !ok || !m.fetching || m.again {
		t.Errorf("no fetch after the one the events came during")
	}
	m.Update(topServices{list: f.list})
	if m.fetching {
		t.Error("fetching after the fetch")
	}
	_, cmd = m.Update(topTick{})
	if len(cmd().(tea.BatchMsg)) != 3 || !m.eventsUp {
		t.Errorf("a tick does not follow the events again")
	}
	testwait.For(t, 5*time.Second, "3 follows of the events", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.evQuer) == 3
	})
	for _, q := range f.evQuer {
		if !q.Since.Equal(topNow) || q.After != 0 {
			t.Errorf("events query %+v, want those since now", q)
		}
	}
	_, cmd = m.Update(topHistoryTick{})
	if len(cmd().(tea.BatchMsg)) != 2 {
		t.Errorf("a history tick: want a tick and a fetch")
	}
}

func TestTopErrors(t *testing.T) {
	f := &fakeTop{list: topStatuses()}
	m := newTestTop(t, f, 200, 12)
	f.listErr = steward.Errorf(steward.EUNAVAILABLE, "steward is not reachable at /run/steward.sock")
	f.seriesErr = steward.Errorf(steward.EUNAVAILABLE, "no metrics here")
	m.Update(m.fetch()())
	m.Update(m.fetchHistory()())
	v := plain(m)
	for _, w := range []string{"! steward is not reachable", "! memory history: no metrics here", "> a-very-long-service…"} {
		if !strings.Contains(v, w) {
			t.Errorf("view lacks %q:\n%s", w, v)
		}
	}
}

func TestStreamBatches(t *testing.T) {
	testwait.NoLeak(t)
	boom := errors.New("boom")
	cmd := stream(context.Background(), 7, func(_ context.Context, fn func(int) error) error {
		for i := range 600 {
			fn(i)
		}
		return boom
	})
	var got []int
	for cmd != nil {
		msg := cmd().(topStream[int])
		if msg.gen != 7 || len(msg.items) > topBatch {
			t.Fatalf("gen %d, %d items", msg.gen, len(msg.items))
		}
		got = append(got, msg.items...)
		if msg.done && msg.err != boom {
			t.Errorf("end %v, want boom", msg.err)
		}
		cmd = msg.next
	}
	if len(got) != 600 || got[599] != 599 {
		t.Errorf("%d items", len(got))
	}
}

func TestTopCommandErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"top", "-o", "json"}, exitUsage, "use ps -o json"},
		{[]string{"top", "--every", "1ms"}, exitUsage, "--every 1ms: want at least 100ms"},
		{[]string{"top", "x"}, exitUsage, "top"},
		{[]string{"top"}, exitFailure, "top needs a terminal"},
	} {
		var out, errOut bytes.Buffer
		code := execute(append([]string{"--socket", "/nonexistent/steward.sock"}, tt.args...), &out, &errOut)
		if code != tt.code || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, %q; want %d, %q", tt.args, code, errOut.String(), tt.code, tt.want)
		}
	}
}

func TestTopEdges(t *testing.T) {
	m := newTestTop(t, &fakeTop{}, 80, 10)
	if cmd := press(m, "l"); cmd != nil || !strings.Contains(plain(m), "── output of  ") {
		t.Errorf("the log pane with no service: %v\n%s", cmd, plain(m))
	}
	m.eventsGen = 2
	if _, cmd := m.Update(topStream[steward.Event]{gen: 1, done: true, err: errors.New("old")}); cmd != nil || m.status != "" {
		t.Errorf("the end of a replaced event stream: %v, status %q", cmd, m.status)
	}
}

func TestStreamCancelled(t *testing.T) {
	testwait.NoLeak(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := stream(ctx, 1, func(_ context.Context, fn func(int) error) error {
		for i := 0; ; i++ { // more than the channel holds, with nobody reading
			if err := fn(i); err != nil {
				return err
			}
		}
	})
	cancel()
	var n int
	for cmd != nil {
		msg := cmd().(topStream[int])
		n += len(msg.items)
		if msg.done && !errors.Is(msg.err, context.Canceled) {
			t.Errorf("end %v, want context.Canceled", msg.err)
		}
		cmd = msg.next
	}
	if n > topBatch+1 {
		t.Errorf("%d items after the cancel", n)
	}
}
