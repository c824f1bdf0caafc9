package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// reaperOf returns the pid of the reaper of the steward with pid steward,
// or 0 when it has none (no cgroups here).
func reaperOf(t *testing.T, steward int) int {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		args := strings.Split(string(b), "\x00")
		if err != nil || len(args) < 4 || args[0] != "steward-reaper" || !strings.HasPrefix(filepath.Base(args[3]), strconv.Itoa(steward)+".") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		return pid
	}
	return 0
}

// TestSecondStewardOnDataDir starts a second steward on the data dir of a
// running one, with a socket of its own: it must exit at once naming the
// first's PID, and leave the first's service alone.
func TestSecondStewardOnDataDir(t *testing.T) {
	e := newEnv(t, `
services:
  nap: {command: ["sleep", "1000"]}
`)
	first := e.run()
	nap := e.waitState("nap", steward.StateRunning)

	second := filepath.Join(e.dir, "second.yaml")
	yaml := "data_dir: .\napi: {socket: second.sock}\nservices:\n  nap: {command: [\"sleep\", \"1000\"]}\n"
	if err := os.WriteFile(second, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, stewardBin, "run", "-c", second)
	cmd.Env = command().Env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || ctx.Err() != nil {
		t.Fatalf("second steward run: %v, want a non-zero exit at once:\n%s", err, out)
	}
	want := fmt.Sprintf("steward is already running on %s (pid %d)", e.dir, first.cmd.Process.Pid)
	if !strings.Contains(string(out), want) || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
		t.Errorf("second steward run said:\n%s\nwant one line with %q", out, want)
	}
	if st := e.ps()["nap"]; st.State != steward.StateRunning || st.PID != nap.PID || !alive(nap.PID) {
		t.Errorf("the first steward's service after the second start: %s pid %d (alive %v), want running as pid %d",
			st.State, st.PID, alive(st.PID), nap.PID)
	}
}

// TestSweepIsRecorded kills steward with SIGKILL: the next one on the data
// dir kills what the first left and records it as a system event naming
// the dead steward and the service.
func TestSweepIsRecorded(t *testing.T) {
	e := newEnv(t, `
services:
  tree:
    command: ["{{prog}}", "-spawn", "1", "-orphan", "1", "-pidfile", "{{dir}}/tree.pids"]
`)
	d := e.run()
	e.waitState("tree", steward.StateRunning)
	pids := readPids(t, filepath.Join(e.dir, "tree.pids"), 2)
	// The reaper would kill the tree as soon as steward dies: it is stopped
	// first and killed with steward, so that what is left is the sweep's.
	reaper := reaperOf(t, d.cmd.Process.Pid)
	if reaper != 0 {
		syscall.Kill(reaper, syscall.SIGSTOP)
	}
	d.cmd.Process.Kill()
	<-d.done
	if reaper != 0 {
		syscall.Kill(reaper, syscall.SIGKILL)
	}

	e.run()
	testwait.NoError(t, 10*time.Second, func() error {
		for _, p := range pids {
			if alive(p) {
				return fmt.Errorf("pid %d survived steward's SIGKILL and restart", p)
			}
		}
		return nil
	})
	code, out, stderr := e.steward("events", "-o", "json")
	if code != 0 {
		t.Fatalf("events: exit %d: %s", code, stderr)
	}
	var evs []steward.Event
	if err := json.Unmarshal([]byte(out), &evs); err != nil {
		t.Fatalf("events -o json: %v\n%s", err, out)
	}
	re := regexp.MustCompile(fmt.Sprintf(`^killed \d+ processes \(pid ([\d, ]+)\) left by a previous run of steward \(pid %d\): services tree$`, d.cmd.Process.Pid))
	for _, ev := range evs {
		m := re.FindStringSubmatch(ev.Reason)
		if ev.Type != steward.EventSystem || m == nil {
			continue
		}
		killed := strings.Split(m[1], ", ")
		for _, p := range pids {
			if !slices.Contains(killed, strconv.Itoa(p)) {
				t.Errorf("the sweep's event %q does not name pid %d, which it killed", ev.Reason, p)
			}
		}
		return
	}
	t.Errorf("no system event matching %s in:\n%s", re, out)
}
