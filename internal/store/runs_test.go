package store

import (
	"context"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestRuns(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	a := steward.Run{Kind: steward.RunKindJob, Name: "a", Status: steward.RunQueued, Trigger: steward.TriggerSchedule,
		Scheduled: at, Created: at, Attempt: 1}
	b := steward.Run{Kind: steward.RunKindJob, Name: "b", Status: steward.RunSkipped, Trigger: steward.TriggerManual, Created: at, Ended: at, Attempt: 1}
	for _, r := range []*steward.Run{&a, &b} {
		if err := s.AddRun(ctx, r, r.Trigger == steward.TriggerSchedule); err != nil {
			t.Fatal(err)
		}
	}
	code := 3
	a.Status, a.Started, a.Ended, a.ExitCode, a.Error = steward.RunFailed, at, at.Add(time.Second), &code, "exit status 3"
	if err := s.UpdateRun(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRunOutput(ctx, a.ID, []byte("out"), true); err != nil {
		t.Fatal(err)
	}
	got, err := s.Run(ctx, a.ID)
	if err != nil || got.Status != steward.RunFailed || *got.ExitCode != 3 || !got.Scheduled.Equal(at) || !got.Ended.Equal(at.Add(time.Second)) || got.Error != a.Error {
		t.Errorf("run = %+v, %v; want %+v", got, err, a)
	}
	if got, _ := s.Run(ctx, b.ID); got.ExitCode != nil || !got.Scheduled.IsZero() {
		t.Errorf("run b = %+v: want no exit code and no scheduled time", got)
	}
	if out, trunc, err := s.RunOutput(ctx, a.ID); err != nil || string(out) != "out" || !trunc {
		t.Errorf("output = %q %v %v", out, trunc, err)
	}
	for _, tt := range []struct {
		f    RunFilter
		want []int64
	}{
		{RunFilter{}, []int64{b.ID, a.ID}},
		{RunFilter{Name: "a"}, []int64{a.ID}},
		{RunFilter{Status: steward.RunSkipped}, []int64{b.ID}},
		{RunFilter{Limit: 1}, []int64{b.ID}},
		{RunFilter{Open: true}, nil},
	} {
		list, err := s.Runs(ctx, tt.f)
		var ids []int64
		for _, r := range list {
			ids = append(ids, r.ID)
		}
		if err != nil || len(ids) != len(tt.want) || (len(ids) > 0 && ids[0] != tt.want[0]) {
			t.Errorf("Runs(%+v) = %v, %v; want %v", tt.f, ids, err, tt.want)
		}
	}
	if _, err := s.Runs(ctx, RunFilter{Limit: -1}); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("negative limit: %v", err)
	}
	if err := s.UpdateRun(ctx, &steward.Run{ID: 99, Status: steward.RunFailed}); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("update of run 99: %v", err)
	}
	if _, err := s.Run(ctx, 99); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("run 99: %v", err)
	}
	// A scheduled run marks its time taken; a manual one does not.
	if m, ok, err := s.JobMark(ctx, "a"); !ok || err != nil || !m.Equal(at) {
		t.Errorf("mark of a = %v %v %v, want %v", m, ok, err, at)
	}
	if _, ok, err := s.JobMark(ctx, "b"); ok || err != nil {
		t.Errorf("mark of b: %v %v, want none", ok, err)
	}
	for _, m := range []time.Time{at, at.Add(time.Hour)} {
		if err := s.SetJobMark(ctx, "a", m); err != nil {
			t.Fatal(err)
		}
	}
	if m, ok, err := s.JobMark(ctx, "a"); !ok || err != nil || !m.Equal(at.Add(time.Hour)) {
		t.Errorf("mark = %v %v %v", m, ok, err)
	}
	// Pruning keeps each job's newest run, and runs that did not end.
	c := steward.Run{Kind: steward.RunKindJob, Name: "a", Status: steward.RunRunning, Trigger: steward.TriggerManual, Created: at, Attempt: 1}
	d := steward.Run{Kind: steward.RunKindJob, Name: "a", Status: steward.RunSucceeded, Trigger: steward.TriggerManual, Created: at, Ended: at, Attempt: 1}
	for _, r := range []*steward.Run{&c, &d} {
		if err := s.AddRun(ctx, r, false); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PruneRuns(ctx, at.Add(time.Hour), 1000); err != nil || n != 1 {
		t.Errorf("PruneRuns = %d, %v; want 1 (run a)", n, err)
	}
	list, _ := s.Runs(ctx, RunFilter{})
	if len(list) != 3 || list[0].ID != d.ID || list[1].ID != c.ID || list[2].ID != b.ID {
		t.Errorf("after pruning: %v, want runs %d, %d, %d", list, d.ID, c.ID, b.ID)
	}
}
