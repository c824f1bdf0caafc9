package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupBase is where the kernel's cgroup file systems are mounted.
const cgroupBase = "/sys/fs/cgroup"

// cgroupDir is steward's directory in a cgroup hierarchy. Under it each
// steward process has one directory, "<pid>.<start>", and in that each
// tree one cgroup, "<seq>" or "<seq>.<tag>".
const cgroupDir = "steward"

// Every tree is put in a cgroup of its own when the machine lets steward
// create them: the kernel keeps a process in its parent's cgroup whatever it
// does to its environment, process group or session, so a daemon that
// cleared its environment (env -i) and left with setsid is still found.
// Limits (issue 19) attach further hierarchies, such as v1's memory, to the
// same trees.
var trees struct {
	once sync.Once
	h    *hierarchy // nil when cgroups are not in use
	err  error      // why h is nil
	// lifeline is the write end of the pipe the reaper reads; it is never
	// written and closes when this process ends. Held here so that it is
	// not finalized.
	lifeline *os.File
}

// cgroupVersion is the version of a cgroup hierarchy.
type cgroupVersion int

const (
	cgroupV1 cgroupVersion = 1 // the pids controller's hierarchy
	cgroupV2 cgroupVersion = 2 // the unified hierarchy
)

// hierarchy is the cgroup hierarchy that holds this process's trees.
type hierarchy struct {
	version cgroupVersion
	// controller is, on v1, the controller of the hierarchy: "pids" for
	// the one that holds the trees, "memory" or "cpu" for those that
	// limits attach.
	controller string
	mount      string // where it is mounted
	own        string // this process's directory: <mount>/steward/<pid>.<start>
	// home is, on v1, the cgroup a spawning thread returns to once its
	// child is forked: the one this process was in when it began.
	home string
	seq  atomic.Uint64
}

// TreeMechanism names what KillTree uses on this machine to find every
// process of a tree: "cgroup v2" or "cgroup v1 (pids)" when each tree is
// in a cgroup of its own, or "marker" where steward cannot create cgroups
// (not root, a read-only cgroup file system): the process group, parent
// links and the STEWARD_TAG marker, which a process that clears its
// environment and leaves its session escapes.
func TreeMechanism() string {
	switch h := cgroupHierarchy(); {
	case h == nil:
		return "marker"
	case h.version == cgroupV2:
		return "cgroup v2"
	default:
		return "cgroup v1 (pids)"
	}
}

// cgroupHierarchy returns the hierarchy the trees of this process go in,
// setting it up and starting the reaper on the first call, or nil when
// cgroups cannot be used.
func cgroupHierarchy() *hierarchy {
	trees.once.Do(func() {
		h, err := findHierarchy()
		if err == nil {
			err = h.create()
		}
		if err != nil {
			trees.err = err
			return
		}
		trees.h = h
		trees.lifeline, _ = startCgroupReaper(h) // without it, the next start-up Sweep ends what a killed steward left
	})
	return trees.h
}

// findHierarchy finds the hierarchy to use: the unified one when it is
// mounted at /sys/fs/cgroup (kernels from 5.7 on, which can fork into a
// cgroup), else v1's pids hierarchy.
func findHierarchy() (*hierarchy, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(cgroupBase, &fs); err == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC {
		if !kernelAtLeast(5, 7) {
			return nil, errors.New("cgroup v2 needs Linux 5.7 to fork into a cgroup")
		}
		return &hierarchy{version: cgroupV2, mount: cgroupBase}, nil
	}
	h, err := findV1("pids")
	if err != nil {
		return nil, errors.New("no cgroup v2 or v1 pids hierarchy under " + cgroupBase)
	}
	return h, nil
}

// findV1 finds the cgroup v1 hierarchy of controller, mounted at
// /sys/fs/cgroup/<controller>.
func findV1(controller string) (*hierarchy, error) {
	var fs unix.Statfs_t
	mount := filepath.Join(cgroupBase, controller)
	if err := unix.Statfs(mount, &fs); err != nil || fs.Type != unix.CGROUP_SUPER_MAGIC {
		return nil, fmt.Errorf("no cgroup v1 %s hierarchy at %s", controller, mount)
	}
	h := &hierarchy{version: cgroupV1, controller: controller, mount: mount}
	rel, err := h.cgroupOf("self")
	if err != nil {
		return nil, err
	}
	h.home = filepath.Join(mount, rel)
	return h, nil
}

// create makes this process's directory in h.
func (h *hierarchy) create() error {
	self, err := readStat(os.Getpid())
	if err != nil {
		return err
	}
	root := filepath.Join(h.mount, cgroupDir)
	if err := os.Mkdir(root, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	h.own = filepath.Join(root, fmt.Sprintf("%d.%d", self.pid, self.start))
	return os.Mkdir(h.own, 0o755)
}

// kernelAtLeast reports whether the running kernel is major.minor or later.
func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	var maj, min int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &maj, &min); err != nil {
		return false
	}
	return maj > major || maj == major && min >= minor
}

// cgroupOf returns the path, relative to h's mount, of the cgroup of pid
// ("self" for this process) in h, from /proc/<pid>/cgroup.
func (h *hierarchy) cgroupOf(pid string) (string, error) {
	b, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		return "", err
	}
	for sc := bufio.NewScanner(bytes.NewReader(b)); sc.Scan(); {
		id, rest, _ := strings.Cut(sc.Text(), ":")
		controllers, path, _ := strings.Cut(rest, ":")
		switch {
		case h.version == cgroupV2 && id == "0" && controllers == "":
			return path, nil
		case h.version == cgroupV1 && slices.Contains(strings.Split(controllers, ","), h.controller):
			return path, nil
		}
	}
	return "", fmt.Errorf("process %s is in no cgroup of %s", pid, h.mount)
}

// cgroup is the cgroup of one tree. A nil *cgroup is no cgroup: its methods
// do nothing.
type cgroup struct {
	h   *hierarchy
	dir string
	// attached are, on v1, the tree's cgroups in the memory and cpu
	// hierarchies that its limits need, which the tree enters and leaves
	// with this one.
	attached []*cgroup
	// oomFile is the memory cgroup's file with the oom_kill count, when
	// limits gave the tree a memory cgroup of its own; "" otherwise.
	oomFile string
	// oomKills is the count last read from oomFile (Process.noteOOM).
	oomKills atomic.Uint64
}

// newCgroup creates a cgroup for a tree tagged tag in this process's
// directory, or returns nil when cgroups are not in use or it cannot be
// created: then the tree is found as on machines without cgroups.
func newCgroup(tag string) *cgroup {
	h := cgroupHierarchy()
	if h == nil {
		return nil
	}
	name := strconv.FormatUint(h.seq.Add(1), 10)
	if tag != "" && !strings.ContainsAny(tag, "/\x00") && len(tag) < 200 {
		name += "." + tag
	}
	c := &cgroup{h: h, dir: filepath.Join(h.own, name)}
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		return nil
	}
	return c
}

// enter moves the calling thread, tid, into c (v1 only, where cgroups
// hold threads): what it forks is born in c.
// It enters the attached cgroups too, or none of them.
func (c *cgroup) enter(tid int) error {
	for i, a := range append([]*cgroup{c}, c.attached...) {
		if err := writeFile(filepath.Join(a.dir, "tasks"), strconv.Itoa(tid)); err != nil {
			for _, b := range append([]*cgroup{c}, c.attached...)[:i] {
				_ = writeFile(filepath.Join(b.h.home, "tasks"), strconv.Itoa(tid))
			}
			return err
		}
	}
	return nil
}

// leave moves thread tid back to the cgroups this process began in.
func (c *cgroup) leave(tid int) error {
	var errs []error
	for _, a := range append([]*cgroup{c}, c.attached...) {
		errs = append(errs, writeFile(filepath.Join(a.h.home, "tasks"), strconv.Itoa(tid)))
	}
	return errors.Join(errs...)
}

// kill kills every process in c with SIGKILL and returns once none is left,
// or fails when deadline passes first; it reaps those that were orphans
// reparented to steward. It first stops the cgroup from growing: on v2
// cgroup.kill kills it all at once (Linux 5.14), else cgroup.freeze freezes
// it; on v1 a pids.max of 0 makes every fork in it fail. It returns the
// pids it signalled.
func (c *cgroup) kill(deadline time.Time) ([]int, error) {
	if c == nil {
		return nil, nil
	}
	var err error
	switch {
	case c.h.version == cgroupV2:
		if err = writeFile(filepath.Join(c.dir, "cgroup.kill"), "1"); errors.Is(err, os.ErrNotExist) {
			err = writeFile(filepath.Join(c.dir, "cgroup.freeze"), "1")
		}
	case c.h.controller == "pids":
		err = writeFile(filepath.Join(c.dir, "pids.max"), "0")
	default:
		_, err = os.Stat(c.dir) // a memory or cpu cgroup cannot stop forks
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // removed already
	}
	if err != nil {
		return nil, fmt.Errorf("stop cgroup %s from forking: %w", c.dir, err)
	}
	var killed []int
	for {
		victims, err := c.members()
		if err != nil || len(victims) == 0 {
			reapOrphans(statsOf(killed))
			return killed, err
		}
		if time.Now().After(deadline) {
			return killed, fmt.Errorf("cgroup %s: %d processes still alive after %v", c.dir, len(victims), killTimeout)
		}
		done, err := killAndWait(victims, deadline)
		for _, pi := range done {
			killed = append(killed, pi.pid)
		}
		if err != nil {
			return killed, err
		}
	}
}

// statsOf returns what the process table says of pids, those still in it.
func statsOf(pids []int) []procInfo {
	procs := make([]procInfo, 0, len(pids))
	for _, pid := range pids {
		if pi, err := readStat(pid); err == nil {
			procs = append(procs, pi)
		}
	}
	return procs
}

// members returns the live processes in c other than this one. A pid
// listed in cgroup.procs is taken only when, read after its start time, it
// is still in c, so that a pid reused since the listing is never taken.
func (c *cgroup) members() ([]procInfo, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "cgroup.procs"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list cgroup %s: %w", c.dir, err)
	}
	rel := strings.TrimPrefix(c.dir, c.h.mount)
	self := os.Getpid()
	var procs []procInfo
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid == self {
			continue
		}
		pi, err := readStat(pid)
		if err != nil || pi.zombie {
			continue
		}
		if in, err := c.h.cgroupOf(f); err == nil && in == rel {
			procs = append(procs, pi)
		}
	}
	return procs, nil
}

// remove removes c and its attached cgroups, which kill has emptied.
// Removing it again does nothing.
func (c *cgroup) remove() error {
	if c == nil {
		return nil
	}
	var errs []error
	for _, a := range append([]*cgroup{c}, c.attached...) {
		if err := unix.Rmdir(a.dir); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", a.dir, err))
		}
	}
	return errors.Join(errs...)
}

// killAll kills and removes every cgroup in dir, a steward process's
// directory, whose tag satisfies match (every one when match is nil), then
// dir itself when it is left empty; the other cgroups in dir it removes
// when they are empty. It returns how many processes it killed.
func (h *hierarchy) killAll(dir string, match func(tag string) bool, deadline time.Time) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // another process (a reaper, a sweep) removed it
	}
	if err != nil {
		return nil, fmt.Errorf("list cgroups in %s: %w", dir, err)
	}
	var (
		killed []int
		errs   []error
	)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c := &cgroup{h: h, dir: filepath.Join(dir, e.Name())}
		if _, tag, _ := strings.Cut(e.Name(), "."); match != nil && !match(tag) {
			_ = unix.Rmdir(c.dir) // fails unless empty
			continue
		}
		pids, err := c.kill(deadline)
		killed = append(killed, pids...)
		if err == nil {
			err = c.remove()
		}
		errs = append(errs, err)
	}
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.ENOENT) {
		errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
	}
	return killed, errors.Join(errs...)
}

// sweepCgroups kills the cgroups left by steward processes that are gone
// whose tag satisfies match, as Sweep does with tagged processes, and
// removes what it emptied.
func sweepCgroups(match func(tag string) bool, deadline time.Time) ([]int, error) {
	h := cgroupHierarchy()
	if h == nil {
		return nil, nil
	}
	killed, err := h.sweep(match, deadline)
	for _, a := range limitHierarchies() {
		pids, aerr := a.sweep(match, deadline)
		killed, err = append(killed, pids...), errors.Join(err, aerr)
	}
	return killed, err
}

// sweep is sweepCgroups in h.
func (h *hierarchy) sweep(match func(tag string) bool, deadline time.Time) ([]int, error) {
	root := filepath.Join(h.mount, cgroupDir)
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) && h.own == "" {
		return nil, nil // a hierarchy steward has not used
	}
	if err != nil {
		return nil, fmt.Errorf("list cgroups in %s: %w", root, err)
	}
	var (
		killed []int
		errs   []error
	)
	for _, e := range entries {
		if dir := filepath.Join(root, e.Name()); e.IsDir() && dir != h.own && !ownerAlive(e.Name()) {
			pids, err := h.killAll(dir, match, deadline)
			killed = append(killed, pids...)
			errs = append(errs, err)
		}
	}
	return killed, errors.Join(errs...)
}

// ownerAlive reports whether the steward process that a directory named
// "<pid>.<start>" belongs to still runs.
func ownerAlive(name string) bool {
	pid, start, ok := strings.Cut(name, ".")
	p, err := strconv.Atoi(pid)
	if !ok || err != nil {
		return false
	}
	pi, err := readStat(p)
	return err == nil && !pi.zombie && strconv.FormatUint(pi.start, 10) == start
}

// writeFile writes s to the cgroup file path, which must exist.
func writeFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
