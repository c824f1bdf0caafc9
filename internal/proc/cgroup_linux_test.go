package proc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stewardhq/steward/internal/testwait"
)

// requireCgroups skips t where steward cannot put trees in cgroups.
func requireCgroups(t *testing.T) {
	t.Helper()
	if m := TreeMechanism(); !strings.HasPrefix(m, "cgroup") {
		t.Skipf("trees are found by %q here: cgroups need root and a writable cgroup v2 or v1 pids hierarchy", m)
	}
}

var sleeps atomic.Int64

// escapingScript returns a shell script that starts a daemon which clears
// its environment (so it carries no tag) and leaves its session, then
// execs into a long sleep, and a function returning the daemon's pids.
func escapingScript(t *testing.T) (script string, daemons func() []int) {
	// The daemon's argument is unique to this test: that is how it is found.
	arg := fmt.Sprintf("300.%d%04d", os.Getpid(), sleeps.Add(1))
	daemons = func() []int { return pidsWithArgs("sleep", arg) }
	t.Cleanup(func() {
		for _, pid := range daemons() {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	})
	return "(setsid env -i sleep " + arg + " &); echo started; exec sleep 1000", daemons
}

// pidsWithArgs returns the live processes whose command line is argv.
func pidsWithArgs(argv ...string) []int {
	want := []byte(strings.Join(argv, "\x00") + "\x00")
	names, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []int
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil || !bytes.Equal(b, want) {
			continue
		}
		pid, _ := strconv.Atoi(strings.Split(name, "/")[2])
		if alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestKillTreeKillsDaemonWithoutMarker(t *testing.T) {
	requireCgroups(t)
	script, daemons := escapingScript(t)
	out := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := launch(t, Spec{Path: "/bin/sh", Args: []string{"sh", "-c", script}, Stdout: f, Tag: uniqueTag(t)})
	waitForOutput(t, out, "started\n")
	testwait.For(t, 10*time.Second, "the daemon to start", func() bool { return len(daemons()) == 1 })
	if err := c.KillTree(); err != nil {
		t.Fatalf("KillTree: %v", err)
	}
	if pids := daemons(); len(pids) > 0 {
		t.Errorf("daemon %v alive after KillTree, want it killed with its cgroup", pids)
	}
	signaled(t, c.wait(t), syscall.SIGKILL)
	if _, err := os.Stat(c.cg.dir); !os.IsNotExist(err) {
		t.Errorf("cgroup %s after KillTree: %v, want it removed", c.cg.dir, err)
	}
}

func TestRunKillsDaemonWithoutMarker(t *testing.T) {
	requireCgroups(t)
	script, daemons := escapingScript(t)
	script = strings.Replace(script, "exec sleep 1000", "exit 0", 1)
	res, err := Run(context.Background(), Command{Path: "/bin/sh", Args: []string{"sh", "-c", script}, MaxOutput: 100})
	if err != nil || res.ExitCode != 0 || string(res.Output) != "started\n" {
		t.Fatalf("Run: %v, exit %d, output %q", err, res.ExitCode, res.Output)
	}
	if pids := daemons(); len(pids) > 0 {
		t.Errorf("daemon %v alive after Run returned, want it killed with its cgroup", pids)
	}
}

// TestCgroupV2 runs a tree in a cgroup of the unified hierarchy where it is
// writable, also on machines whose trees go in v1 cgroups, as this one's.
func TestCgroupV2(t *testing.T) {
	mount := cgroupBase
	if h := cgroupHierarchy(); h == nil || h.version != cgroupV2 {
		mount = filepath.Join(cgroupBase, "unified")
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(mount, &fs); err != nil || fs.Type != unix.CGROUP2_SUPER_MAGIC || !kernelAtLeast(5, 7) {
		t.Skipf("no cgroup v2 hierarchy at %s on Linux 5.7 or later", mount)
	}
	h := &hierarchy{version: cgroupV2, mount: mount, own: filepath.Join(mount, fmt.Sprintf("proctest.%d.%s", os.Getpid(), t.Name()))}
	if err := os.Mkdir(h.own, 0o755); err != nil {
		t.Skipf("cgroup v2 hierarchy at %s is not writable: %v", mount, err)
	}
	t.Cleanup(func() {
		if _, err := h.killAll(h.own, nil, time.Now().Add(killTimeout)); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	c := &cgroup{h: h, dir: filepath.Join(h.own, "1.tree")}
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script, daemons := escapingScript(t)
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	attr := &os.ProcAttr{Files: []*os.File{null, null, null}, Sys: sysProcAttr(nil)}
	p, in, err := startProcess("/bin/sh", []string{"sh", "-c", script}, attr, c)
	if err != nil || in != c {
		t.Fatalf("startProcess: %v, cgroup %v, want %v", err, in, c)
	}
	defer unregister(&Process{pid: p.Pid})
	testwait.For(t, 10*time.Second, "the daemon to start", func() bool { return len(daemons()) == 1 })
	members, err := c.members()
	if err != nil || len(members) != 2 {
		t.Errorf("members: %v, %v, want the shell and the daemon", members, err)
	}
	if pids, err := c.kill(time.Now().Add(killTimeout)); err != nil {
		t.Fatalf("kill: %v, %v", pids, err)
	}
	if st, err := p.Wait(); err != nil || st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("Wait: %v, %v, want killed", st, err)
	}
	if pids := daemons(); len(pids) > 0 {
		t.Errorf("daemon %v alive after kill", pids)
	}
	if err := c.remove(); err != nil {
		t.Errorf("remove: %v", err)
	}
}

// TestSweepKillsCgroupsOfGoneStewards plants a cgroup as a steward process
// that is gone would have left it, with a daemon without a marker in it.
func TestSweepKillsCgroupsOfGoneStewards(t *testing.T) {
	requireCgroups(t)
	h := cgroupHierarchy()
	gone := &hierarchy{version: h.version, controller: h.controller, mount: h.mount, home: h.home,
		own: filepath.Join(filepath.Dir(h.own), fmt.Sprintf("%d.1", os.Getpid()))} // a start time no process has
	if err := os.Mkdir(gone.own, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gone.killAll(gone.own, nil, time.Now().Add(killTimeout)) })
	tag, other := uniqueTag(t), uniqueTag(t)
	var cgs []*cgroup
	var daemons []func() []int
	for _, tg := range []string{tag, other} {
		c := &cgroup{h: gone, dir: filepath.Join(gone.own, "1."+tg)}
		if err := os.Mkdir(c.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		script, d := escapingScript(t)
		null, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer null.Close()
		attr := &os.ProcAttr{Files: []*os.File{null, null, null}, Sys: sysProcAttr(nil)}
		p, in, err := startProcess("/bin/sh", []string{"sh", "-c", script}, attr, c)
		if err != nil || in != c {
			t.Fatalf("startProcess: %v, cgroup %v, want %v", err, in, c)
		}
		t.Cleanup(func() {
			c.kill(time.Now().Add(killTimeout))
			p.Wait()
			unregister(&Process{pid: p.Pid})
		})
		testwait.For(t, 10*time.Second, "the daemon to start", func() bool { return len(d()) == 1 })
		cgs, daemons = append(cgs, c), append(daemons, d)
	}
	killed, err := Sweep(func(tg string) bool { return tg == tag })
	if err != nil || len(killed) != 2 {
		t.Errorf("Sweep: %v, %v, want 2 (the shell and the daemon), nil", killed, err)
	}
	if pids := daemons[0](); len(pids) > 0 {
		t.Errorf("daemon %v alive after Sweep", pids)
	}
	if _, err := os.Stat(cgs[0].dir); !os.IsNotExist(err) {
		t.Errorf("cgroup %s after Sweep: %v, want it removed", cgs[0].dir, err)
	}
	if len(daemons[1]()) != 1 {
		t.Error("Sweep killed the daemon of a tag it did not match")
	}
}

func TestFailedStartLeavesNoCgroup(t *testing.T) {
	requireCgroups(t)
	h := cgroupHierarchy()
	before, err := os.ReadDir(h.own)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Spec{Path: testprog, Dir: filepath.Join(t.TempDir(), "missing"), Tag: uniqueTag(t)}); err == nil {
		t.Fatal("Start in a missing directory: got no error")
	}
	after, err := os.ReadDir(h.own)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("cgroups in %s: %d after a failed Start, want %d as before", h.own, len(after), len(before))
	}
}

// escapeHelper starts the script in PROC_TEST_SCRIPT, prints "own <this
// process's cgroup directory>" and sleeps until killed.
func escapeHelper() {
	if _, err := Start(Spec{Path: "/bin/sh", Args: []string{"sh", "-c", os.Getenv("PROC_TEST_SCRIPT")}}); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	h := cgroupHierarchy()
	if h == nil {
		fmt.Println("error no cgroups")
		os.Exit(1)
	}
	fmt.Println("own", h.own)
	for {
		time.Sleep(time.Hour)
	}
}

func TestReaperKillsTreesOfKilledProcess(t *testing.T) {
	requireCgroups(t)
	script, daemons := escapingScript(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=escape", "PROC_TEST_SCRIPT="+script)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	own, ok := strings.CutPrefix(strings.TrimSpace(line), "own ")
	if err != nil || !ok {
		t.Fatalf("helper: %q, %v", line, err)
	}
	testwait.For(t, 10*time.Second, "the daemon to start", func() bool { return len(daemons()) == 1 })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	testwait.NoError(t, 3*time.Second, func() error {
		if pids := daemons(); len(pids) > 0 {
			return fmt.Errorf("daemon %v outlived the SIGKILL of the process that started it", pids)
		}
		if _, err := os.Stat(own); !os.IsNotExist(err) {
			return fmt.Errorf("cgroup directory %s of the killed process: %v, want it removed", own, err)
		}
		return nil
	})
}

func TestStartPutsChildInItsCgroup(t *testing.T) {
	c := launch(t, spec(t))
	switch m := TreeMechanism(); m {
	case "marker":
		if c.cg != nil {
			t.Errorf("TreeMechanism %q, but the child is in cgroup %s", m, c.cg.dir)
		}
	case "cgroup v2", "cgroup v1 (pids)":
		if c.cg == nil {
			t.Fatalf("TreeMechanism %q, but the child is in no cgroup of its own", m)
		}
		got, err := c.cg.h.cgroupOf(strconv.Itoa(c.Pid()))
		if want := strings.TrimPrefix(c.cg.dir, c.cg.h.mount); err != nil || got != want {
			t.Errorf("child's cgroup: got %q, %v, want %q", got, err, want)
		}
		// The thread that forked the child left its cgroup (v1).
		tasks, _ := filepath.Glob("/proc/self/task/*")
		for _, task := range tasks {
			tid := "self/task/" + filepath.Base(task)
			if cg, err := c.cg.h.cgroupOf(tid); err == nil && strings.HasPrefix(cg, "/"+cgroupDir+"/") {
				t.Errorf("thread %s of this process is in cgroup %s, want it outside steward's", tid, cg)
			}
		}
	default:
		t.Errorf("TreeMechanism: got %q", m)
	}
}
