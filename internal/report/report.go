// Package report provides steward's reports: from the store alone, for a
// time range and optionally some services, the availability of each
// service (its SLO and error budget, restarts, outages, MTTR and MTBF, CPU
// and memory), the incidents, the runs of the jobs and the machine's load —
// as the wire type steward.Report, and written as JSON, CSV, a
// self-contained HTML page or an XLSX workbook with native charts.
//
// The daemon builds reports for the API and for report jobs; nothing else
// imports it. docs/reports.md defines every figure.
package report

import (
	"cmp"
	"context"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/store"
)

// Source is what a report reads: *store.Store.
type Source interface {
	History(ctx context.Context, from, to time.Time) (before, within []steward.Event, err error)
	Incidents(ctx context.Context, from, to time.Time) ([]steward.Alert, error)
	RunsBetween(ctx context.Context, from, to time.Time) ([]steward.Run, error)
	MetricValues(ctx context.Context, name string, t store.Tier, from, to time.Time) ([]store.SeriesValues, error)
}

var _ Source = (*store.Store)(nil)

// Query is what a report covers.
type Query struct {
	Since, Until time.Time
	// Services are the services reported; none means every one the
	// history names.
	Services []string
	// Scope, when not nil, narrows the report to a part of the steward:
	// a tenant's, for a principal scoped to one.
	Scope Scope
}

// Scope is the part of a steward a report covers: the services, the
// incidents and the runs it shows. A scoped report has no machine section
// (the machine is no tenant's).
type Scope interface {
	Service(name string) bool
	Alert(a steward.Alert) bool
	Run(r steward.Run) bool
}

// Options are what a report knows beside the store.
type Options struct {
	Node string
	// SLO is the availability objective of each service that has one, in
	// percent: the services' slo: settings.
	SLO map[string]float64
	// Now is the clock; nil means time.Now. A range that ends after it
	// ends at it.
	Now func() time.Time
}

// maxFailures is how many failed runs a report lists per job.
const maxFailures = 10

// Build returns the report of q from src.
func Build(ctx context.Context, src Source, q Query, o Options) (steward.Report, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	gen := now().UTC()
	from, to := q.Since.UTC(), minTime(q.Until.UTC(), gen)
	if !from.Before(to) {
		return steward.Report{}, steward.Errorf(steward.EINVALID, "report range is empty: since %s is not before until %s",
			from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	step := stepFor(to.Sub(from))
	rep := steward.Report{Node: o.Node, Since: from, Until: to, Generated: gen, Step: step.Seconds(),
		Services: []steward.ServiceReport{}, Incidents: []steward.Incident{}, Jobs: []steward.JobReport{},
		Machine: steward.MachineReport{Disks: []steward.DiskReport{}}}

	want := map[string]bool{}
	for _, s := range q.Services {
		want[s] = true
	}
	keep := func(name string) bool {
		return name != "" && (len(want) == 0 || want[name]) && (q.Scope == nil || q.Scope.Service(name))
	}
	tl := newTimeline(from, to, step, keep)
	before, within, err := src.History(ctx, from, to)
	if err != nil {
		return rep, err
	}
	tl.alive = aliveBefore(before)
	for _, ev := range before {
		tl.apply(ev, false)
	}
	for name := range want {
		if keep(name) {
			tl.service(name, from)
		}
	}
	tl.begin()
	seen := map[string]bool{}
	for _, ev := range within {
		tl.apply(ev, true)
		seen[ev.Service] = true
	}
	tl.end()

	incidents, err := src.Incidents(ctx, from, to)
	if err != nil {
		return rep, err
	}
	perService := map[string]int{}
	var resolved, resolvedSecs float64
	for _, a := range incidents {
		svc := a.Service()
		if len(want) > 0 && !want[svc] || q.Scope != nil && !q.Scope.Alert(a) {
			continue
		}
		in := steward.Incident{ID: a.ID, Rule: a.Rule, Subject: a.Subject, Service: svc, Severity: a.Severity,
			Message: a.Message, Started: a.Started, Resolved: a.Resolved, Open: a.Resolved.IsZero()}
		end := cmp.Or(a.Resolved, to)
		in.Duration = max(end.Sub(a.Started).Seconds(), 0)
		if !in.Open && !a.Resolved.Before(from) && a.Resolved.Before(to) {
			resolved++
			resolvedSecs += in.Duration
		}
		perService[svc]++
		rep.Incidents = append(rep.Incidents, in)
	}
	if resolved > 0 {
		rep.MTTR = ptr(resolvedSecs / resolved)
	}

	usage, err := serviceUsage(ctx, src, from, to)
	if err != nil {
		return rep, err
	}
	for _, name := range slices.Sorted(maps.Keys(tl.services)) {
		s := tl.services[name]
		if !want[name] && !seen[name] && s.t.secs[catUp]+s.t.secs[catDown]+s.t.secs[catUnhealthy] == 0 {
			continue // gone before the range began
		}
		sr := serviceReport(s, from, step, o.SLO[name])
		sr.Incidents = perService[name]
		sr.CPU, sr.RSS = usage[name][0], usage[name][1]
		rep.Services = append(rep.Services, sr)
	}

	runs, err := src.RunsBetween(ctx, from, to)
	if err != nil {
		return rep, err
	}
	if q.Scope != nil {
		runs = slices.DeleteFunc(runs, func(r steward.Run) bool { return !q.Scope.Run(r) })
	}
	rep.Jobs = jobReports(runs)

	if q.Scope != nil {
		return rep, nil
	}
	if rep.Machine, err = machine(ctx, src, from, to); err != nil {
		return rep, err
	}
	return rep, nil
}

// aliveBefore reports whether steward ran when a range began whose
// history before is before: its last system event is a start or, with
// none kept, some service has a state.
func aliveBefore(before []steward.Event) bool {
	alive := false
	for _, ev := range before {
		if ev.Type == steward.EventState {
			alive = true
		}
	}
	for _, ev := range slices.Backward(before) {
		if ev.Type == steward.EventSystem {
			if s, ok := systemStart(ev.Reason); ok {
				return s
			}
		}
	}
	return alive
}

// systemStart tells a start of steward (true) from a stop (false) in a
// system event's reason; ok is false for other system events.
func systemStart(reason string) (start, ok bool) {
	switch {
	case strings.HasPrefix(reason, steward.ReasonStarted):
		return true, true
	case strings.HasPrefix(reason, steward.ReasonStopped):
		return false, true
	}
	return false, false
}

// stepFor is the width of the availability buckets of a range of d: an
// hour up to three days, a day up to about a year, a week beyond.
func stepFor(d time.Duration) time.Duration {
	switch {
	case d <= 72*time.Hour:
		return time.Hour
	case d <= 400*24*time.Hour:
		return 24 * time.Hour
	}
	return 7 * 24 * time.Hour
}

func serviceReport(s *service, from time.Time, step time.Duration, slo float64) steward.ServiceReport {
	t := s.t
	up, down := t.secs[catUp], t.secs[catDown]+t.secs[catUnhealthy]
	sr := steward.ServiceReport{Name: s.name, Expected: up + down, Up: up, Down: down, Unhealthy: t.secs[catUnhealthy],
		Planned: t.secs[catPlanned], NoData: t.secs[catNoData], SLO: slo, Crashes: t.crashes, Manual: t.manual,
		Outages: t.outages, Buckets: make([]steward.Availability, len(t.up))}
	if sr.Expected > 0 {
		sr.Availability = ptr(100 * up / sr.Expected)
		if slo > 0 {
			budget := (1 - slo/100) * sr.Expected
			sr.ErrorBudget = ptr(budget)
			if budget > 0 { // a 100% SLO has no budget to spend
				sr.BudgetLeft = ptr(100 * (budget - down) / budget)
			}
		}
	}
	if t.outages > 0 {
		sr.MTTR = ptr(down / float64(t.outages))
		sr.MTBF = ptr(up / float64(t.outages))
	}
	for i := range t.up {
		b := steward.Availability{Start: from.Add(time.Duration(i) * step), Up: t.up[i], Down: t.down[i]}
		if exp := t.up[i] + t.down[i]; exp > 0 {
			b.Percent = ptr(100 * t.up[i] / exp)
		}
		sr.Buckets[i] = b
	}
	return sr
}

func jobReports(runs []steward.Run) []steward.JobReport {
	byName := map[string]*steward.JobReport{}
	durations := map[string][]float64{}
	for _, r := range runs {
		j := byName[r.Name]
		if j == nil {
			j = &steward.JobReport{Name: r.Name, Failures: []steward.RunFailure{}}
			byName[r.Name] = j
		}
		j.Runs++
		switch r.Status {
		case steward.RunSucceeded:
			j.Succeeded++
		case steward.RunFailed, steward.RunTimedOut, steward.RunLost:
			j.Failed++
			j.Failures = append(j.Failures, steward.RunFailure{ID: r.ID, Started: cmp.Or(r.Started, r.Created),
				Status: r.Status, Error: r.Error})
		default:
			j.Other++
		}
		if !r.Started.IsZero() && !r.Ended.IsZero() && r.Status.Done() {
			durations[r.Name] = append(durations[r.Name], r.Ended.Sub(r.Started).Seconds())
		}
	}
	out := []steward.JobReport{}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		j := byName[name]
		if n := j.Succeeded + j.Failed; n > 0 {
			j.Success = 100 * float64(j.Succeeded) / float64(n)
		}
		d := durations[name]
		slices.Sort(d)
		j.DurationP50, j.DurationP95 = percentile(d, 50), percentile(d, 95)
		if len(j.Failures) > maxFailures {
			j.Failures = slices.Clone(j.Failures[len(j.Failures)-maxFailures:])
		}
		slices.Reverse(j.Failures)
		out = append(out, *j)
	}
	return out
}

// tierFor is the finest tier of the metrics history that gives a range of
// d a bounded number of values per series: raw samples up to 6 hours,
// per-minute means up to 3 days, per-hour means beyond.
func tierFor(d time.Duration) store.Tier {
	switch {
	case d <= 6*time.Hour:
		return store.TierRaw
	case d <= 72*time.Hour:
		return store.TierMinute
	}
	return store.TierHour
}

// values returns the values of metric name in [from, to) from the finest
// fitting tier that holds some, coarser ones standing in for what
// retention pruned.
func values(ctx context.Context, src Source, name string, from, to time.Time) ([]store.SeriesValues, error) {
	tiers := []store.Tier{store.TierRaw, store.TierMinute, store.TierHour}
	for _, t := range tiers[slices.Index(tiers, tierFor(to.Sub(from))):] {
		sv, err := src.MetricValues(ctx, name, t, from, to)
		if err != nil || len(sv) > 0 {
			return sv, err
		}
	}
	return nil, nil
}

// serviceUsage returns the CPU and RSS distributions of each service.
func serviceUsage(ctx context.Context, src Source, from, to time.Time) (map[string][2]*steward.Distribution, error) {
	out := map[string][2]*steward.Distribution{}
	for i, name := range []string{metrics.ServiceCPU, metrics.ServiceRSS} {
		sv, err := values(ctx, src, name, from, to)
		if err != nil {
			return nil, err
		}
		for _, v := range sv {
			svc := v.Series.Labels["service"]
			d := out[svc]
			d[i] = distribution(v)
			out[svc] = d
		}
	}
	return out, nil
}

func machine(ctx context.Context, src Source, from, to time.Time) (steward.MachineReport, error) {
	m := steward.MachineReport{Disks: []steward.DiskReport{}}
	for _, f := range []struct {
		name string
		into **steward.Distribution
	}{{metrics.SystemCPU, &m.CPU}, {metrics.SystemMemPercent, &m.Memory}} {
		sv, err := values(ctx, src, f.name, from, to)
		if err != nil {
			return m, err
		}
		if len(sv) > 0 {
			*f.into = distribution(sv[0])
		}
	}
	sv, err := values(ctx, src, metrics.SystemDiskPercent, from, to)
	if err != nil {
		return m, err
	}
	for _, v := range sv {
		m.Disks = append(m.Disks, steward.DiskReport{Mount: v.Series.Labels["mount"], Used: *distribution(v)})
	}
	slices.SortFunc(m.Disks, func(a, b steward.DiskReport) int { return cmp.Compare(a.Mount, b.Mount) })
	return m, nil
}

func distribution(v store.SeriesValues) *steward.Distribution {
	vals := slices.Clone(v.Values)
	slices.Sort(vals)
	return &steward.Distribution{P50: percentile(vals, 50), P95: percentile(vals, 95), Max: v.Max, Samples: len(vals)}
}

// percentile is the nearest-rank p-th percentile of sorted; 0 for none.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ptr[T any](v T) *T { return &v }
