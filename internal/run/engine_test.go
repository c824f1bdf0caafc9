package run

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

func TestScheduleFiresEachTime(t *testing.T) {
	h := newHarness(t, nil)
	h.apply("  tick: {schedule: '@every 10s', command: 'true'}\n")
	for i := 1; i <= 3; i++ {
		h.waitIdle("tick")
		h.clock.Advance(10 * time.Second)
		list := h.waitRuns("tick", i, "run of tick", ended)
		r := list[i-1]
		want := t0.Add(time.Duration(i) * 10 * time.Second)
		if r.Status != steward.RunSucceeded || r.Trigger != steward.TriggerSchedule || !r.Scheduled.Equal(want) {
			t.Errorf("run %d: %s %s scheduled %v, want succeeded schedule %v", i, r.Status, r.Trigger, r.Scheduled, want)
		}
	}
	if out, _, err := h.store.RunOutput(context.Background(), 1); err != nil || string(out) != "out of tick" {
		t.Errorf("output of run 1 = %q, %v; want %q", out, err, "out of tick")
	}
	mark, ok, err := h.store.JobMark(context.Background(), "tick")
	if want := t0.Add(30 * time.Second); err != nil || !ok || !mark.Equal(want) {
		t.Errorf("mark = %v %v %v, want %v", mark, ok, err, want)
	}
}

func TestJitterDelaysTheRun(t *testing.T) {
	h := newHarness(t, func(time.Duration) time.Duration { return 3 * time.Second })
	h.apply("  tick: {schedule: '@every 10s', jitter: 5s, command: 'true'}\n")
	h.clock.Advance(10 * time.Second)
	// The scheduler wakes at its due time only: a run now would be early.
	h.clock.Advance(2 * time.Second)
	if got := h.runs("tick"); len(got) != 0 {
		t.Fatalf("%d runs 2s into a 3s jitter, want 0", len(got))
	}
	h.clock.Advance(time.Second)
	r := h.waitRuns("tick", 1, "jittered run", ended)[0]
	if !r.Scheduled.Equal(t0.Add(10*time.Second)) || !r.Started.Equal(t0.Add(13*time.Second)) {
		t.Errorf("scheduled %v started %v, want %v and %v", r.Scheduled, r.Started, t0.Add(10*time.Second), t0.Add(13*time.Second))
	}
}

func TestConcurrency(t *testing.T) {
	for _, tt := range []struct {
		policy string
		want   []steward.RunStatus // of the first and second run once the second is in
	}{
		{"allow", []steward.RunStatus{steward.RunRunning, steward.RunRunning}},
		{"forbid", []steward.RunStatus{steward.RunRunning, steward.RunSkipped}},
		{"replace", []steward.RunStatus{steward.RunCancelled, steward.RunRunning}},
	} {
		t.Run(tt.policy, func(t *testing.T) {
			h := newHarness(t, nil)
			h.actor.set("j", errBlock)
			h.apply("  j: {schedule: '@every 10s', concurrency: " + tt.policy + ", command: 'true'}\n")
			h.clock.Advance(10 * time.Second)
			h.waitRuns("j", 1, "first run running", running)
			h.clock.Advance(10 * time.Second)
			var list []steward.Run
			testwait.For(t, 5*time.Second, "second run", func() bool {
				list = h.runs("j")
				return len(list) == 2 && list[0].Status == tt.want[0] && list[1].Status == tt.want[1]
			})
			if tt.policy == "replace" && list[0].Error != errReplaced.Error() {
				t.Errorf("replaced run's error = %q, want %q", list[0].Error, errReplaced)
			}
		})
	}
}

// TestReplaceWhenTheStoreRefuses: a new run the store refuses replaces
// nothing; the running one goes on.
func TestReplaceWhenTheStoreRefuses(t *testing.T) {
	h := newHarness(t, nil)
	h.actor.set("j", errBlock)
	h.apply("  j: {schedule: '@every 1h', concurrency: replace, command: 'true'}\n")
	first, err := h.e.Trigger(context.Background(), "j")
	if err != nil {
		t.Fatal(err)
	}
	h.waitRuns("j", 1, "first run running", running)
	refuseInserts(t, h.path, "runs")
	if _, err := h.e.Trigger(context.Background(), "j"); err == nil {
		t.Fatal("a run the store refused was started")
	}
	if r, err := h.store.Run(context.Background(), first.ID); err != nil || r.Status != steward.RunRunning {
		t.Errorf("the running run after a refused replacement: %s, %v; want it still running", r.Status, err)
	}
	h.e.mu.Lock()
	defer h.e.mu.Unlock()
	for c := range h.e.jobs["j"].chains {
		if err := context.Cause(c.ctx); err != nil {
			t.Errorf("the running run's chain was cancelled: %v", err)
		}
	}
}

// refuseInserts makes the database at path refuse every insert into table,
// behind the store's back.
func refuseInserts(t *testing.T, path, table string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON ` + table + ` BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
}

func TestMissed(t *testing.T) {
	// The last scheduled time stored is 35s before t0; @every 10s missed
	// t0-25s, t0-15s and t0-5s.
	for _, tt := range []struct {
		name, policy string
		want         []time.Duration // scheduled times of the catch-up runs, from t0
	}{
		{"skip", "missed: skip", nil},
		{"once", "missed: once", []time.Duration{-5 * time.Second}},
		{"all", "missed: all", []time.Duration{-25 * time.Second, -15 * time.Second, -5 * time.Second}},
		{"all within a deadline", "missed: all, deadline: 20s", []time.Duration{-15 * time.Second, -5 * time.Second}},
		{"once past the deadline", "missed: once, deadline: 2s", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			if err := h.store.SetJobMark(context.Background(), "j", t0.Add(-35*time.Second)); err != nil {
				t.Fatal(err)
			}
			h.apply("  j: {schedule: '@every 10s', " + tt.policy + ", command: 'true'}\n")
			if len(tt.want) > 0 {
				h.waitRuns("j", len(tt.want), "catch-up runs", ended)
			}
			list := h.runs("j") // none that should not be there either
			if len(list) != len(tt.want) {
				t.Fatalf("%d catch-up runs, want %d", len(list), len(tt.want))
			}
			for i, r := range list {
				if want := t0.Add(tt.want[i]); r.Trigger != steward.TriggerCatchUp || !r.Scheduled.Equal(want) {
					t.Errorf("run %d: %s scheduled %v, want catch-up %v", i, r.Trigger, r.Scheduled, want)
				}
			}
			// The times are taken: the next start catches up nothing again.
			if mark, _, _ := h.store.JobMark(context.Background(), "j"); !mark.Equal(t0) {
				t.Errorf("mark = %v, want %v", mark, t0)
			}
		})
	}
}

func TestRetriesAlertOnceAfterTheLast(t *testing.T) {
	h := newHarness(t, nil)
	h.actor.set("j", errors.New("boom"))
	h.apply("  j: {command: 'true', retries: {max: 2, backoff: 1s}}\n")
	first, err := h.e.Trigger(context.Background(), "j")
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan steward.Run, 1)
	go func() {
		r, _ := h.e.Wait(context.Background(), first.ID)
		waited <- r
	}()
	h.waitRuns("j", 1, "attempt 1", ended)
	// Backoff: 1s, then 2s, each plus up to a quarter of jitter.
	h.advanceToTimer(1250 * time.Millisecond)
	h.waitRuns("j", 2, "attempt 2", ended)
	if n := h.alerts.count(RuleJobFailed, "j", true); n != 0 {
		t.Fatalf("alert raised %d times before the last retry", n)
	}
	h.advanceToTimer(2500 * time.Millisecond)
	list := h.waitRuns("j", 3, "attempt 3", ended)
	last := <-waited
	for i, r := range list {
		if r.Attempt != i+1 || r.Status != steward.RunFailed || r.Trigger != steward.TriggerManual {
			t.Errorf("run %d: attempt %d %s %s, want attempt %d failed manual", i, r.Attempt, r.Status, r.Trigger, i+1)
		}
	}
	if last.ID != list[2].ID {
		t.Errorf("Wait returned run %d, want the last attempt %d", last.ID, list[2].ID)
	}
	if n := h.alerts.count(RuleJobFailed, "j", true); n != 1 {
		t.Fatalf("alert raised %d times, want once after the last retry", n)
	}
	h.actor.set("j", nil)
	r, _ := h.e.Trigger(context.Background(), "j")
	if r, _ = h.e.Wait(context.Background(), r.ID); r.Status != steward.RunSucceeded {
		t.Fatalf("run %d: %s, want succeeded", r.ID, r.Status)
	}
	if n := h.alerts.count(RuleJobFailed, "j", false); n == 0 {
		t.Error("the success did not resolve the alert")
	}
}

func TestDeadMan(t *testing.T) {
	h := newHarness(t, nil)
	h.actor.set("j", errors.New("boom"))
	h.apply("  j: {command: 'true', dead_man: 1h}\n")
	h.clock.Advance(59 * time.Minute)
	r, _ := h.e.Trigger(context.Background(), "j")
	h.e.Wait(context.Background(), r.ID) // a failure does not feed the dead man
	if n := h.alerts.count(RuleDeadMan, "j", true); n != 0 {
		t.Fatalf("dead man raised within the hour")
	}
	h.clock.Advance(time.Minute)
	testwait.For(t, 5*time.Second, "dead-man alert", func() bool { return h.alerts.count(RuleDeadMan, "j", true) == 1 })
	h.actor.set("j", nil)
	r, _ = h.e.Trigger(context.Background(), "j")
	h.e.Wait(context.Background(), r.ID)
	if n := h.alerts.count(RuleDeadMan, "j", false); n != 1 {
		t.Fatalf("dead man resolved %d times by a success, want 1", n)
	}
	h.clock.Advance(59 * time.Minute)
	h.clock.Advance(2 * time.Minute)
	testwait.For(t, 5*time.Second, "second dead-man alert", func() bool { return h.alerts.count(RuleDeadMan, "j", true) == 2 })
}

func TestCancel(t *testing.T) {
	h := newHarness(t, nil)
	h.actor.set("j", errBlock)
	h.apply("  j: {command: 'true', retries: {max: 3}}\n")
	r, err := h.e.Trigger(context.Background(), "j")
	if err != nil {
		t.Fatal(err)
	}
	h.waitRuns("j", 1, "run running", running)
	got, err := h.e.Cancel(context.Background(), r.ID)
	if err != nil || got.Status != steward.RunCancelled {
		t.Fatalf("Cancel = %s, %v; want cancelled", got.Status, err)
	}
	if list := h.runs("j"); len(list) != 1 {
		t.Errorf("%d runs, want 1: a cancelled run is not retried", len(list))
	}
	if _, err := h.e.Cancel(context.Background(), r.ID); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("second Cancel: %v, want ECONFLICT", err)
	}
	if _, err := h.e.Cancel(context.Background(), 99); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("Cancel of an unknown run: %v, want ENOTFOUND", err)
	}
	if _, err := h.e.Trigger(context.Background(), "nope"); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("Trigger of an unknown job: %v, want ENOTFOUND", err)
	}
}

func TestCloseCancelsRunsInFlight(t *testing.T) {
	h := newHarness(t, nil)
	h.actor.set("j", errBlock)
	h.apply("  j: {command: 'true'}\n")
	r, _ := h.e.Trigger(context.Background(), "j")
	h.waitRuns("j", 1, "run running", running)
	h.e.Close()
	got, err := h.store.Run(context.Background(), r.ID)
	if err != nil || got.Status != steward.RunCancelled || got.Error != errStopped.Error() {
		t.Fatalf("run after Close: %s %q %v, want cancelled %q", got.Status, got.Error, err, errStopped)
	}
	if _, err := h.e.Trigger(context.Background(), "j"); steward.ErrorCode(err) != steward.EUNAVAILABLE {
		t.Errorf("Trigger after Close: %v, want EUNAVAILABLE", err)
	}
}

func TestRecoverMarksOpenRunsLost(t *testing.T) {
	h := newHarness(t, nil)
	r := steward.Run{Kind: steward.RunKindJob, Name: "j", Status: steward.RunRunning, Trigger: steward.TriggerManual, Created: t0, Attempt: 1}
	if err := h.store.AddRun(context.Background(), &r, false); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.store.Run(context.Background(), r.ID); got.Status != steward.RunLost {
		t.Errorf("status %s, want lost", got.Status)
	}
}

func TestNextAndReplan(t *testing.T) {
	h := newHarness(t, nil)
	h.apply("  j: {schedule: '0 */15 * * * *', command: 'true'}\n  m: {command: 'true'}\n")
	got, err := h.e.Next("j", 3)
	want := []time.Time{t0.Add(15 * time.Minute), t0.Add(30 * time.Minute), t0.Add(45 * time.Minute)}
	if err != nil || len(got) != 3 || !got[0].Equal(want[0]) || !got[2].Equal(want[2]) {
		t.Fatalf("Next = %v, %v; want %v", got, err, want)
	}
	if got, err := h.e.Next("m", 3); err != nil || len(got) != 0 {
		t.Errorf("Next of a manual job = %v, %v; want none", got, err)
	}
	// A changed schedule is planned again on Apply.
	h.apply("  j: {schedule: '@every 1m', command: 'true'}\n")
	jobs, err := h.e.Jobs(context.Background())
	if err != nil || len(jobs) != 1 || !jobs[0].Next.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Jobs = %+v, %v; want j next at %v", jobs, err, t0.Add(time.Minute))
	}
	h.clock.Advance(time.Minute)
	h.waitRuns("j", 1, "run on the new schedule", ended)
}
