//go:build linux

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/store"
)

// Shape is the history Generate writes.
type Shape struct {
	Days     int
	Services int
	// Every is the metrics sampling interval (config.DefaultMetricsEvery).
	Every time.Duration
	End   time.Time
}

// Written counts what Generate wrote.
type Written struct {
	Events, Alerts, Samples int
}

// Generate writes into st, through the store's API, Days of history of
// Services services ending at End: steward started each Monday (stopped
// the Sunday night before), every service started with it and ran; one in
// three services crashes about once a day (a backoff, restarted 1 s
// later, and a restarts alert on each second crash); one in four has a
// health check that fails for 5 minutes about every other day (an
// unhealthy alert while it does); each service is restarted by hand once a
// week. Metrics are sampled at Every, as steward samples them: each
// service's CPU and RSS and the machine's CPU, memory and disk; raw samples
// older than the raw tier's retention are pruned as steward prunes them.
func Generate(ctx context.Context, st *store.Store, sh Shape) (Written, error) {
	var w Written
	start := sh.End.Add(-time.Duration(sh.Days) * 24 * time.Hour)
	rng := rand.New(rand.NewPCG(1, uint64(sh.Services)))
	names := make([]string, sh.Services)
	for i := range names {
		names[i] = fmt.Sprintf("svc%03d", i)
	}

	var evs []steward.Event
	state := func(t time.Time, svc string, from, to steward.State, pid int, why string) {
		evs = append(evs, steward.Event{Time: t, Type: steward.EventState, Service: svc, From: from, To: to, PID: pid, Reason: why})
	}
	pid := 1000
	pids := map[string]int{}
	spawn := func(t time.Time, svc string, from steward.State, why string) {
		pid++
		pids[svc] = pid
		state(t, svc, from, steward.StateStarting, pid, why)
		state(t.Add(50*time.Millisecond), svc, steward.StateStarting, steward.StateRunning, pid, "started")
	}
	var alerts []steward.Alert
	alert := func(rule, svc, msg string, from, to time.Time) {
		alerts = append(alerts, steward.Alert{Rule: rule, Subject: svc, Severity: "warning", Message: msg,
			Started: from, Fired: from, Resolved: to, Updated: to, State: steward.AlertResolved})
	}

	for day := 0; day < sh.Days; day++ {
		t0 := start.Add(time.Duration(day) * 24 * time.Hour)
		boot := day%7 == 0
		if boot {
			evs = append(evs, steward.Event{Time: t0, Type: steward.EventSystem, Reason: steward.ReasonStarted + fmt.Sprintf(" (pid %d)", 100+day)})
			for _, svc := range names {
				state(t0, svc, steward.StateStopped, steward.StateStarting, 0, "start requested")
				spawn(t0.Add(10*time.Millisecond), svc, steward.StateStarting, "started")
			}
		}
		for i, svc := range names {
			if i%3 == 0 && rng.IntN(10) < 9 { // a crash
				t := t0.Add(time.Hour + time.Duration(rng.Int64N(int64(20*time.Hour))))
				state(t, svc, steward.StateRunning, steward.StateBackoff, 0, "exit status 1"+steward.ReasonRestarting+" in 1s")
				spawn(t.Add(time.Second), svc, steward.StateBackoff, "exit status 1"+steward.ReasonRestarting)
				if day%2 == 1 {
					alert("restarts", svc, svc+" restarted 2 times in 10m", t, t.Add(10*time.Minute))
				}
			}
			if i%4 == 0 && rng.IntN(2) == 0 { // a failing health check
				t := t0.Add(time.Hour + time.Duration(rng.Int64N(int64(20*time.Hour))))
				evs = append(evs,
					steward.Event{Time: t, Type: steward.EventHealth, Service: svc, PID: pids[svc],
						Reason: steward.HealthReason(steward.HealthHealthy, steward.HealthUnhealthy, "3 checks in a row failed")},
					steward.Event{Time: t.Add(5 * time.Minute), Type: steward.EventHealth, Service: svc, PID: pids[svc],
						Reason: steward.HealthReason(steward.HealthUnhealthy, steward.HealthHealthy, "OK")})
				alert("unhealthy", svc, svc+" is unhealthy: 3 checks in a row failed", t, t.Add(5*time.Minute))
			}
			if day%7 == 3 && i%7 == day%7 { // restarted by hand
				t := t0.Add(22*time.Hour + time.Duration(i)*time.Second)
				state(t, svc, steward.StateRunning, steward.StateStopping, pids[svc], steward.ReasonStopRequested+" by uid:1000:ops")
				state(t.Add(200*time.Millisecond), svc, steward.StateStopping, steward.StateStopped, 0, "stopped (signal: terminated)")
				spawn(t.Add(300*time.Millisecond), svc, steward.StateStopped, "start requested by uid:1000:ops")
			}
		}
		if day%7 == 6 || day == sh.Days-1 { // stopped on Sunday night, and at the end
			t := t0.Add(24*time.Hour - time.Minute)
			for _, svc := range names {
				state(t, svc, steward.StateRunning, steward.StateStopping, pids[svc], steward.ReasonStopRequested)
				state(t.Add(time.Second), svc, steward.StateStopping, steward.StateStopped, 0, "stopped (signal: terminated)")
			}
			evs = append(evs, steward.Event{Time: t.Add(2 * time.Second), Type: steward.EventSystem, Reason: steward.ReasonStopped})
		}
	}
	// Events are stored in time order, as steward appends them.
	sortEvents(evs)
	for i := 0; i < len(evs); i += 1000 {
		if err := st.AppendEvents(ctx, evs[i:min(i+1000, len(evs))]); err != nil {
			return w, err
		}
	}
	w.Events = len(evs)
	for i := range alerts {
		a := &alerts[i]
		if err := st.SaveAlert(ctx, a, steward.AlertTransition{Time: a.Resolved, From: steward.AlertFiring, To: steward.AlertResolved}); err != nil {
			return w, err
		}
	}
	w.Alerts = len(alerts)

	n, err := writeMetrics(ctx, st, names, rng, start, sh)
	w.Samples = n
	return w, err
}

// writeMetrics samples every series at sh.Every from start to sh.End, an
// hour per transaction, pruning the raw tier behind its retention.
func writeMetrics(ctx context.Context, st *store.Store, names []string, rng *rand.Rand, start time.Time, sh Shape) (int, error) {
	type series struct {
		id   int64
		base float64
	}
	var all []series
	add := func(name string, labels map[string]string, base float64) error {
		id, err := st.SeriesID(ctx, name, labels)
		all = append(all, series{id, base})
		return err
	}
	for i, svc := range names {
		if err := add(metrics.ServiceCPU, map[string]string{"service": svc}, float64(1+i%20)); err != nil {
			return 0, err
		}
		if err := add(metrics.ServiceRSS, map[string]string{"service": svc}, float64((20+i%50)<<20)); err != nil {
			return 0, err
		}
	}
	for name, base := range map[string]float64{metrics.SystemCPU: 30, metrics.SystemMemPercent: 55} {
		if err := add(name, nil, base); err != nil {
			return 0, err
		}
	}
	if err := add(metrics.SystemDiskPercent, map[string]string{"mount": "/"}, 40); err != nil {
		return 0, err
	}
	n := 0
	var batch []store.Point
	for h := start; h.Before(sh.End); h = h.Add(time.Hour) {
		batch = batch[:0]
		for t := h; t.Before(h.Add(time.Hour)) && t.Before(sh.End); t = t.Add(sh.Every) {
			for _, s := range all {
				batch = append(batch, store.Point{Series: s.id, Time: t, Value: s.base * (0.5 + rng.Float64())})
			}
		}
		if err := st.WriteMetrics(ctx, batch); err != nil {
			return n, err
		}
		n += len(batch)
		if h.Sub(start)%(24*time.Hour) == 23*time.Hour {
			if _, err := st.PruneMetrics(ctx, store.TierRaw, h.Add(-config.DefaultMetricsKeepRaw)); err != nil {
				return n, err
			}
		}
	}
	_, err := st.PruneMetrics(ctx, store.TierRaw, sh.End.Add(-config.DefaultMetricsKeepRaw))
	return n, err
}
