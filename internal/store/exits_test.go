package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestExitsRoundTrip(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	three := 3
	in := []steward.Exit{
		{Service: "api", PID: 10, Started: t0, Ended: t0.Add(1200 * time.Millisecond), ExitCode: &three, Status: "exit status 3",
			OOM: steward.OOMNo, OOMDetail: "not killed by SIGKILL", PeakRSSBytes: 1 << 20, CPUSeconds: 0.25,
			LastLines: []string{"a", "b"}, Reason: "exit status 3; restarting in 100ms"},
		{Service: "api", PID: 11, Started: t0.Add(2 * time.Second), Ended: t0.Add(3 * time.Second), Signal: "SIGKILL",
			Status: "killed by SIGKILL", OOM: steward.OOMYes, Probe: "watchdog", Reason: "r"},
		{Service: "web", PID: 12, Started: t0, Ended: t0, Status: "exit status 0", OOM: steward.OOMNo},
	}
	if err := s.AppendExits(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err := s.Exits(ctx, "api", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []steward.Exit{in[1], in[0]}
	want[0].UptimeSeconds, want[1].UptimeSeconds = 1, 1.2
	if !reflect.DeepEqual(got, want) {
		t.Errorf("exits:\ngot  %+v\nwant %+v", got, want)
	}
	if got, _ := s.Exits(ctx, "api", 1); len(got) != 1 || got[0].PID != 11 {
		t.Errorf("limit 1: %+v, want the newest", got)
	}
	if got, _ := s.Exits(ctx, "nope", 0); got == nil || len(got) != 0 {
		t.Errorf("unknown service: %#v, want an empty list", got)
	}
}

func TestExitsPruned(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	batch := make([]steward.Exit, keepExits+5)
	for i := range batch {
		batch[i] = steward.Exit{Service: "a", PID: i, Status: fmt.Sprint(i), OOM: steward.OOMNo}
	}
	if err := s.AppendExits(ctx, batch); err != nil {
		t.Fatal(err)
	}
	got, err := s.Exits(ctx, "a", MaxExitLimit+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != keepExits || got[0].PID != keepExits+4 || got[len(got)-1].PID != 5 {
		t.Errorf("%d kept, newest %d, oldest %d; want %d, %d, 5", len(got), got[0].PID, got[len(got)-1].PID, keepExits, keepExits+4)
	}
}
