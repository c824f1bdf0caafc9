package proc

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// requireLimits skips t where the kernel cannot enforce limits on trees:
// steward needs cgroups of its own, and the memory controller for the
// memory limit.
func requireLimits(t *testing.T) {
	t.Helper()
	requireCgroups(t)
	if what, ok := LimitControllers(); !ok || !strings.Contains(what, "memory") {
		t.Skipf("no memory controller for limits here: %s", what)
	}
}

func TestMemoryLimitOOMKill(t *testing.T) {
	requireLimits(t)
	out := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := spec(t, "-alloc", "200", "-exit", "0")
	s.Stdout = f
	s.Limits = &Limits{Memory: 64 << 20}
	c := launch(t, s)
	w := c.WatchOOM()
	st := c.wait(t)
	if ws := st.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("testprog allocating 200 MiB under a 64 MiB limit ended with %v, want SIGKILL", st)
	}
	if err := c.KillTree(); err != nil { // removes the cgroup: the verdict must survive it
		t.Fatal(err)
	}
	v := w.Check(true)
	if v.OOM != "yes" || !strings.Contains(v.Detail, "memory.oom_control") && !strings.Contains(v.Detail, "memory.events") ||
		!strings.Contains(v.Detail, "at the memory limit of 67108864 bytes") {
		t.Errorf("verdict = %+v, want yes from the tree's memory cgroup at its limit", v)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "allocated 16 MiB") || strings.Contains(string(b), "allocated 80 MiB") {
		t.Errorf("output %q: want it to get past 16 MiB and die before 80", b)
	}
}

func TestMemoryLimitNotReached(t *testing.T) {
	requireLimits(t)
	s := spec(t, "-alloc", "16", "-exit", "3")
	s.Limits = &Limits{Memory: 256 << 20, CPU: 50}
	c := launch(t, s)
	w := c.WatchOOM()
	if st := c.wait(t); st.ExitCode() != 3 {
		t.Fatalf("exit = %v, want 3", st)
	}
	if v := w.Check(false); v.OOM != "no" {
		t.Errorf("verdict = %+v, want no", v)
	}
}

func TestLimitFiles(t *testing.T) {
	requireLimits(t)
	s := spec(t, "-sleep", "1h")
	s.Limits = &Limits{Memory: 100 << 20, CPU: 50, Tasks: 64}
	c := launch(t, s)
	if c.cg == nil {
		t.Fatal("no cgroup for a tree with limits")
	}
	dirs := append([]*cgroup{c.cg}, c.cg.attached...)
	read := func(name string) string {
		for _, d := range dirs {
			if b, err := os.ReadFile(filepath.Join(d.dir, name)); err == nil {
				return strings.TrimSpace(string(b))
			}
		}
		return "(missing)"
	}
	var want map[string]string
	if c.cg.h.version == cgroupV2 {
		want = map[string]string{"memory.max": "104857600", "cpu.max": "50000 100000", "pids.max": "64"}
	} else {
		want = map[string]string{"memory.limit_in_bytes": "104857600", "cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000", "pids.max": "64"}
	}
	for name, v := range want {
		if got := read(name); got != v {
			t.Errorf("%s = %s, want %s", name, got, v)
		}
	}
	// The main process is in each of the tree's cgroups.
	for _, d := range dirs {
		if b, _ := os.ReadFile(filepath.Join(d.dir, "cgroup.procs")); !strings.Contains(string(b), strconv.Itoa(c.Pid())) {
			t.Errorf("%s/cgroup.procs = %q, want pid %d", d.dir, b, c.Pid())
		}
	}
	if err := c.KillTree(); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d.dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left after KillTree: %v", d.dir, err)
		}
	}
}

func TestTasksLimitFailsFork(t *testing.T) {
	requireLimits(t)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	out := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := Spec{Path: sh, Args: []string{"sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; echo spawned; wait"},
		Stdout: f, Stderr: f, Tag: uniqueTag(t), Limits: &Limits{Tasks: 4}}
	c := launch(t, s)
	waitForOutput(t, out, "fork")
	b, _ := os.ReadFile(filepath.Join(c.cg.dir, "cgroup.procs"))
	if n := len(strings.Fields(string(b))); n > 4 {
		t.Errorf("%d processes in the tree, above its tasks limit of 4", n)
	}
	if got, _ := os.ReadFile(out); !strings.Contains(strings.ToLower(string(got)), "fork") {
		t.Errorf("output %q: want the shell's fork failure", got)
	}
}

// fakeV2 makes a cgroup v2 file system in a directory: the root with the
// controllers, steward's directory, this process's and a tree's cgroup,
// each with the files the kernel would make (empty).
func fakeV2(t *testing.T, controllers string) *cgroup {
	t.Helper()
	root := t.TempDir()
	h := &hierarchy{version: cgroupV2, mount: root, own: filepath.Join(root, cgroupDir, "1.2")}
	c := &cgroup{h: h, dir: filepath.Join(h.own, "3.tag")}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "cgroup.controllers"), controllers+"\n")
	write(filepath.Join(root, "cgroup.subtree_control"), "cpu\n")
	for _, d := range []string{filepath.Join(root, cgroupDir), h.own} {
		write(filepath.Join(d, "cgroup.subtree_control"), "")
	}
	for _, name := range []string{"memory.max", "memory.swap.max", "cpu.max", "pids.max", "memory.events"} {
		write(filepath.Join(c.dir, name), "")
	}
	return c
}

func TestLimitV2FakeCgroupfs(t *testing.T) {
	c := fakeV2(t, "cpuset cpu io memory pids")
	if err := c.limit(Limits{Memory: 256 << 20, CPU: 150, Tasks: 100}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(c.h.mount, "cgroup.subtree_control"):            "+memory +pids", // cpu was on already
		filepath.Join(c.h.mount, cgroupDir, "cgroup.subtree_control"): "+memory +cpu +pids",
		filepath.Join(c.h.own, "cgroup.subtree_control"):              "+memory +cpu +pids",
		filepath.Join(c.dir, "memory.max"):                            "268435456",
		filepath.Join(c.dir, "memory.swap.max"):                       "0",
		filepath.Join(c.dir, "cpu.max"):                               "150000 100000",
		filepath.Join(c.dir, "pids.max"):                              "100",
	} {
		if b, _ := os.ReadFile(path); string(b) != want {
			t.Errorf("%s = %q, want %q", path, b, want)
		}
	}
	if c.oomFile != filepath.Join(c.dir, "memory.events") {
		t.Errorf("oomFile = %q, want the tree's memory.events", c.oomFile)
	}

	// Only what is set is written; a tiny CPU share gets the kernel's
	// least quota.
	c = fakeV2(t, "cpu memory pids")
	if err := c.limit(Limits{CPU: 0.1}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(c.dir, "cpu.max")); string(b) != "1000 100000" {
		t.Errorf("cpu.max = %q, want the least quota", b)
	}
	if b, _ := os.ReadFile(filepath.Join(c.dir, "memory.max")); len(b) != 0 || c.oomFile != "" {
		t.Errorf("memory.max = %q, oomFile %q without a memory limit", b, c.oomFile)
	}
}

func TestLimitV2Unsupported(t *testing.T) {
	c := fakeV2(t, "cpuset cpu io pids")
	err := c.limit(Limits{Memory: 1 << 30})
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "has no memory controller") {
		t.Errorf("limit without a memory controller: %v, want unsupported naming it", err)
	}
	c = fakeV2(t, "memory")
	os.Remove(filepath.Join(c.h.own, "cgroup.subtree_control"))
	if err := c.limit(Limits{Memory: 1 << 30}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("limit with a subtree that cannot be enabled: %v, want unsupported", err)
	}
	if err := limitTree(nil, Limits{Tasks: 1}); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "cannot create cgroups") {
		t.Errorf("limitTree without a cgroup: %v", err)
	}
}
