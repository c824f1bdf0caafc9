package proc

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stewardhq/steward/internal/testwait"
)

// runHelper runs the test binary as a helper program, named by helperEnv.
//
// "pdeathsig": start testprog from a goroutine locked to a thread that then
// exits, check that the child outlived that thread, print "child <pid>" and
// sleep until killed.
//
// "escape": see escapeHelper.
func runHelper(name string) {
	if name == "escape" {
		escapeHelper()
	}
	if name != "pdeathsig" {
		fmt.Println("error unknown helper", name)
		os.Exit(1)
	}
	fail := func(v ...any) {
		fmt.Println(append([]any{"error"}, v...)...)
		os.Exit(1)
	}
	// Keep the main thread to this goroutine: the runtime never ends the
	// main thread, so the goroutine below must run on another.
	runtime.LockOSThread()
	r, w, err := os.Pipe()
	if err != nil {
		fail(err)
	}
	type result struct {
		p   *Process
		tid int
		err error
	}
	started := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		p, err := Start(Spec{
			Path:   os.Getenv("PROC_TEST_TESTPROG"),
			Args:   []string{"testprog", "-ignore-term", "-ready-line", "up"},
			Stdout: w,
			Tag:    os.Getenv("PROC_TEST_TAG"),
		})
		started <- result{p, unix.Gettid(), err}
	}()
	res := <-started
	w.Close()
	if res.err != nil {
		fail(res.err)
	}
	out := bufio.NewReader(r)
	if line, err := out.ReadString('\n'); line != "up\n" {
		fail("child said", line, err)
	}
	task := fmt.Sprintf("/proc/self/task/%d", res.tid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(task); err != nil {
			break
		}
		if time.Now().After(deadline) {
			fail("the thread that called Start did not exit")
		}
	}
	// Had the child's parent-death signal been tied to that thread, SIGKILL
	// would now be pending for it, and it would die before it could answer.
	if err := unix.Kill(res.p.Pid(), unix.SIGTERM); err != nil {
		fail(err)
	}
	if line, err := out.ReadString('\n'); line != "ignored TERM\n" {
		fail("child died with the thread that started it:", line, err)
	}
	fmt.Printf("child %d\n", res.p.Pid())
	for {
		time.Sleep(time.Hour)
	}
}

// gone reports whether the process pid that started at start has exited:
// it is no more, is a zombie, or its pid now names another process.
func gone(pid int, start uint64) bool {
	pi, err := readStat(pid)
	return err != nil || pi.zombie || pi.start != start
}

// pidfile waits for testprog's -pidfile and returns its pids with their
// start times.
func pidfile(t *testing.T, path string, want int) map[int]uint64 {
	t.Helper()
	pids := make(map[int]uint64)
	for _, f := range strings.Fields(readFileWhenThere(t, path)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("pidfile: %v", err)
		}
		pids[pid] = startTime(pid)
	}
	if len(pids) != want {
		t.Fatalf("pidfile: got %d pids, want %d", len(pids), want)
	}
	return pids
}

func waitGone(t *testing.T, pids map[int]uint64) {
	t.Helper()
	for pid, start := range pids {
		testwait.For(t, 10*time.Second, fmt.Sprintf("process %d to end", pid), func() bool { return gone(pid, start) })
	}
}

func assertAlive(t *testing.T, pids map[int]uint64) {
	t.Helper()
	for pid, start := range pids {
		if gone(pid, start) {
			t.Errorf("process %d: gone, want alive", pid)
		}
	}
}

func signaled(t *testing.T, st *os.ProcessState, want syscall.Signal) {
	t.Helper()
	ws := st.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != want {
		t.Errorf("process ended with %v, want signal %v", st, want)
	}
}

func TestSignalTermEndsGroup(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "pids")
	c := launch(t, spec(t, "-spawn", "2", "-pidfile", pf))
	pids := pidfile(t, pf, 2)
	if err := c.Signal("TERM"); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	signaled(t, c.wait(t), syscall.SIGTERM)
	waitGone(t, pids)
}

func TestSignals(t *testing.T) {
	for name := range signals {
		if name == "KILL" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "stdout")
			f, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s := spec(t, "-trap", name, "-ready-line", "up")
			s.Stdout = f
			c := launch(t, s)
			waitForOutput(t, out, "up\n")
			if err := c.Signal(strings.ToLower(name)); err != nil {
				t.Fatalf("Signal: %v", err)
			}
			waitForOutput(t, out, "trapped "+name+"\n")
		})
	}
}

// waitForOutput waits until the file at path contains want.
func waitForOutput(t *testing.T, path, want string) {
	t.Helper()
	testwait.For(t, 10*time.Second, fmt.Sprintf("%q in %s", want, path), func() bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), want)
	})
}

func TestIgnoreTermThenKillTree(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "pids")
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	s := spec(t, "-ignore-term", "-spawn", "1", "-pidfile", pf)
	s.Stdout = stdout
	c := launch(t, s)
	pids := pidfile(t, pf, 1)
	if err := c.Signal("TERM"); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	// The spawned child does not ignore TERM, so it ends; the main process
	// says it ignored the signal and lives on.
	waitGone(t, pids)
	waitForOutput(t, stdout.Name(), "ignored TERM\n")
	if c.exited() || gone(c.Pid(), c.start) {
		t.Fatal("main process ended on TERM, want it to ignore TERM")
	}
	if err := c.KillTree(); err != nil {
		t.Fatalf("KillTree: %v", err)
	}
	signaled(t, c.wait(t), syscall.SIGKILL)
}

func TestKillTreeKillsOrphans(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "pids")
	c := launch(t, spec(t, "-spawn", "1", "-orphan", "2", "-pidfile", pf))
	pids := pidfile(t, pf, 3)
	assertAlive(t, pids)
	if err := c.KillTree(); err != nil {
		t.Fatalf("KillTree: %v", err)
	}
	signaled(t, c.wait(t), syscall.SIGKILL)
	waitGone(t, pids)
}

// TestKillTreeReapsOrphans: the orphans KillTree killed, reparented to this
// subreaper, are reaped by the time it returns, not left as zombies.
func TestKillTreeReapsOrphans(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "pids")
	c := launch(t, spec(t, "-orphan", "3", "-pidfile", pf, "-exit", "0"))
	c.wait(t)
	pids := pidfile(t, pf, 3)
	assertAlive(t, pids)
	if err := c.KillTree(); err != nil {
		t.Fatalf("KillTree: %v", err)
	}
	for pid := range pids {
		if pi, err := readStat(pid); err == nil && pi.zombie && pi.ppid == os.Getpid() {
			t.Errorf("orphan %d is a zombie after KillTree, want it reaped", pid)
		}
	}
}

func TestKillTreeAfterMainExited(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "pids")
	c := launch(t, spec(t, "-spawn", "1", "-orphan", "2", "-pidfile", pf, "-exit", "0"))
	if got := c.wait(t).ExitCode(); got != 0 {
		t.Fatalf("exit code: got %d, want 0", got)
	}
	pids := pidfile(t, pf, 3)
	assertAlive(t, pids)
	if err := c.KillTree(); err != nil {
		t.Fatalf("KillTree: %v", err)
	}
	waitGone(t, pids)
}

func TestKillTreeWithoutTagFindsDescendants(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "pids")
	s := spec(t, "-spawn", "2", "-pidfile", pf)
	s.Tag = ""
	c := launch(t, s)
	pids := pidfile(t, pf, 2)
	if err := c.KillTree(); err != nil {
		t.Fatalf("KillTree: %v", err)
	}
	c.wait(t)
	waitGone(t, pids)
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	victim := launch(t, spec(t, "-orphan", "1", "-spawn", "1", "-pidfile", filepath.Join(dir, "a")))
	victimPids := pidfile(t, filepath.Join(dir, "a"), 2)
	bystander := launch(t, spec(t, "-orphan", "1", "-pidfile", filepath.Join(dir, "b")))
	bystanderPids := pidfile(t, filepath.Join(dir, "b"), 1)

	var calls sync.Map
	killed, err := Sweep(func(tag string) bool {
		calls.Store(tag, true)
		return tag == victim.tag
	})
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if len(killed) != 3 || !slices.IsSorted(killed) || !slices.Contains(killed, victim.Pid()) {
		t.Errorf("Sweep: killed %v, want 3 pids in order, the victim's %d among them", killed, victim.Pid())
	}
	if _, ok := calls.Load(bystander.tag); !ok {
		t.Errorf("Sweep did not ask about the bystander's tag")
	}
	signaled(t, victim.wait(t), syscall.SIGKILL)
	waitGone(t, victimPids)
	if bystander.exited() {
		t.Error("bystander exited, want it spared")
	}
	assertAlive(t, bystanderPids)

	if killed, err := Sweep(func(tag string) bool { return tag == victim.tag }); err != nil || len(killed) != 0 {
		t.Errorf("second Sweep: got %v, %v, want none, nil", killed, err)
	}
}

func TestPdeathsig(t *testing.T) {
	tag := uniqueTag(t)
	t.Cleanup(func() { Sweep(func(s string) bool { return s == tag }) })
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=pdeathsig", "PROC_TEST_TESTPROG="+testprog, "PROC_TEST_TAG="+tag)
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
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	var s string
	select {
	case s = <-line:
	case <-time.After(30 * time.Second):
		t.Fatal("helper said nothing")
	}
	var pid int
	if _, err := fmt.Sscanf(s, "child %d", &pid); err != nil {
		t.Fatalf("helper: %q", s)
	}
	pids := map[int]uint64{pid: startTime(pid)}
	assertAlive(t, pids)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pids)
}

func TestStdinIsNullDevice(t *testing.T) {
	c := launch(t, spec(t))
	if got, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", c.Pid())); err != nil || got != os.DevNull {
		t.Errorf("stdin: got %q, %v, want %s", got, err, os.DevNull)
	}
}

func TestTagInEnvironment(t *testing.T) {
	s := spec(t)
	s.Env = []string{"A=1", TagVar + "=stale"}
	c := launch(t, s)
	tag, ok := procTag(c.Pid())
	if !ok || tag != s.Tag {
		t.Errorf("tag: got %q, %v, want %q", tag, ok, s.Tag)
	}
}

func TestOwnGroupAndParentDeathSignal(t *testing.T) {
	c := launch(t, spec(t))
	pi, err := readStat(c.Pid())
	if err != nil {
		t.Fatal(err)
	}
	if pi.pgrp != c.Pid() {
		t.Errorf("process group: got %d, want %d", pi.pgrp, c.Pid())
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "\nPPid:\t"+strconv.Itoa(os.Getpid())+"\n") {
		t.Errorf("status: got %s, want PPid %d", status, os.Getpid())
	}
}

func TestUserGroup(t *testing.T) {
	errs := []Spec{
		{User: "no-such-user-for-proc-test"},
		{Group: "no-such-group-for-proc-test"},
	}
	for _, s := range errs {
		s.Path, s.Args = testprog, []string{testprog}
		if p, err := Start(s); err == nil {
			p.KillTree()
			p.Wait()
			t.Errorf("Start(user %q, group %q): got no error", s.User, s.Group)
		}
	}
	if os.Getuid() != 0 {
		t.Skip("running as another user needs root")
	}
	tests := []struct {
		user, group string
		uid, gid    string
	}{
		{"nobody", "", "65534", "65534"},
		{"54321", "", "54321", "54321"},
		{"0", "12345", "0", "12345"},
		{"", "12345", "0", "12345"},
		{"nobody", "root", "65534", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.user+":"+tt.group, func(t *testing.T) {
			s := spec(t)
			s.User, s.Group = tt.user, tt.group
			c := launch(t, s)
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Pid()))
			if err != nil {
				t.Fatal(err)
			}
			if want := "\nUid:\t" + tt.uid + "\t"; !strings.Contains(string(status), want) {
				t.Errorf("status: want %q in\n%s", want, status)
			}
			if want := "\nGid:\t" + tt.gid + "\t"; !strings.Contains(string(status), want) {
				t.Errorf("status: want %q in\n%s", want, status)
			}
		})
	}
}

func TestReaperReapsOrphans(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "pids")
	c := launch(t, spec(t, "-orphan", "1", "-pidfile", pf, "-exit", "0"))
	c.wait(t)
	pids := pidfile(t, pf, 1)
	for pid := range pids {
		pi, err := readStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		if pi.ppid != os.Getpid() {
			t.Fatalf("orphan's parent: got %d, want this subreaper %d", pi.ppid, os.Getpid())
		}
		if err := unix.Kill(pid, unix.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Reaped, not just a zombie: the pid is free again.
		testwait.For(t, 10*time.Second, "orphan to be reaped", func() bool {
			_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
			return err != nil
		})
	}
}

func TestConcurrentStarts(t *testing.T) {
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if got := launch(t, spec(t, "-exit", "9")).wait(t).ExitCode(); got != 9 {
				t.Errorf("exit code: got %d, want 9", got)
			}
		})
	}
	wg.Wait()
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		in      string
		want    procInfo
		wantErr bool
	}{
		{
			in:   "42 (sleep) S 1 42 42 0 -1 4194304 90 0 0 0 0 0 0 0 20 0 1 0 12345 2240512 128 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
			want: procInfo{pid: 42, ppid: 1, pgrp: 42, start: 12345},
		},
		{
			in:   "57 (kworker/0:1-events) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 31 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 0 0 0 0 0\n",
			want: procInfo{pid: 57, ppid: 2, kernel: true, start: 31},
		},
		{
			in:   "43 (a) Z (b) Z 7 8 8 0 -1 4194304 90 0 0 0 0 0 0 0 20 0 1 0 99 0 0\n",
			want: procInfo{pid: 43, ppid: 7, pgrp: 8, zombie: true, start: 99},
		},
		{in: "44 no command", wantErr: true},
		{in: "45 (x) S 1 2 3", wantErr: true},
		{in: "46 (x) S one 2 3 0 -1 4194304 90 0 0 0 0 0 0 0 20 0 1 0 99 0 0", wantErr: true},
	}
	for _, tt := range tests {
		pid, _ := strconv.Atoi(strings.Fields(tt.in)[0])
		got, err := parseStat(pid, []byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("parseStat(%q): got error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("parseStat(%q): got %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestTagIn(t *testing.T) {
	tests := []struct {
		env, want string
		ok        bool
	}{
		{"A=1\x00STEWARD_TAG=x.y\x00B=2\x00", "x.y", true},
		{"STEWARD_TAG=first", "first", true},
		{"XSTEWARD_TAG=no\x00STEWARD_TAGS=no\x00", "", false},
		{"STEWARD_TAG=\x00", "", true},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := tagIn([]byte(tt.env))
		if got != tt.want || ok != tt.ok {
			t.Errorf("tagIn(%q): got %q, %v, want %q, %v", tt.env, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLiveTree(t *testing.T) {
	procs := []procInfo{
		{pid: 1, ppid: 0},
		{pid: 10, ppid: 1, pgrp: 10},
		{pid: 11, ppid: 10, pgrp: 10},
		{pid: 12, ppid: 11, pgrp: 12},
		{pid: 13, ppid: 12, pgrp: 12, zombie: true},
		{pid: 14, ppid: 13, pgrp: 12},
		{pid: 20, ppid: 1, pgrp: 20},
		{pid: os.Getpid(), ppid: 10, pgrp: 10},
	}
	got := liveTree(procs, func(pi procInfo) bool { return pi.pid == 10 })
	var pids []int
	for _, pi := range got {
		pids = append(pids, pi.pid)
	}
	if fmt.Sprint(pids) != "[10 11 12 14]" {
		t.Errorf("liveTree: got %v, want [10 11 12 14]", pids)
	}
	if anc := ancestors(procs, 14); len(anc) != 6 || !anc[1] || !anc[14] {
		t.Errorf("ancestors(14): got %v, want 14 13 12 11 10 1", anc)
	}
}

func TestKillChecksIdentity(t *testing.T) {
	c := launch(t, spec(t))
	pi, err := readStat(c.Pid())
	if err != nil {
		t.Fatal(err)
	}
	reused := pi
	reused.start++
	if fd, ok, err := kill(reused); ok || err != nil || fd >= 0 {
		t.Errorf("kill of a reused pid: got %d, %v, %v, want -1, false, nil", fd, ok, err)
	}
	if c.exited() || gone(pi.pid, pi.start) {
		t.Fatal("kill hit a process whose start time differs")
	}
	// Above pid_max: no such process.
	if _, ok, err := kill(procInfo{pid: 1 << 23}); ok || err != nil {
		t.Errorf("kill of a missing pid: got %v, %v, want false, nil", ok, err)
	}
	killed, err := killAndWait([]procInfo{pi}, time.Now().Add(10*time.Second))
	if err != nil || len(killed) != 1 {
		t.Fatalf("killAndWait: got %v, %v, want the process", killed, err)
	}
	if !gone(pi.pid, pi.start) {
		t.Error("killAndWait returned before the process exited")
	}
	signaled(t, c.wait(t), syscall.SIGKILL)
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// readFileWhenThere waits for path to exist and returns its contents.
func readFileWhenThere(t *testing.T, path string) string {
	t.Helper()
	var b []byte
	testwait.For(t, 10*time.Second, path, func() bool {
		var err error
		b, err = os.ReadFile(path)
		return err == nil
	})
	return string(b)
}
