package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestNotifyReady: a service with ready.notify is ready once it sends
// READY=1 (go-systemd's client in testprog), its STATUS= shows in ps, and
// its dependent starts only then.
func TestNotifyReady(t *testing.T) {
	e := newEnv(t, `
services:
  db:
    command: ["{{prog}}", "-sd-notify", "STATUS=serving\nREADY=1", "-ready-after", "300ms"]
    ready: {notify: true, timeout: 20s}
  web:
    command: ["{{prog}}", "-sleep", "1h"]
    depends_on: [db]
`)
	e.run()
	st := e.waitState("db", steward.StateRunning)
	if st.Reason != "ready (READY=1)" || st.StatusText != "serving" {
		t.Errorf("db: reason %q, status text %q; want ready (READY=1) and serving", st.Reason, st.StatusText)
	}
	e.waitState("web", steward.StateRunning)
	if code, out, _ := e.steward("ps"); code != 0 || !strings.Contains(out, "status: serving") {
		t.Errorf("ps: exit %d, no STATUS= in:\n%s", code, out)
	}
}

// TestNotifySystemdNotify: systemd's own systemd-notify works unchanged.
func TestNotifySystemdNotify(t *testing.T) {
	if _, err := exec.LookPath("systemd-notify"); err != nil {
		t.Skip("systemd-notify is not installed")
	}
	e := newEnv(t, `
services:
  legacy:
    command: ["sh", "-c", "systemd-notify --ready --status='up and running' && exec sleep 3600"]
    ready: {notify: true, timeout: 20s}
`)
	e.run()
	st := e.waitState("legacy", steward.StateRunning)
	if st.StatusText != "up and running" {
		t.Errorf("status text %q, want up and running", st.StatusText)
	}
}

// TestNotifyWatchdog: a service whose WATCHDOG=1 pings stop is restarted
// under its policy, and its exit record names the watchdog.
func TestNotifyWatchdog(t *testing.T) {
	e := newEnv(t, `
services:
  pinger:
    command: ["{{prog}}", "-sd-notify", "READY=1", "-watchdog-for", "1s"]
    ready: {notify: true, watchdog: 400ms, timeout: 20s}
    restart: {backoff: 10ms, max_restarts: 100}
`)
	e.run()
	e.waitState("pinger", steward.StateRunning)
	testwait.NoError(t, 20*time.Second, func() error {
		w := e.why("pinger")
		if w.LastExit == nil || w.LastExit.Probe != "watchdog: no WATCHDOG=1 within 400ms" {
			return fmt.Errorf("last exit %+v, want one ended by the watchdog", w.LastExit)
		}
		return nil
	})
	if st := e.ps()["pinger"]; st.Restarts < 1 {
		t.Errorf("restarts = %d, want the watchdog's restart", st.Restarts)
	}
}

// TestNotifyOutsiderIgnored: READY=1 from a process outside the service's
// tree does not make it ready: the kernel's credentials name the sender.
func TestNotifyOutsiderIgnored(t *testing.T) {
	e := newEnv(t, `
services:
  quiet:
    command: ["{{prog}}", "-sleep", "1h"]
    ready: {notify: true, timeout: 2s}
    restart: {policy: never}
`)
	d := e.run()
	st := e.waitState("quiet", steward.StateStarting)
	var sock string
	testwait.NoError(t, 20*time.Second, func() error {
		environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", e.ps()["quiet"].PID))
		if err != nil {
			return err
		}
		for kv := range strings.SplitSeq(string(environ), "\x00") {
			if v, ok := strings.CutPrefix(kv, "NOTIFY_SOCKET="); ok {
				sock = v
				return nil
			}
		}
		return fmt.Errorf("no NOTIFY_SOCKET in the environment of pid %d", st.PID)
	})
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("READY=1")); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 20*time.Second, "the outsider's message dropped", func() bool {
		return strings.Contains(d.logs.String(), "notify message from a process outside the service's tree dropped")
	})
	st = e.waitState("quiet", steward.StateFailed)
	if !strings.Contains(st.Reason, "not ready within 2s") {
		t.Errorf("reason %q, want not ready within 2s", st.Reason)
	}
}
