package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestEvents(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var all []steward.Event
	for i := range 10 {
		svc := "a"
		if i%2 == 1 {
			svc = "b"
		}
		ev := steward.Event{
			Time: t0.Add(time.Duration(i) * time.Second), Type: steward.EventState, Service: svc,
			From: steward.StateStarting, To: steward.StateRunning, PID: 100 + i, Reason: "r",
		}
		if err := appendEvent(ctx, s, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.ID != int64(i+1) {
			t.Fatalf("ID = %d, want %d", ev.ID, i+1)
		}
		all = append(all, ev)
	}

	ids := func(evs []steward.Event) []int64 {
		out := []int64{}
		for _, ev := range evs {
			out = append(out, ev.ID)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    EventFilter
		want []int64
	}{
		{"all", EventFilter{}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"newest 3", EventFilter{Limit: 3}, []int64{8, 9, 10}},
		{"after 4, first 3", EventFilter{AfterID: 4, Limit: 3}, []int64{5, 6, 7}},
		{"after 8", EventFilter{AfterID: 8}, []int64{9, 10}},
		{"after the last", EventFilter{AfterID: 10}, []int64{}},
		{"since", EventFilter{Since: t0.Add(7 * time.Second)}, []int64{8, 9, 10}},
		{"since, first 2", EventFilter{Since: t0.Add(2 * time.Second), Limit: 2}, []int64{3, 4}},
		{"since, other zone", EventFilter{Since: t0.Add(8 * time.Second).In(time.FixedZone("x", 3600))}, []int64{9, 10}},
		{"since far past", EventFilter{Since: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Limit: 1}, []int64{1}},
		{"since far future", EventFilter{Since: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, []int64{}},
		{"service", EventFilter{Service: "b"}, []int64{2, 4, 6, 8, 10}},
		{"service, newest 2", EventFilter{Service: "a", Limit: 2}, []int64{7, 9}},
		{"service after", EventFilter{Service: "a", AfterID: 5}, []int64{7, 9}},
		{"service, since, after", EventFilter{Service: "b", AfterID: 2, Since: t0.Add(5 * time.Second)}, []int64{6, 8, 10}},
		{"unknown service", EventFilter{Service: "zz"}, []int64{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := s.Events(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(evs); !slices.Equal(got, tt.want) {
				t.Errorf("IDs = %v, want %v", got, tt.want)
			}
		})
	}

	evs, err := s.Events(ctx, EventFilter{AfterID: 2, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := all[2]
	if got := evs[0]; got != want {
		t.Errorf("event round trip: got %+v, want %+v", got, want)
	}

	_, err = s.Events(ctx, EventFilter{Limit: -1})
	if got := steward.ErrorCode(err); got != steward.EINVALID {
		t.Errorf("negative limit: code = %q (err %v), want %q", got, err, steward.EINVALID)
	}
}

func TestEventsDefaultLimit(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for range DefaultEventLimit + 5 {
		if err := appendEvent(ctx, s, &steward.Event{Type: steward.EventSystem}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != DefaultEventLimit || evs[0].ID != 6 || evs[len(evs)-1].ID != DefaultEventLimit+5 {
		t.Errorf("got %d events from %d to %d, want %d from 6 to %d",
			len(evs), evs[0].ID, evs[len(evs)-1].ID, DefaultEventLimit, DefaultEventLimit+5)
	}
}

func TestAppendEventTime(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	before := time.Now()
	ev := steward.Event{Type: steward.EventSystem}
	if err := appendEvent(ctx, s, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Time.Before(before.Add(-time.Second)) || ev.Time.After(time.Now()) || ev.Time.Location() != time.UTC {
		t.Errorf("zero Time set to %v, want now in UTC", ev.Time)
	}

	given := time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("x", -7200))
	ev = steward.Event{Type: steward.EventSystem, Time: given}
	if err := appendEvent(ctx, s, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Time != given {
		t.Errorf("Time changed to %v, want %v kept", ev.Time, given)
	}
	evs, err := s.Events(ctx, EventFilter{AfterID: ev.ID - 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := evs[0].Time; !got.Equal(given) || got.Location() != time.UTC {
		t.Errorf("stored Time = %v, want %v in UTC", got, given)
	}

	err = appendEvent(ctx, s, &steward.Event{})
	if got := steward.ErrorCode(err); got != steward.EINVALID {
		t.Errorf("empty type: code = %q (err %v), want %q", got, err, steward.EINVALID)
	}
}

func TestPruneEvents(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)

	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s.pruneBatch = 7
	n := 3*s.pruneBatch + 2 // more than one batch
	tx, err := s.w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := tx.Exec(appendEventSQL, t0.Add(time.Duration(i)*time.Millisecond).UnixNano(), "state", "", "", "", 0, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	got, err := s.PruneEvents(ctx, t0.Add(time.Duration(n-3)*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if got != int64(n-3) {
		t.Errorf("pruned %d, want %d", got, n-3)
	}
	evs, err := s.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].ID != int64(n-2) {
		t.Errorf("left %d events from ID %d, want 3 from %d", len(evs), evs[0].ID, n-2)
	}

	// Pruning everything keeps the newest event, so IDs do not start again.
	if got, err := s.PruneEvents(ctx, time.Now()); err != nil || got != 2 {
		t.Errorf("PruneEvents(now) = %d, %v, want 2, nil", got, err)
	}
	evs, err = s.Events(ctx, EventFilter{})
	if err != nil || len(evs) != 1 || evs[0].ID != int64(n) {
		t.Errorf("after PruneEvents(now): %+v, %v, want event %d alone", evs, err, n)
	}
	ev := steward.Event{Type: steward.EventSystem}
	if err := appendEvent(ctx, s, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID != int64(n+1) {
		t.Errorf("ID after pruning = %d, want %d", ev.ID, n+1)
	}
}

// BenchmarkAppendEvent measures the store's part of the crash → restart
// path: one event written, as the supervisor writes it. It reports the
// median and 99th percentile of single calls beside the mean.
func BenchmarkAppendEvent(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev := steward.Event{
			Type: steward.EventState, Service: "api", From: steward.StateRunning,
			To: steward.StateBackoff, PID: 4242, Reason: "exited with status 1",
		}
		start := time.Now()
		if err := appendEvent(ctx, s, &ev); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}

// BenchmarkAppendEventWhileListing measures appends while another goroutine
// keeps listing the newest 1000 events, as a dashboard replaying history.
func BenchmarkAppendEventWhileListing(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	for range DefaultEventLimit {
		if err := appendEvent(ctx, s, &steward.Event{Type: steward.EventState, Reason: "seed"}); err != nil {
			b.Fatal(err)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := s.Events(ctx, EventFilter{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		ev := steward.Event{Type: steward.EventState, Service: "api", Reason: "exited with status 1"}
		start := time.Now()
		if err := appendEvent(ctx, s, &ev); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	close(done)
	wg.Wait()
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// appendEvent stores one event with AppendEvents and sets its ID and Time.
func appendEvent(ctx context.Context, s *Store, ev *steward.Event) error {
	evs := []steward.Event{*ev}
	if err := s.AppendEvents(ctx, evs); err != nil {
		return err
	}
	*ev = evs[0]
	return nil
}

// TestAppendEventsBatch: a batch is stored in order with increasing IDs,
// or not at all.
func TestAppendEventsBatch(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	evs := []steward.Event{{Type: "a"}, {Type: "b"}, {Type: "c"}}
	if err := s.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if ev.ID != int64(i+1) || ev.Time.IsZero() {
			t.Errorf("event %d: ID %d, Time %v; want ID %d and a Time", i, ev.ID, ev.Time, i+1)
		}
	}
	bad := []steward.Event{{Type: "d"}, {}}
	if err := s.AppendEvents(ctx, bad); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("batch with an empty type: err %v, want code %q", err, steward.EINVALID)
	}
	got, err := s.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Type != "c" {
		t.Errorf("stored %+v, want the first batch only", got)
	}
}

// TestIsBusy: a write that meets another connection's write lock fails
// with an error IsBusy recognizes; other errors are not busy.
func TestIsBusy(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	holder, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	lock, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	impatient, err := sql.Open("sqlite", path+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	_, err = impatient.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('k', 'v')")
	if !IsBusy(err) {
		t.Errorf("write under another connection's lock: IsBusy(%v) = false, want true", err)
	}
	if IsBusy(fmt.Errorf("wrapped: %w", err)) != IsBusy(err) {
		t.Error("IsBusy does not see through wrapping")
	}
	if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddNotification(ctx, &Notification{Key: "k", Notifier: "n"}); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{nil, errors.New("other"), s.AddNotification(ctx, &Notification{Key: "k", Notifier: "n"})} {
		if IsBusy(err) || IsFull(err) {
			t.Errorf("IsBusy(%v) or IsFull = true, want false", err)
		}
	}
}
