package supervise

import (
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

// TestNotifyWatchdogOnTheClock: READY=1 makes the service running, STATUS=
// shows in its status, a WATCHDOG=1 ping moves the deadline, and a missed
// one kills the run, which the restart policy answers.
func TestNotifyWatchdogOnTheClock(t *testing.T) {
	sink := &exitSink{}
	f := startFakesWith(t, `
services:
  a:
    command: [app]
    ready: {notify: true, watchdog: 5s, timeout: 1h}
    restart: {backoff: 1s}
`, func(o *Options) { o.Exits = sink })
	f.sup.StartAll()
	f.proc("a", 1)
	svc := f.sup.service("a")
	send := func(n int, kv ...string) {
		fields := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			fields[kv[i]] = kv[i+1]
		}
		svc.notifyC <- notifyMsg{inst: n, fields: fields}
	}
	f.waitState("a", steward.StateStarting)
	send(1, "READY", "1", "STATUS", "warming up")
	if st := f.waitState("a", steward.StateRunning); st.StatusText != "warming up" || st.Reason != "ready (READY=1)" {
		t.Errorf("status text %q, reason %q", st.StatusText, st.Reason)
	}
	f.clock.waitTimer(t, 5*time.Second, 5*time.Second)
	f.clock.Advance(4 * time.Second)
	send(1, "WATCHDOG", "1")
	// Of another instance: ignored. The loop takes it only once it has
	// acted on the ping, so the clock moves on after that.
	send(7, "READY", "1")
	f.clock.Advance(2 * time.Second)
	if st, _ := f.sup.Get("a"); st.State != steward.StateRunning {
		t.Fatalf("a is %s (%s) after a ping 2s ago, want running", st.State, st.Reason)
	}
	f.clock.Advance(3 * time.Second)
	st := f.waitState("a", steward.StateBackoff)
	if !strings.HasPrefix(st.Reason, "watchdog: no WATCHDOG=1 within 5s; restarting in") {
		t.Errorf("reason %q", st.Reason)
	}
	if e := sink.wait(t, 1)[0]; e.Probe != "watchdog: no WATCHDOG=1 within 5s" {
		t.Errorf("probe %q", e.Probe)
	}
}
