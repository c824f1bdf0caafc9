package supervise

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/report"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// history is a report.Source of the events the supervisor recorded, after
// a start of steward; it has no incidents, runs or metrics.
type history struct{ evs []steward.Event }

func (h history) History(context.Context, time.Time, time.Time) (before, within []steward.Event, err error) {
	return nil, h.evs, nil
}
func (history) Incidents(context.Context, time.Time, time.Time) ([]steward.Alert, error) {
	return nil, nil
}
func (history) RunsBetween(context.Context, time.Time, time.Time) ([]steward.Run, error) {
	return nil, nil
}
func (history) MetricValues(context.Context, string, store.Tier, time.Time, time.Time) ([]store.SeriesValues, error) {
	return nil, nil
}

// TestReportReadsTheReasons: the report reads the reasons the supervisor
// writes as it means them — a respawn at once, a backoff and a restart for
// an unhealthy check are crashes; a stop asked for then a start is a manual
// restart; a service a reload removed (stopped as asked for, then retired)
// is not down after it. It fails when the texts the supervisor writes and
// those internal/report reads drift apart; the daemon's start and stop
// texts are checked end to end by TestReportEndToEnd.
func TestReportReadsTheReasons(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	yaml := `
services:
  respawn: {command: [app], restart: {backoff: 0s, max_backoff: 0s}}
  backoff: {command: [app], restart: {backoff: 1s, max_backoff: 1s}}
  manual: {command: [app]}
  checked: {command: [app], health: {tcp: "` + l.Addr().String() + `", interval: 5s, retries: 2, on_unhealthy: restart}}
`
	f := startFakes(t, yaml+"  removed: {command: [app]}\n")
	begin := f.clock.Now().UTC()
	f.sup.StartAll()
	for _, svc := range []string{"respawn", "backoff", "manual", "checked", "removed"} {
		f.waitState(svc, steward.StateRunning)
	}
	f.clock.Advance(f.clock.waitTimer(t, 5*time.Second, 5*time.Second))
	testwait.For(t, 10*time.Second, "checked healthy", func() bool {
		st, err := f.sup.Get("checked")
		return err == nil && st.Health == steward.HealthHealthy
	})

	f.proc("respawn", 1).Exit(1)
	f.proc("respawn", 2)
	f.waitState("respawn", steward.StateRunning)

	f.proc("backoff", 1).Exit(1)
	f.waitState("backoff", steward.StateBackoff)
	f.clock.Advance(f.clock.waitTimer(t, time.Second, time.Second))
	f.proc("backoff", 2)
	f.waitState("backoff", steward.StateRunning)

	if err := f.sup.Stop(steward.WithActor(f.ctx(), "alice"), []string{"manual"}); err != nil {
		t.Fatal(err)
	}
	f.waitState("manual", steward.StateStopped)
	f.clock.Advance(time.Minute)
	if err := f.sup.Start(f.ctx(), []string{"manual"}); err != nil {
		t.Fatal(err)
	}
	f.proc("manual", 2)
	f.waitState("manual", steward.StateRunning)

	l.Close()
	for range 2 { // retries: 2
		f.clock.Advance(f.clock.waitTimer(t, 5*time.Second, 5*time.Second))
	}
	testwait.For(t, 10*time.Second, "checked restarting for its failed check", func() bool {
		return slices.ContainsFunc(f.events.reasons("checked", steward.EventState), func(r string) bool {
			return strings.HasSuffix(r, steward.ReasonRestarting)
		})
	})
	// Its port answers again from its next process's second check on (a
	// first may come before), so that "checked" restarts once only.
	again, err := net.Listen("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close() // also keeps it from the garbage collector, which would close it
	f.proc("checked", 2)
	f.waitState("checked", steward.StateRunning)

	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "steward.yaml"), []byte("data_dir: '"+dir+"'\n"+yaml), config.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sup.Apply(f.ctx(), cfg); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "removed stopped", func() bool {
		return f.events.find("removed", steward.StateStopping, steward.StateStopped, 0) != 0
	})
	f.clock.Advance(time.Hour)
	end := f.clock.Now().UTC()

	f.events.mu.Lock()
	evs := append([]steward.Event{{Time: begin, Type: steward.EventSystem, Reason: steward.ReasonStarted + " (pid 1)"}}, f.events.evs...)
	f.events.mu.Unlock()
	rep, err := report.Build(f.ctx(), history{evs}, report.Query{Since: begin.Add(-time.Minute), Until: end},
		report.Options{Now: func() time.Time { return end }})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]steward.ServiceReport{}
	for _, s := range rep.Services {
		got[s.Name] = s
	}
	for _, w := range []struct {
		svc             string
		crashes, manual int
	}{{"respawn", 1, 0}, {"backoff", 1, 0}, {"manual", 0, 1}, {"checked", 1, 0}, {"removed", 0, 0}} {
		if s := got[w.svc]; s.Crashes != w.crashes || s.Manual != w.manual {
			t.Errorf("%s: %d crashes, %d manual restarts; want %d and %d (reasons %q)", w.svc, s.Crashes, s.Manual,
				w.crashes, w.manual, f.events.reasons(w.svc, steward.EventState))
		}
	}
	if s := got["manual"]; s.Down != 0 || s.Planned < time.Minute.Seconds() {
		t.Errorf("manual: %v s down, %v s planned; want its minute stopped on request planned", s.Down, s.Planned)
	}
	if s := got["removed"]; s.Down != 0 || s.Planned < time.Hour.Seconds() {
		t.Errorf("removed: %v s down, %v s planned; want its hour since the reload planned", s.Down, s.Planned)
	}
	if s := got["checked"]; s.Outages != 1 {
		t.Errorf("checked: %d outages, want 1 (its unhealthy restart; reasons %q)", s.Outages, f.events.reasons("checked", steward.EventHealth))
	}
}
