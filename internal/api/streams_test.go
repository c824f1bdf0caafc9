package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/testwait"
)

func TestLogs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	lg := f.services.LogOf("web")
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := range 5 {
		lg.Add(logcap.Line{Time: t0.Add(time.Duration(i) * time.Millisecond), Stream: logcap.Stdout, Text: "line " + strconv.Itoa(i)})
	}
	lines, err := f.client.Logs(ctx, "web", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Text != "line 3" || lines[1].Text != "line 4" || lines[1].Stream != "stdout" {
		t.Errorf("Logs(web, 2) = %+v", lines)
	}
	if lines, err = f.client.Logs(ctx, "web", -1); err != nil || len(lines) != 5 {
		t.Errorf("Logs(web, default) = %d lines, %v", len(lines), err)
	}
	if lines, err = f.client.Logs(ctx, "web", 0); err != nil || len(lines) != 0 {
		t.Errorf("Logs(web, 0) = %d lines, %v", len(lines), err)
	}
	_, err = f.client.Logs(ctx, "nope", 2)
	wantCode(t, err, steward.ENOTFOUND)
	status, h, _ := f.do(t, "GET", "/v1/services/web/logs", nil)
	if status != 200 || h.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("logs: %d %q, want 200 NDJSON", status, h.Get("Content-Type"))
	}
}

func TestLogsFollow(t *testing.T) {
	f := newFixture(t)
	lg := f.services.LogOf("web")
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	line := func(i int) logcap.Line {
		return logcap.Line{Time: t0.Add(time.Duration(i) * time.Millisecond), Stream: logcap.Stderr, Text: "line " + strconv.Itoa(i)}
	}
	lg.Add(line(0), line(1))
	// A line captured between Subscribe and Tail is in both: sent once.
	lg.OnSubscribe = func() { lg.Add(line(2)) }

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu  sync.Mutex
		got []string
	)
	done := make(chan error, 1)
	go func() {
		done <- f.client.FollowLogs(ctx, "web", 10, true, func(l steward.LogLine) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, l.Text)
			return nil
		})
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	testwait.For(t, 5*time.Second, "the tail", func() bool { return count() == 3 })
	lg.OnSubscribe = nil
	for i := 3; i < 600; i++ {
		lg.Add(line(i))
	}
	testwait.For(t, 5*time.Second, "600 lines", func() bool { return count() >= 600 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("FollowLogs after cancel = %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 600 {
		t.Fatalf("got %d lines, want 600", len(got))
	}
	for i, text := range got {
		if want := "line " + strconv.Itoa(i); text != want {
			t.Fatalf("line %d = %q, want %q", i, text, want)
		}
	}
	testwait.For(t, 5*time.Second, "the subscription to end", func() bool { return lg.Subscribers() == 0 })
}

func TestLogsFollowEnds(t *testing.T) {
	f := newFixture(t)
	lg := f.services.LogOf("db")
	errc := make(chan error, 1)
	n := 0
	go func() {
		errc <- f.client.FollowLogs(context.Background(), "db", 0, true, func(steward.LogLine) error {
			n++
			return nil
		})
	}()
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return lg.Subscribers() == 1 })
	lg.Add(logcap.Line{Time: since, Stream: logcap.Stdout, Text: "last words"})
	lg.CloseSubscribers()
	if err := <-errc; err != nil || n != 1 {
		t.Errorf("FollowLogs when the log closes = %v after %d lines, want nil after 1", err, n)
	}

	// An error from the callback ends the stream and is returned.
	stop := errors.New("enough")
	lg.Add(logcap.Line{Time: since, Stream: logcap.Stdout, Text: "again"})
	err := f.client.FollowLogs(context.Background(), "db", 5, true, func(steward.LogLine) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("FollowLogs = %v, want the callback's error", err)
	}
}

// sse is an SSE reader of a raw follow request.
type sse struct {
	t    *testing.T
	body io.ReadCloser
	sc   *bufio.Scanner
}

func (f *fixture) openSSE(t *testing.T, path string, header ...string) *sse {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://steward"+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("open %s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &sse{t: t, body: resp.Body, sc: bufio.NewScanner(resp.Body)}
}

// next returns the id and event of the next message, skipping comments.
func (s *sse) next() (string, steward.Event) {
	s.t.Helper()
	var id string
	var ev steward.Event
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev); err != nil {
				s.t.Fatal(err)
			}
		case line == "" && id != "":
			return id, ev
		}
	}
	s.t.Fatalf("stream ended: %v", s.sc.Err())
	return "", ev
}

func (f *fixture) record(n int, service string) {
	for range n {
		f.events.Record(steward.Event{Type: steward.EventState, Service: service, From: steward.StateStopped, To: steward.StateRunning, Reason: "test"})
	}
}

func ids(evs []steward.Event) []int64 {
	var out []int64
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	return out
}

func TestEventsList(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.record(3, "web")
	f.record(2, "db")
	evs, err := f.client.Events(ctx, steward.EventQuery{})
	if err != nil || !slices.Equal(ids(evs), []int64{1, 2, 3, 4, 5}) {
		t.Errorf("Events() = %v, %v", ids(evs), err)
	}
	evs, _ = f.client.Events(ctx, steward.EventQuery{Limit: 2})
	if !slices.Equal(ids(evs), []int64{4, 5}) {
		t.Errorf("Events(limit 2) = %v, want the newest two", ids(evs))
	}
	evs, _ = f.client.Events(ctx, steward.EventQuery{After: 1, Service: "web"})
	if !slices.Equal(ids(evs), []int64{2, 3}) {
		t.Errorf("Events(after 1, web) = %v", ids(evs))
	}
	evs, _ = f.client.Events(ctx, steward.EventQuery{Since: time.Now().Add(time.Hour)})
	if evs == nil || len(evs) != 0 {
		t.Errorf("Events(since later) = %#v, want empty", evs)
	}
	status, _, body := f.do(t, "GET", "/v1/events?since=1h&service=db", nil)
	if status != 200 || !strings.Contains(string(body), `"id":5`) {
		t.Errorf("since as a duration: %d %s", status, body)
	}
	f.events.Err = errors.New("boom")
	_, err = f.client.Events(ctx, steward.EventQuery{})
	wantCode(t, err, steward.EINTERNAL)
	status, _, _ = f.do(t, "GET", "/v1/events?follow=1", nil)
	if status != 500 {
		t.Errorf("follow with a failing store: %d, want 500", status)
	}
}

func TestEventsFollowReplayThenLive(t *testing.T) {
	f := newFixture(t)
	f.record(5, "web")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evc := make(chan steward.Event, 100)
	done := make(chan error, 1)
	go func() {
		done <- f.client.FollowEvents(ctx, steward.EventQuery{After: 2}, func(ev steward.Event) error {
			evc <- ev
			return nil
		})
	}()
	for want := int64(3); want <= 5; want++ {
		if ev := <-evc; ev.ID != want {
			t.Fatalf("replayed event %d, want %d", ev.ID, want)
		}
	}
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })
	f.record(2, "db")
	for want := int64(6); want <= 7; want++ {
		if ev := <-evc; ev.ID != want || ev.Service != "db" {
			t.Fatalf("live event %+v, want %d of db", ev, want)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("FollowEvents after cancel = %v", err)
	}
	testwait.For(t, 5*time.Second, "the subscription to end", func() bool { return f.events.Subscribers() == 0 })
}

func TestEventsFollowLastEventID(t *testing.T) {
	f := newFixture(t)
	f.record(6, "web")
	// The reconnect's Last-Event-ID wins over the first request's after.
	s := f.openSSE(t, "/v1/events?follow=1&after=1", "Last-Event-ID", "4")
	for _, want := range []string{"5", "6"} {
		if id, ev := s.next(); id != want || strconv.FormatInt(ev.ID, 10) != want {
			t.Fatalf("replayed id %s (event %d), want %s", id, ev.ID, want)
		}
	}
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })
	f.record(1, "web")
	if id, _ := s.next(); id != "7" {
		t.Fatalf("live id %s, want 7", id)
	}
}

func TestEventsFollowNoGapsNoDuplicates(t *testing.T) {
	f := newFixture(t)
	f.record(2, "web")
	s := f.openSSE(t, "/v1/events?follow=1&after=0")
	for _, want := range []string{"1", "2"} {
		if id, _ := s.next(); id != want {
			t.Fatalf("replayed id %s, want %s", id, want)
		}
	}
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })

	// 3 is stored but never published, 5 is published before 4, and 4 is
	// published twice: the stream still has 3, 4, 5 once each, in order.
	e3 := f.events.Store(steward.Event{Type: steward.EventSystem, Reason: "lost"})
	e4 := f.events.Store(steward.Event{Type: steward.EventSystem, Reason: "late"})
	e5 := f.events.Store(steward.Event{Type: steward.EventSystem, Reason: "early"})
	f.events.Publish(e5)
	f.events.Publish(e4)
	f.events.Publish(e4)
	f.record(1, "db")
	for _, want := range []int64{e3.ID, e4.ID, e5.ID, 6} {
		if _, ev := s.next(); ev.ID != want {
			t.Fatalf("event %d, want %d", ev.ID, want)
		}
	}
}

func TestEventsFollowFiltered(t *testing.T) {
	f := newFixture(t)
	f.record(2, "web")
	f.record(1, "db")
	api.SetKeepalive(f.server, 5*time.Millisecond)
	s := f.openSSE(t, "/v1/events?follow=1&service=db&since=2000-01-01T00:00:00Z")
	if _, ev := s.next(); ev.ID != 3 {
		t.Fatalf("replayed %d, want 3", ev.ID)
	}
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })
	f.record(2, "web")
	// A gap before a filtered event is filled with the filter too.
	f.events.Store(steward.Event{Type: steward.EventState, Service: "db", Reason: "unpublished"})
	f.record(1, "db")
	for _, want := range []int64{6, 7} {
		if _, ev := s.next(); ev.ID != want || ev.Service != "db" {
			t.Fatalf("event %+v, want %d of db", ev, want)
		}
	}
	// Idle: keepalive comments come, then a live event.
	var comments int
	s.sc.Scan()
	for s.sc.Text() == ": keepalive" || s.sc.Text() == "" {
		if s.sc.Text() != "" {
			comments++
		}
		if comments == 2 {
			break
		}
		s.sc.Scan()
	}
	if comments < 2 {
		t.Fatalf("no keepalive comments: %q", s.sc.Text())
	}
}

func TestEventsFollowNewest(t *testing.T) {
	f := newFixture(t)
	f.record(5, "web")
	s := f.openSSE(t, "/v1/events?follow=1&limit=2")
	for _, want := range []int64{4, 5} {
		if _, ev := s.next(); ev.ID != want {
			t.Fatalf("replayed %d, want %d", ev.ID, want)
		}
	}
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })
	f.record(1, "web")
	if _, ev := s.next(); ev.ID != 6 {
		t.Fatalf("live %d, want 6", ev.ID)
	}
}

func TestEventsFollowEmptyStore(t *testing.T) {
	f := newFixture(t)
	evc := make(chan steward.Event, 10)
	errc := make(chan error, 1)
	go func() {
		errc <- f.client.FollowEvents(context.Background(), steward.EventQuery{}, func(ev steward.Event) error {
			evc <- ev
			return nil
		})
	}()
	testwait.For(t, 5*time.Second, "the subscription", func() bool { return f.events.Subscribers() == 1 })
	// The first live event sets the cursor: no gap fill from ID 0.
	e1 := f.events.Store(steward.Event{Type: steward.EventSystem, Reason: "before"})
	_ = e1
	f.record(1, "web")
	if ev := <-evc; ev.ID != 2 {
		t.Fatalf("first live event %d, want 2", ev.ID)
	}
	f.events.CloseSubscribers()
	if err := <-errc; err != nil {
		t.Errorf("FollowEvents when steward ends the stream = %v, want nil", err)
	}
}

func TestEventsFollowReplayPages(t *testing.T) {
	f := newFixture(t)
	f.record(2500, "web")
	s := f.openSSE(t, "/v1/events?follow=1&after=10")
	for want := int64(11); want <= 2500; want++ {
		if _, ev := s.next(); ev.ID != want {
			t.Fatalf("replayed %d, want %d", ev.ID, want)
		}
	}
}

func TestEventsFollowCallbackError(t *testing.T) {
	f := newFixture(t)
	f.record(3, "web")
	stop := errors.New("enough")
	err := f.client.FollowEvents(context.Background(), steward.EventQuery{After: 1}, func(steward.Event) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("FollowEvents = %v, want the callback's error", err)
	}
}

func TestRotateLogs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.services.LogOf("web").SetRotate("/logs/web.log.2025-03-01T10-00-00.000Z", nil)
	got, err := f.client.RotateLogs(ctx, "web")
	if err != nil || len(got) != 1 || got[0] != (steward.LogRotation{Service: "web", File: "/logs/web.log.2025-03-01T10-00-00.000Z"}) {
		t.Errorf("RotateLogs(web) = %+v, %v", got, err)
	}
	if got, err = f.client.RotateLogs(ctx); err != nil || len(got) != 2 {
		t.Errorf("RotateLogs() = %+v, %v, want both services", got, err)
	}
	if n := f.services.LogOf("db").Rotations(); n != 1 {
		t.Errorf("db rotated %d times, want 1", n)
	}
	_, err = f.client.RotateLogs(ctx, "nope")
	wantCode(t, err, steward.ENOTFOUND)
	f.services.LogOf("db").SetRotate("", steward.Errorf(steward.EUNAVAILABLE, "disk gone"))
	_, err = f.client.RotateLogs(ctx)
	wantCode(t, err, steward.EUNAVAILABLE)
	_, err = f.client.RotateLogs(ctx, "web", "db")
	wantCode(t, err, steward.EUNAVAILABLE)
}
