package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/testwait"
)

// why returns `steward why NAME -o json` of e's steward.
func (e *env) why(name string) steward.Why {
	e.t.Helper()
	code, out, stderr := e.steward("why", name, "-o", "json")
	if code != 0 {
		e.t.Fatalf("why %s: exit %d: %s", name, code, stderr)
	}
	var w steward.Why
	if err := json.Unmarshal([]byte(out), &w); err != nil {
		e.t.Fatalf("why -o json: %v\n%s", err, out)
	}
	return w
}

// TestWhyCrashLoop: a service that crashed past its restart intensity is
// explained with the count, the window, its last status and its last lines,
// and every exit is in the store.
func TestWhyCrashLoop(t *testing.T) {
	e := newEnv(t, `
services:
  api:
    command: ["{{prog}}", "-print", "2", "-stderr", "boom: no database", "-exit", "3", "-after", "100ms"]
    restart: {backoff: 10ms, max_backoff: 10ms, max_restarts: 2, window: 1m}
`)
	e.run()
	e.waitState("api", steward.StateFailed)
	testwait.NoError(t, 20*time.Second, func() error {
		w := e.why("api")
		want := "api is failed: it crashed 3 times within 1m0s (restart intensity 2 in 1m0s); the last: exit status 3 after "
		if !strings.HasPrefix(w.Summary, want) {
			return fmt.Errorf("summary = %q, want it to begin %q", w.Summary, want)
		}
		if w.LastExit == nil || !slices.Contains(w.LastExit.LastLines, "boom: no database") || w.LastExit.OOM != steward.OOMNo {
			return fmt.Errorf("last exit = %+v, want its last lines with boom and no OOM", w.LastExit)
		}
		return nil
	})
	code, out, _ := e.steward("why", "api")
	if code != 0 || !strings.Contains(out, "its last lines:\n    ") || !strings.Contains(out, "boom: no database") {
		t.Errorf("why api: exit %d:\n%s", code, out)
	}

	c := client.New(filepath.Join(e.dir, "steward.sock"))
	defer c.Close()
	testwait.NoError(t, 20*time.Second, func() error {
		exits, err := c.Exits(context.Background(), "api", 10)
		if err != nil {
			return err
		}
		if len(exits) != 3 || exits[0].ExitCode == nil || *exits[0].ExitCode != 3 || exits[0].UptimeSeconds < 0.1 {
			return fmt.Errorf("stored exits = %+v, want 3 of status 3 after 100ms or more", exits)
		}
		return nil
	})
}

// TestWhySignalAndStop: a SIGKILL is named and explained as the 137 a
// shell reports, with what steward can tell of the OOM killer; a manual
// stop names who stopped it.
func TestWhySignalAndStop(t *testing.T) {
	e := newEnv(t, `
services:
  victim:
    command: ["sh", "-c", "echo about to die; kill -KILL $$"]
    restart: {policy: never}
  worker:
    command: ["{{prog}}", "-sleep", "1h"]
`)
	e.run()
	e.waitState("victim", steward.StateFailed)
	testwait.NoError(t, 20*time.Second, func() error {
		w := e.why("victim")
		if w.LastExit == nil || w.LastExit.Signal != "SIGKILL" || !strings.Contains(w.LastExit.Status, "137 = 128+9") {
			return fmt.Errorf("last exit = %+v, want SIGKILL explained as 137", w.LastExit)
		}
		if w.LastExit.OOM == "" || w.LastExit.OOMDetail == "" {
			return fmt.Errorf("no OOM verdict: %+v", w.LastExit)
		}
		return nil
	})
	e.waitState("worker", steward.StateRunning)
	if code, _, stderr := e.steward("stop", "worker"); code != 0 {
		t.Fatalf("stop: %s", stderr)
	}
	testwait.NoError(t, 20*time.Second, func() error {
		w := e.why("worker")
		if !strings.HasPrefix(w.Summary, "worker is stopped: stopped by ") || !strings.Contains(w.Summary, " at ") {
			return fmt.Errorf("summary = %q, want who stopped it and when", w.Summary)
		}
		return nil
	})
	if code, _, stderr := e.steward("why", "nope"); code != 1 || !strings.Contains(stderr, "nope") {
		t.Errorf("why nope: exit %d, %q", code, stderr)
	}
}

// TestWhyOOMKill: a process the kernel's OOM killer ends, in a memory
// cgroup with a small limit, is reported as an OOM kill. It needs root and
// a writable cgroup v1 memory controller.
func TestWhyOOMKill(t *testing.T) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skip("no /proc/self/cgroup")
	}
	var memDir string
	for line := range strings.Lines(string(self)) {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "4:memory:"); ok {
			memDir = filepath.Join("/sys/fs/cgroup/memory", p)
		} else if _, p, ok := strings.Cut(strings.TrimSpace(line), ":memory:"); ok {
			memDir = filepath.Join("/sys/fs/cgroup/memory", p)
		}
	}
	if memDir == "" || os.Geteuid() != 0 {
		t.Skip("needs root and a cgroup v1 memory controller")
	}
	cg := filepath.Join(memDir, fmt.Sprintf("steward-oom-test-%d", os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Skipf("cannot create a memory cgroup: %v", err)
	}
	t.Cleanup(func() { os.Remove(cg) })
	if err := os.WriteFile(filepath.Join(cg, "memory.limit_in_bytes"), []byte("33554432"), 0o644); err != nil {
		t.Skipf("cannot set a memory limit: %v", err)
	}
	e := newEnv(t, `
services:
  hog:
    command: ["sh", "-c", "echo $$ > `+cg+`/cgroup.procs && head -c 400000000 /dev/zero | tail"]
    restart: {policy: never}
`)
	e.run()
	e.waitState("hog", steward.StateFailed)
	testwait.NoError(t, 20*time.Second, func() error {
		w := e.why("hog")
		if w.LastExit == nil || w.LastExit.OOM != steward.OOMYes || !strings.HasPrefix(w.Summary, "hog is failed: its last run was killed by the kernel's OOM killer") {
			return fmt.Errorf("summary %q, last exit %+v; want an OOM kill", w.Summary, w.LastExit)
		}
		t.Logf("%s: %s (%s)", w.Summary, w.LastExit.Status, w.LastExit.OOMDetail)
		return nil
	})
}

// TestWhyAfterRestart: the exits stored by an earlier steward on the data
// dir explain a service this one has not run.
func TestWhyAfterRestart(t *testing.T) {
	e := newEnv(t, `
services:
  job:
    command: ["{{prog}}", "-exit", "4"]
    disabled: true
    restart: {policy: never}
`)
	d := e.run()
	e.steward("start", "job") // it may say running or failed: the job ends at once
	e.waitState("job", steward.StateFailed)
	c := client.New(filepath.Join(e.dir, "steward.sock"))
	testwait.NoError(t, 20*time.Second, func() error {
		exits, err := c.Exits(context.Background(), "job", 0)
		if err != nil || len(exits) != 1 {
			return fmt.Errorf("exits %+v, %v; want one stored", exits, err)
		}
		return nil
	})
	c.Close()
	d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.done

	e.run()
	w := e.why("job")
	if w.LastExit == nil || w.LastExit.ExitCode == nil || *w.LastExit.ExitCode != 4 ||
		!slices.ContainsFunc(w.Details, func(s string) bool { return strings.Contains(s, "before this steward started") }) {
		t.Errorf("why = %+v, want the stored exit of status 4", w)
	}
}
