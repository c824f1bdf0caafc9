package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// requireCgroups skips t unless steward can put its trees in cgroups here:
// as root, with a writable cgroup v2 or v1 pids hierarchy.
func requireCgroups(t *testing.T) {
	t.Helper()
	var fs unix.Statfs_t
	dir := "/sys/fs/cgroup"
	if err := unix.Statfs(dir, &fs); err != nil || fs.Type != unix.CGROUP2_SUPER_MAGIC {
		dir = "/sys/fs/cgroup/pids"
	}
	probe := filepath.Join(dir, fmt.Sprintf("steward-e2e-probe.%d", os.Getpid()))
	if err := os.Mkdir(probe, 0o755); err != nil {
		t.Skipf("steward cannot create cgroups here (%v): trees are found by their marker only", err)
	}
	unix.Rmdir(probe)
}

// uniqueArg returns an argument for sleep that no process outside this
// test carries: sleep takes a fraction of a second.
func uniqueArg(seconds int) string {
	return fmt.Sprintf("%d.%d%d", seconds, os.Getpid(), time.Now().UnixNano()%1e6)
}

// sleeps returns the live (not zombie) processes whose command line is
// "sleep arg", and makes t's cleanup kill any left.
func sleeps(t *testing.T, arg string) func() []int {
	find := func() []int {
		want := []byte("sleep\x00" + arg + "\x00")
		names, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		var pids []int
		for _, name := range names {
			if b, err := os.ReadFile(name); err == nil && bytes.Equal(b, want) {
				pid, _ := strconv.Atoi(strings.Split(name, "/")[2])
				if alive(pid) {
					pids = append(pids, pid)
				}
			}
		}
		return pids
	}
	t.Cleanup(func() {
		for _, pid := range find() {
			unix.Kill(pid, unix.SIGKILL)
		}
	})
	return find
}

// TestStopKillsDaemonWithoutMarker: a daemon that cleared its environment
// and left its session dies with its service.
func TestStopKillsDaemonWithoutMarker(t *testing.T) {
	requireCgroups(t)
	arg := uniqueArg(3002)
	daemons := sleeps(t, arg)
	e := newEnv(t, `
services:
  escape:
    command: ["sh", "-c", "(setsid env -i sleep `+arg+` &); exec sleep 1000"]
`)
	e.run()
	e.waitState("escape", steward.StateRunning)
	testwait.For(t, 10*time.Second, "the daemon to start", func() bool { return len(daemons()) == 1 })
	if code, _, stderr := e.steward("stop", "escape"); code != 0 {
		t.Fatalf("stop escape: exit %d: %s", code, stderr)
	}
	testwait.NoError(t, 5*time.Second, func() error {
		if pids := daemons(); len(pids) > 0 {
			return fmt.Errorf("sleep %s (pid %v) outlived steward stop", arg, pids)
		}
		return nil
	})
}

// TestSIGKILLKillsWholeTrees: once steward is killed with SIGKILL, nothing
// of its services' trees lives on, without starting steward again.
func TestSIGKILLKillsWholeTrees(t *testing.T) {
	requireCgroups(t)
	arg := uniqueArg(3003)
	tree := sleeps(t, arg)
	const services = 5
	var yaml strings.Builder
	yaml.WriteString("services:\n")
	for i := range services {
		// A double-forked daemon, one that also cleared its environment
		// and left the session, a background child, and the main process.
		fmt.Fprintf(&yaml, "  s%d:\n    command: [\"sh\", \"-c\", \"(sleep %s &); (setsid env -i sleep %s &); sleep %s & exec sleep %s\"]\n",
			i, arg, arg, arg, arg)
	}
	e := newEnv(t, yaml.String())
	d := e.run()
	for i := range services {
		e.waitState(fmt.Sprintf("s%d", i), steward.StateRunning)
	}
	testwait.NoError(t, 10*time.Second, func() error {
		if n := len(tree()); n != 4*services {
			return fmt.Errorf("%d processes of the trees run, want %d", n, 4*services)
		}
		return nil
	})
	pid := d.cmd.Process.Pid
	d.cmd.Process.Kill()
	<-d.done
	testwait.NoError(t, 10*time.Second, func() error {
		if pids := tree(); len(pids) > 0 {
			return fmt.Errorf("%d processes of the trees outlived steward's SIGKILL: %v", len(pids), pids)
		}
		return nil
	})
	// The reaper has removed the cgroups of the killed steward.
	testwait.NoError(t, 10*time.Second, func() error {
		for _, dir := range []string{"/sys/fs/cgroup/steward", "/sys/fs/cgroup/pids/steward"} {
			left, err := filepath.Glob(filepath.Join(dir, strconv.Itoa(pid)+".*"))
			if err != nil {
				return err
			}
			if len(left) > 0 {
				return errors.New("cgroups left: " + strings.Join(left, " "))
			}
		}
		return nil
	})
}
