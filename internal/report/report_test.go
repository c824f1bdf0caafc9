package report

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/store"
)

// t0 is the start of the ranges of these tests.
var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

const (
	h = time.Hour
	m = time.Minute
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func system(d time.Duration, reason string) steward.Event {
	return steward.Event{Time: at(d), Type: steward.EventSystem, Reason: reason}
}

func state(d time.Duration, svc string, from, to steward.State, pid int, reason string) steward.Event {
	return steward.Event{Time: at(d), Type: steward.EventState, Service: svc, From: from, To: to, PID: pid, Reason: reason}
}

func health(d time.Duration, svc, reason string) steward.Event {
	return steward.Event{Time: at(d), Type: steward.EventHealth, Service: svc, Reason: reason}
}

func appendEvents(t *testing.T, st *store.Store, evs ...steward.Event) {
	t.Helper()
	if err := st.AppendEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

func build(t *testing.T, st *store.Store, q Query, o Options) steward.Report {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return at(48 * h) }
	}
	rep, err := Build(context.Background(), st, q, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func day() Query { return Query{Since: t0, Until: at(24 * h)} }

func find(t *testing.T, rep steward.Report, name string) steward.ServiceReport {
	t.Helper()
	for _, s := range rep.Services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("service %s not in the report: %+v", name, rep.Services)
	return steward.ServiceReport{}
}

func secs(d time.Duration) float64 { return d.Seconds() }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

const (
	running  = steward.StateRunning
	starting = steward.StateStarting
	stopped  = steward.StateStopped
	stopping = steward.StateStopping
	backoff  = steward.StateBackoff
	failed   = steward.StateFailed
	exited   = steward.StateExited
)

// A day of one service: a crash, an unhealthy hour, a manual restart, a
// clean stop of steward and a respawn without backoff.
func TestAvailability(t *testing.T) {
	st := openStore(t)
	appendEvents(t, st,
		system(0, "steward started (pid 1)"),
		state(0, "api", stopped, starting, 0, "start requested"),
		state(1*m, "api", starting, running, 10, "started"),
		state(10*h, "api", running, backoff, 0, "exited with status 1; restarting in 1s"),
		state(10*h+10*m, "api", backoff, starting, 11, "exited with status 1; restarting; waiting until ready (tcp)"),
		state(10*h+20*m, "api", starting, running, 11, "ready"),
		health(12*h, "api", "unknown → unhealthy: connection refused"),
		health(13*h, "api", "unhealthy → healthy: ok"),
		state(15*h, "api", running, stopping, 11, "stop requested by uid:0:root"),
		state(15*h+m, "api", stopping, stopped, 0, "stopped (exited with status 0)"),
		state(16*h, "api", stopped, starting, 0, "start requested"),
		state(16*h+m, "api", starting, running, 12, "started"),
		system(20*h, "steward stopped"),
		system(21*h, "steward started (pid 2)"),
		state(21*h, "api", stopped, starting, 0, "start requested"),
		state(21*h+m, "api", starting, running, 13, "started"),
		state(23*h, "api", running, running, 14, "exited with status 1; restarting"),
	)
	rep := build(t, st, day(), Options{SLO: map[string]float64{"api": 99}})
	s := find(t, rep, "api")
	up := 9*h + 59*m + h + 40*m + 2*h + 3*h + 59*m + 2*h + 59*m
	down := 20*m + h
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"up", s.Up, secs(up)},
		{"down", s.Down, secs(down)},
		{"unhealthy", s.Unhealthy, secs(h)},
		{"planned", s.Planned, secs(m + h + m + m)},
		{"no data", s.NoData, secs(h)},
		{"expected", s.Expected, secs(up + down)},
		{"availability", *s.Availability, 100 * secs(up) / secs(up+down)},
		{"crashes", float64(s.Crashes), 2},
		{"manual", float64(s.Manual), 1},
		{"outages", float64(s.Outages), 2},
		{"mttr", *s.MTTR, secs(down) / 2},
		{"mtbf", *s.MTBF, secs(up) / 2},
		{"error budget", *s.ErrorBudget, 0.01 * secs(up+down)},
		{"budget left", *s.BudgetLeft, 100 * (0.01*secs(up+down) - secs(down)) / (0.01 * secs(up+down))},
	} {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if len(s.Buckets) != 24 {
		t.Fatalf("%d buckets, want 24", len(s.Buckets))
	}
	b := s.Buckets[10] // 10:00–11:00: 20 minutes down, 40 up
	if !b.Start.Equal(at(10*h)) || !near(b.Up, secs(40*m)) || !near(b.Down, secs(20*m)) || !near(*b.Percent, 100*40.0/60) {
		t.Errorf("bucket 10 = %+v (%v%%), want 40m up and 20m down from 10:00", b, *b.Percent)
	}
	if b := s.Buckets[20]; b.Percent != nil { // 20:00–21:00: steward did not run
		t.Errorf("bucket 20 = %v%%, want none", *b.Percent)
	}
}

// A steward that was killed leaves no record from its last event to its
// next start.
func TestUncleanStop(t *testing.T) {
	st := openStore(t)
	appendEvents(t, st,
		system(0, "steward started (pid 1)"),
		state(0, "db", stopped, starting, 0, "start requested"),
		state(m, "db", starting, running, 10, "started"),
		health(5*h, "db", "unknown → healthy: ok"),
		system(8*h, "killed 2 processes left by steward pid 1"),
		system(8*h, "steward started (pid 2)"),
		state(8*h, "db", stopped, starting, 0, "start requested"),
		state(8*h+m, "db", starting, running, 11, "started"),
	)
	s := find(t, build(t, st, day(), Options{}), "db")
	if want := secs(4*h + 59*m + 15*h + 59*m); !near(s.Up, want) {
		t.Errorf("up = %v, want %v", s.Up, want)
	}
	if want := secs(3 * h); !near(s.NoData, want) {
		t.Errorf("no data = %v, want %v", s.NoData, want)
	}
	if s.Down != 0 || *s.Availability != 100 || s.Outages != 0 || s.MTTR != nil {
		t.Errorf("down %v, availability %v, outages %d, want none down", s.Down, *s.Availability, s.Outages)
	}
}

// The state at the range's start comes from the events before it; a
// service gone before the range is left out, one asked for is kept.
func TestStateBeforeRange(t *testing.T) {
	st := openStore(t)
	appendEvents(t, st,
		system(-48*h, "steward started (pid 1)"),
		state(-48*h, "old", stopped, starting, 0, "start requested"),
		state(-47*h, "old", starting, stopping, 0, "removed from config"),
		state(-47*h, "old", stopping, stopped, 0, "stopped (exited with status 0)"),
		state(-24*h, "db", starting, running, 10, "started"),
		state(-2*h, "web", running, failed, 0, "exited with status 1; restart intensity exceeded"),
		state(-1*h, "job", running, exited, 0, "exited with status 0"),
	)
	rep := build(t, st, day(), Options{})
	if len(rep.Services) != 2 {
		t.Fatalf("services %+v, want db and web", rep.Services)
	}
	if s := find(t, rep, "db"); !near(s.Up, secs(24*h)) || s.Outages != 0 {
		t.Errorf("db: up %v, outages %d, want a whole day up", s.Up, s.Outages)
	}
	if s := find(t, rep, "web"); !near(s.Down, secs(24*h)) || s.Outages != 1 || s.Crashes != 0 || *s.Availability != 0 {
		t.Errorf("web: down %v, outages %d, crashes %d, want a whole day down in one outage, no crash", s.Down, s.Outages, s.Crashes)
	}
	rep = build(t, st, Query{Since: t0, Until: at(24 * h), Services: []string{"job", "nope"}}, Options{})
	if len(rep.Services) != 2 || rep.Services[0].Name != "job" || rep.Services[0].Availability != nil ||
		!near(rep.Services[0].Planned, secs(24*h)) || !near(rep.Services[1].Planned, secs(24*h)) {
		t.Errorf("services %+v, want job and nope, planned all day", rep.Services)
	}
}

// No record before the range and none before the first start: no data.
func TestHistoryBeginsWithinRange(t *testing.T) {
	st := openStore(t)
	appendEvents(t, st,
		system(6*h, "steward started (pid 1)"),
		state(6*h, "api", stopped, starting, 0, "start requested"),
		state(6*h, "api", starting, running, 10, "started"),
		state(7*h, "api", running, stopping, 10, "unhealthy: timeout; restarting"),
		state(7*h+m, "api", stopping, stopped, 0, "stopped (signal SIGTERM)"),
		state(7*h+m, "api", stopped, starting, 0, "start requested"),
		state(7*h+2*m, "api", starting, running, 11, "started"),
		state(8*h, "api", running, stopping, 11, "stop requested"),
		state(8*h, "api", stopping, stopped, 0, "stopped (signal SIGTERM)"),
		state(9*h, "api", stopped, starting, 0, "start requested"),
		state(9*h, "api", starting, failed, 0, "start: no such file; not retried"),
	)
	s := find(t, build(t, st, day(), Options{}), "api")
	if !near(s.NoData, secs(6*h)) || !near(s.Down, secs(2*m+15*h)) || s.Crashes != 2 || s.Manual != 1 || s.Outages != 2 {
		t.Errorf("no data %v, down %v, crashes %d, manual %d, outages %d; want 6h, 15h2m, 2, 1, 2",
			s.NoData, s.Down, s.Crashes, s.Manual, s.Outages)
	}
}

func TestRangeErrors(t *testing.T) {
	st := openStore(t)
	if _, err := Build(context.Background(), st, Query{Since: at(h), Until: at(h)}, Options{}); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("empty range: %v, want an invalid error", err)
	}
	// A range reaching past now ends now.
	rep := build(t, st, Query{Since: t0, Until: at(100 * h)}, Options{})
	if !rep.Until.Equal(at(48*h)) || rep.Step != secs(h) {
		t.Errorf("until %v, step %v, want now and an hour", rep.Until, rep.Step)
	}
	rep = build(t, st, Query{Since: at(-30 * 24 * h), Until: t0}, Options{})
	if rep.Step != secs(24*h) {
		t.Errorf("30 days: step %v, want a day", rep.Step)
	}
	rep = build(t, st, Query{Since: at(-1000 * 24 * h), Until: t0}, Options{})
	if rep.Step != secs(7*24*h) {
		t.Errorf("1000 days: step %v, want a week", rep.Step)
	}
}

func TestIncidentsAndRuns(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	for _, a := range []steward.Alert{
		{Rule: "failed", Subject: "api", Severity: "critical", State: steward.AlertResolved, Started: at(h), Fired: at(h), Resolved: at(2 * h)},
		{Rule: "cpu", Subject: "machine", Severity: "warning", State: steward.AlertFiring, Started: at(20 * h), Fired: at(20 * h)},
		{Rule: "check", Subject: "port", Severity: "warning", State: steward.AlertResolved, Started: at(-3 * h), Fired: at(-3 * h), Resolved: at(-2 * h)},
		{Rule: "failed", Subject: "db", Severity: "critical", State: steward.AlertResolved, Started: at(3 * h), Resolved: at(3*h + m)},
		{Rule: "failed", Subject: "db", Severity: "critical", State: steward.AlertResolved, Started: at(-h), Fired: at(-h), Resolved: at(3 * h)},
	} {
		a.Updated = a.Started
		if err := st.SaveAlert(ctx, &a, steward.AlertTransition{Time: a.Started, To: a.State}); err != nil {
			t.Fatal(err)
		}
	}
	code := 1
	for i, r := range []steward.Run{
		{Status: steward.RunSucceeded, Started: at(h), Ended: at(h + 10*time.Second)},
		{Status: steward.RunSucceeded, Started: at(2 * h), Ended: at(2*h + 20*time.Second)},
		{Status: steward.RunFailed, Started: at(3 * h), Ended: at(3*h + 30*time.Second), ExitCode: &code, Error: "exit status 1"},
		{Status: steward.RunSkipped},
		{Status: steward.RunTimedOut, Started: at(5 * h), Ended: at(5*h + 40*time.Second)},
	} {
		r.Kind, r.Name, r.Trigger, r.Attempt, r.Created = steward.RunKindJob, "nightly", steward.TriggerSchedule, 1, at(time.Duration(i+1)*h)
		if err := st.AddRun(ctx, &r, false); err != nil {
			t.Fatal(err)
		}
	}
	old := steward.Run{Kind: steward.RunKindJob, Name: "old", Status: steward.RunSucceeded, Trigger: steward.TriggerManual, Attempt: 1, Created: at(-h)}
	if err := st.AddRun(ctx, &old, false); err != nil {
		t.Fatal(err)
	}
	rep := build(t, st, day(), Options{})
	if len(rep.Incidents) != 3 {
		t.Fatalf("incidents %+v, want 3", rep.Incidents)
	}
	if in := rep.Incidents[0]; in.Subject != "db" || in.Duration != secs(4*h) || in.Open {
		t.Errorf("first incident %+v, want db's, 4h", in)
	}
	if in := rep.Incidents[2]; !in.Open || in.Duration != secs(4*h) || in.Service != "machine" {
		t.Errorf("open incident %+v, want 4h to the range's end", in)
	}
	if rep.MTTR == nil || *rep.MTTR != secs(4*h+h)/2 {
		t.Errorf("MTTR %v, want 2.5h", rep.MTTR)
	}
	rep = build(t, st, Query{Since: t0, Until: at(24 * h), Services: []string{"api"}}, Options{})
	if len(rep.Incidents) != 1 || rep.Services[0].Incidents != 1 {
		t.Errorf("api's incidents %+v, want 1", rep.Incidents)
	}

	if len(rep.Jobs) != 1 {
		t.Fatalf("jobs %+v, want nightly", rep.Jobs)
	}
	j := rep.Jobs[0]
	if j.Runs != 5 || j.Succeeded != 2 || j.Failed != 2 || j.Other != 1 || !near(j.Success, 50) ||
		j.DurationP50 != 20 || j.DurationP95 != 40 || len(j.Failures) != 2 || j.Failures[0].Status != steward.RunTimedOut {
		t.Errorf("job %+v, want 5 runs, 2 ok, 2 failed (newest first), p50 20s, p95 40s", j)
	}
}

func TestResources(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	var points []store.Point
	add := func(name string, labels map[string]string, f func(i int) float64) {
		id, err := st.SeriesID(ctx, name, labels)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			points = append(points, store.Point{Series: id, Time: at(time.Duration(i) * m), Value: f(i)})
		}
	}
	add(metrics.ServiceCPU, map[string]string{"service": "api"}, func(i int) float64 { return float64(i + 1) })
	add(metrics.ServiceRSS, map[string]string{"service": "api"}, func(i int) float64 { return 1e6 })
	add(metrics.SystemCPU, nil, func(i int) float64 { return float64(100 - i) })
	add(metrics.SystemMemPercent, nil, func(i int) float64 { return 50 })
	add(metrics.SystemDiskPercent, map[string]string{"mount": "/var"}, func(i int) float64 { return 70 })
	add(metrics.SystemDiskPercent, map[string]string{"mount": "/"}, func(i int) float64 { return 30 })
	if err := st.WriteMetrics(ctx, points); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, st, system(0, "steward started (pid 1)"), state(0, "api", starting, running, 1, "started"))

	// Two hours: raw samples.
	rep := build(t, st, Query{Since: t0, Until: at(2 * h)}, Options{})
	s := find(t, rep, "api")
	if s.CPU == nil || *s.CPU != (steward.Distribution{P50: 50, P95: 95, Max: 100, Samples: 100}) {
		t.Errorf("cpu %+v, want p50 50, p95 95, max 100 of 100 samples", s.CPU)
	}
	if s.RSS == nil || s.RSS.P95 != 1e6 {
		t.Errorf("rss %+v, want 1 MB", s.RSS)
	}
	mc := rep.Machine
	if mc.CPU == nil || mc.CPU.P95 != 95 || mc.Memory == nil || mc.Memory.Max != 50 || len(mc.Disks) != 2 ||
		mc.Disks[0].Mount != "/" || mc.Disks[1].Used.P95 != 70 {
		t.Errorf("machine %+v, want cpu p95 95, memory 50, disks / and /var", mc)
	}
	// A day: per-minute means; the same here, one sample a minute.
	rep = build(t, st, day(), Options{})
	if s := find(t, rep, "api"); s.CPU == nil || s.CPU.Samples != 100 || s.CPU.P95 != 95 {
		t.Errorf("a day: cpu %+v, want 100 per-minute means", s.CPU)
	}
	// A week: per-hour means of 1..60 and 61..100.
	rep = build(t, st, Query{Since: t0, Until: at(7 * 24 * h)}, Options{Now: func() time.Time { return at(30 * 24 * h) }})
	if s := find(t, rep, "api"); s.CPU == nil || s.CPU.Samples != 2 || s.CPU.P50 != 30.5 || s.CPU.Max != 100 {
		t.Errorf("a week: cpu %+v, want 2 hourly means, max 100", s.CPU)
	}
	// Without samples, no figures.
	rep = build(t, st, Query{Since: at(-24 * h), Until: t0}, Options{})
	if rep.Machine.CPU != nil || len(rep.Machine.Disks) != 0 {
		t.Errorf("no samples: machine %+v, want none", rep.Machine)
	}
}
