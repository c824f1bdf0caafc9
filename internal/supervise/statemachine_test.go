package supervise

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// TestCrashBackoffIntensity drives a crash loop with the fake clock: each
// crash waits a doubled backoff (jitter only adds, capped at max_backoff),
// and the crash past max_restarts within the window fails the service.
func TestCrashBackoffIntensity(t *testing.T) {
	f := startFakes(t, `
services:
  a:
    command: [app]
    restart: {policy: on-failure, backoff: 1s, max_backoff: 4s, max_restarts: 3, window: 1m}
`)
	if err := f.sup.Start(f.ctx(), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct{ lo, hi time.Duration }{{time.Second, 1250 * time.Millisecond}, {2 * time.Second, 2500 * time.Millisecond}, {4 * time.Second, 4 * time.Second}} {
		f.proc("a", i+1).Exit(1)
		f.waitState("a", steward.StateBackoff)
		d := f.clock.waitTimer(t, want.lo, want.hi)
		if f.procs.count("a") != i+1 {
			t.Fatalf("restart %d before its backoff of %v", i+1, d)
		}
		f.clock.Advance(d)
		f.proc("a", i+2)
		f.waitState("a", steward.StateRunning)
	}
	f.proc("a", 4).Exit(1)
	st := f.waitState("a", steward.StateFailed)
	if !strings.Contains(st.Reason, "exit status 1; restart intensity exceeded: 3 restarts within 1m0s") {
		t.Errorf("reason = %q", st.Reason)
	}
	if st.Restarts != 3 || st.ExitCode == nil || *st.ExitCode != 1 {
		t.Errorf("restarts = %d, exit code %v, want 3 and 1", st.Restarts, st.ExitCode)
	}
	waitCount(t, f.mon, "a failed true", 1)
	if got := f.mon.count("a restarting true"); got != 3 {
		t.Errorf("restarting reported %d times, want 3:\n%s", got, f.mon.all())
	}
	want := []string{"stopped>starting", "starting>running"}
	for range 3 {
		want = append(want, "running>backoff", "backoff>running")
	}
	want = append(want, "running>failed")
	if got := f.events.transitions("a"); !slices.Equal(got, want) {
		t.Errorf("transitions = %v, want %v", got, want)
	}
}

// TestStableRunResetsBackoff: a run that lasted restart.stable resets the
// backoff to restart.backoff and clears the restarting condition, and
// restarts older than the window no longer count.
func TestStableRunResetsBackoff(t *testing.T) {
	f := startFakes(t, `
services:
  a:
    command: [app]
    restart: {policy: always, backoff: 1s, max_backoff: 1m, max_restarts: 2, window: 1m, stable: 10s}
`)
	if err := f.sup.Start(f.ctx(), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		f.proc("a", i)
		f.waitState("a", steward.StateRunning)
		if i > 1 {
			f.clock.waitTimer(t, 10*time.Second, 10*time.Second)
		}
		f.clock.Advance(2 * time.Minute)
		if i > 1 {
			waitCount(t, f.mon, "a restarting false: running stably for 10s", i-1)
		}
		f.proc("a", i).Exit(0) // policy always: restarted all the same
		f.waitState("a", steward.StateBackoff)
		// Never doubled: every run was stable.
		f.clock.Advance(f.clock.waitTimer(t, time.Second, 1250*time.Millisecond))
	}
	st := f.waitState("a", steward.StateRunning)
	if st.Restarts != 4 {
		t.Errorf("restarts = %d, want 4 (more than max_restarts, but outside the window)", st.Restarts)
	}
}

// TestStopEscalatesToKillOnTheClock: a process that ignores the stop
// signal is killed once stop.timeout has passed on the clock.
func TestStopEscalatesToKillOnTheClock(t *testing.T) {
	f := startFakes(t, `
services:
  a:
    command: [app, ignore-term]
    stop: {timeout: 30s}
`)
	if err := f.sup.Start(f.ctx(), nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.sup.Stop(f.ctx(), []string{"a"}) }()
	f.waitState("a", steward.StateStopping)
	f.clock.Advance(f.clock.waitTimer(t, 30*time.Second, 30*time.Second))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := f.waitState("a", steward.StateStopped); st.Reason != "stopped (signal: killed)" {
		t.Errorf("reason = %q, want the kill", st.Reason)
	}
}

// TestRestartAllStopsDependentsFirst: restart --all stops dependents before
// their dependencies, as stop --all does, then starts in dependency order.
func TestRestartAllStopsDependentsFirst(t *testing.T) {
	f := startFakes(t, `
services:
  db: {command: [db]}
  api: {command: [api], depends_on: [db]}
  web: {command: [web], depends_on: [api]}
`)
	if err := f.sup.Start(f.ctx(), nil); err != nil {
		t.Fatal(err)
	}
	if err := f.sup.Restart(f.ctx(), nil); err != nil {
		t.Fatal(err)
	}
	ev := f.events
	for _, pair := range [][2]string{{"web", "api"}, {"api", "db"}} {
		dependent, dependency := pair[0], pair[1]
		stopped := ev.find(dependent, steward.StateStopping, steward.StateStopped, 0)
		stopping := ev.find(dependency, steward.StateRunning, steward.StateStopping, 0)
		if stopped == 0 || stopping == 0 || stopping < stopped {
			t.Errorf("%s was asked to stop (event %d) before its dependent %s had stopped (event %d)", dependency, stopping, dependent, stopped)
		}
		// Started again in dependency order.
		up := ev.find(dependency, steward.StateStarting, steward.StateRunning, stopping)
		depUp := ev.find(dependent, steward.StateStarting, steward.StateRunning, stopped)
		if up == 0 || depUp == 0 || depUp < up {
			t.Errorf("%s running again at event %d, before its dependency %s (event %d)", dependent, depUp, dependency, up)
		}
	}
	for _, svc := range []string{"db", "api", "web"} {
		if n := f.procs.count(svc); n != 2 {
			t.Errorf("%s started %d times, want 2", svc, n)
		}
	}
}

// TestDependencyConditions: a dependent starts only once each dependency
// meets the condition of its depends_on entry.
func TestDependencyConditions(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f := startFakes(t, `
services:
  db: {command: [db]}
  cache: {command: [cache], ready: {after: 1h}}
  web: {command: [web], health: {tcp: "`+l.Addr().String()+`", interval: 5s, retries: 1}}
  migrate: {command: [migrate], restart: {policy: never}}
  api:
    command: [api]
    depends_on: {migrate: completed, db: ready, cache: started, web: healthy}
`)
	f.sup.StartAll()
	st := f.waitState("api", steward.StateStarting)
	if want := "waiting for migrate (completed), db, cache (started), web (healthy)"; st.Reason != want {
		t.Errorf("api's reason = %q, want %q", st.Reason, want)
	}
	f.waitState("migrate", steward.StateRunning)
	f.waitState("web", steward.StateRunning)
	f.proc("migrate", 1).Exit(0)
	f.waitState("migrate", steward.StateExited)
	exited := f.events.find("migrate", steward.StateRunning, steward.StateExited, 0)
	// Only the health check is missing now: cache is started, not ready.
	f.clock.Advance(f.clock.waitTimer(t, 5*time.Second, 5*time.Second))
	f.waitState("api", steward.StateRunning)
	if st, _ := f.sup.Get("cache"); st.State != steward.StateStarting {
		t.Errorf("cache is %s, want still starting (not ready)", st.State)
	}
	if st, _ := f.sup.Get("web"); st.Health != steward.HealthHealthy {
		t.Errorf("api runs, but web is %s", st.Health)
	}
	if spawned := f.events.find("api", steward.StateStarting, steward.StateRunning, 0); spawned < exited {
		t.Errorf("api ran at event %d, before migrate completed at event %d", spawned, exited)
	}
}

// TestCompletedDependencyFails: a dependency that must complete and fails
// fails its dependent with the reason, and the dependent never starts.
func TestCompletedDependencyFails(t *testing.T) {
	f := startFakes(t, `
services:
  migrate: {command: [migrate], restart: {policy: never}}
  api: {command: [api], depends_on: {migrate: completed}}
`)
	f.sup.StartAll()
	f.waitState("migrate", steward.StateRunning)
	f.proc("migrate", 1).Exit(2)
	st := f.waitState("api", steward.StateFailed)
	if want := "dependency migrate failed: exit status 2; restart policy never"; st.Reason != want {
		t.Errorf("api's reason = %q, want %q", st.Reason, want)
	}
	if n := f.procs.count("api"); n != 0 {
		t.Errorf("api started %d times, want never", n)
	}
}

func TestDependencyMet(t *testing.T) {
	type status struct {
		state  steward.State
		health steward.Health
		live   bool
	}
	const (
		wait = iota
		met
		fails
	)
	starting := status{state: steward.StateStarting}
	startedNotReady := status{state: steward.StateStarting, live: true}
	running := status{state: steward.StateRunning, live: true}
	healthy := status{state: steward.StateRunning, health: steward.HealthHealthy, live: true}
	unhealthy := status{state: steward.StateRunning, health: steward.HealthUnhealthy, live: true}
	backoff := status{state: steward.StateBackoff}
	exited := status{state: steward.StateExited}
	failed := status{state: steward.StateFailed}
	stopped := status{state: steward.StateStopped}
	tests := []struct {
		cond config.Condition
		st   status
		want int
	}{
		{config.ConditionStarted, starting, wait},
		{config.ConditionStarted, startedNotReady, met},
		{config.ConditionStarted, backoff, wait},
		{config.ConditionStarted, exited, met},
		{config.ConditionStarted, failed, fails},
		{config.ConditionReady, startedNotReady, wait},
		{config.ConditionReady, running, met},
		{config.ConditionReady, exited, met},
		{config.ConditionReady, stopped, fails},
		{config.ConditionHealthy, running, wait},
		{config.ConditionHealthy, unhealthy, wait},
		{config.ConditionHealthy, healthy, met},
		{config.ConditionHealthy, exited, fails},
		{config.ConditionCompleted, running, wait},
		{config.ConditionCompleted, healthy, wait},
		{config.ConditionCompleted, backoff, wait},
		{config.ConditionCompleted, exited, met},
		{config.ConditionCompleted, failed, fails},
	}
	for _, tt := range tests {
		done, err := dependencyMet("d", tt.cond, steward.ServiceStatus{State: tt.st.state, Health: tt.st.health, Reason: "why"}, tt.st.live)
		got := wait
		switch {
		case err != nil:
			got = fails
		case done:
			got = met
		}
		if got != tt.want {
			t.Errorf("%s of %+v: got %d (err %v), want %d (0 wait, 1 met, 2 fails)", tt.cond, tt.st, got, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), "dependency d") {
			t.Errorf("%s of %+v: error %q does not name the dependency", tt.cond, tt.st, err)
		}
	}
}
