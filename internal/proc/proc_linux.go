package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// spawnThreads is how many locked threads fork children. Each blocks in
// vfork until its child has exec'ed, so a few of them let starts overlap.
const spawnThreads = 4

// pfKthread is the flag of kernel threads in /proc/<pid>/stat.
const pfKthread = 0x00200000

// reapPause is the least time between two passes of the orphan reaper,
// however fast SIGCHLD arrives: a pass scans /proc, and a crash-looping
// service must not make steward scan it for every exit.
const reapPause = 100 * time.Millisecond

// The spawner threads, the registry of children and the reaper are
// process-wide because the kernel state they follow is: the parent-death
// signal belongs to the thread that forked, and a process has one set of
// children.
var (
	spawnOnce sync.Once
	spawnReqs chan spawnRequest

	children = registry{live: make(map[int]int)}

	reaper struct {
		once sync.Once
		on   atomic.Bool // Prepare made this process a child subreaper
	}
)

type spawnRequest struct {
	path string
	argv []string
	attr *os.ProcAttr
	cg   *cgroup // the child's cgroup, or nil
	done chan<- spawnResult
}

type spawnResult struct {
	proc *os.Process
	cg   *cgroup // the cgroup the child is in, or nil
	err  error
}

// registry records the children Start started and Wait has not reaped yet:
// the orphan reaper leaves those to Wait.
type registry struct {
	// forkMu is held for reading from a fork until its child is registered,
	// and for writing by a reap pass, which so never sees a child of Start
	// that is not registered yet.
	forkMu sync.RWMutex
	mu     sync.Mutex
	live   map[int]int // pid → count; a pid may be reused before Wait unregisters its last holder
}

func (r *registry) add(pid int) {
	r.mu.Lock()
	r.live[pid]++
	r.mu.Unlock()
}

func (r *registry) remove(pid int) {
	r.mu.Lock()
	if r.live[pid]--; r.live[pid] <= 0 {
		delete(r.live, pid)
	}
	r.mu.Unlock()
}

func (r *registry) has(pid int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live[pid] > 0
}

func unregister(p *Process) { children.remove(p.pid) }

func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
}

// startProcess starts a process in cg (when not nil) from one of a few
// goroutines that are locked to their OS threads for the life of steward.
// The kernel sends a child its parent-death signal when the thread that
// forked it exits, not when the process does: a child forked from an
// ordinary goroutine would be killed whenever the Go runtime retires that
// thread. A locked goroutine that never returns keeps its thread, so SIGKILL
// reaches the child only when steward dies.
//
// The child is in cg from its first instruction, before it can fork: on v2
// the kernel clones it into the cgroup (CLONE_INTO_CGROUP); on v1, whose
// cgroups hold threads, the spawning thread moves itself into cg, forks,
// and moves back. Writing the child's pid into cg after the fork would not
// do: by the time os.StartProcess returns the child has exec'ed and may
// have forked already. When the thread cannot enter cg, the child starts
// outside it and the cgroup it returns is nil; so on v2 when cg cannot be
// opened.
func startProcess(path string, argv []string, attr *os.ProcAttr, cg *cgroup) (*os.Process, *cgroup, error) {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnRequest)
		for range spawnThreads {
			go spawnLoop(spawnReqs)
		}
	})
	if cg != nil && cg.h.version == cgroupV2 {
		if fd, err := unix.Open(cg.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			cg = nil
		} else {
			defer unix.Close(fd)
			attr.Sys.UseCgroupFD, attr.Sys.CgroupFD = true, fd
		}
	}
	done := make(chan spawnResult, 1)
	spawnReqs <- spawnRequest{path: path, argv: argv, attr: attr, cg: cg, done: done}
	r := <-done
	return r.proc, r.cg, r.err
}

func spawnLoop(reqs <-chan spawnRequest) {
	runtime.LockOSThread() // never unlocked: see startProcess
	tid := unix.Gettid()
	for r := range reqs {
		cg := r.cg
		moved := cg != nil && cg.h.version == cgroupV1
		if moved && cg.enter(tid) != nil {
			cg, moved = nil, false
		}
		children.forkMu.RLock()
		proc, err := os.StartProcess(r.path, r.argv, r.attr)
		if err == nil {
			children.add(proc.Pid)
		}
		children.forkMu.RUnlock()
		if moved {
			// Should this fail, the thread stays in cg until it enters the
			// next one: KillTree spares this process, but cannot remove
			// cg and says so.
			_ = cg.leave(tid)
		}
		r.done <- spawnResult{proc: proc, cg: cg, err: err}
	}
}

// waitExit returns once the main process has exited, without reaping it. It
// waits on a pidfd through the runtime's poller, so a waiting process costs
// no thread; kernels without pidfds (before 5.10) block a thread in waitid.
func (p *Process) waitExit() error {
	fd, err := unix.PidfdOpen(p.pid, unix.PIDFD_NONBLOCK)
	if err == nil {
		f := os.NewFile(uintptr(fd), "pidfd")
		defer f.Close()
		if rc, err := f.SyscallConn(); err == nil {
			var werr error
			err = rc.Read(func(fd uintptr) bool {
				var info unix.Siginfo
				werr = ignoringEINTR(func() error {
					return unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOWAIT|unix.WNOHANG, nil)
				})
				return werr != nil || info.Signo != 0
			})
			if err == nil {
				return werr
			}
		}
	}
	return ignoringEINTR(func() error {
		var info unix.Siginfo
		return unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
	})
}

// startTime returns when pid started, or 0 when that cannot be read.
func startTime(pid int) uint64 {
	pi, err := readStat(pid)
	if err != nil {
		return 0
	}
	return pi.start
}

// listProcs reads the process table from /proc. Processes that vanish or
// cannot be read while it does are left out.
func listProcs() ([]procInfo, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	procs := make([]procInfo, 0, len(names))
	var buf [2048]byte
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		if pi, err := readStatBuf(pid, buf[:]); err == nil {
			procs = append(procs, pi)
		}
	}
	return procs, nil
}

func readStat(pid int) (procInfo, error) {
	var buf [2048]byte
	return readStatBuf(pid, buf[:])
}

func readStatBuf(pid int, buf []byte) (procInfo, error) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return procInfo{}, err
	}
	n, err := unix.Read(fd, buf)
	unix.Close(fd)
	if err != nil {
		return procInfo{}, err
	}
	return parseStat(pid, buf[:n])
}

// parseStat parses the contents of /proc/<pid>/stat. The command name, in
// parentheses, may hold any byte, so the fields are counted from the last
// closing parenthesis.
func parseStat(pid int, b []byte) (procInfo, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procInfo{}, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	pi := procInfo{pid: pid}
	// Fields after the command name, counted from 0: state, ppid, pgrp,
	// session, tty_nr, tpgid, flags, …, starttime (19).
	field := 0
	for rest := b[i+1:]; field <= 19; field++ {
		rest = bytes.TrimLeft(rest, " ")
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		f := rest[:end]
		rest = rest[end:]
		if len(f) == 0 {
			break
		}
		var err error
		switch field {
		case 0:
			pi.zombie = f[0] == 'Z' || f[0] == 'X'
		case 1:
			pi.ppid, err = strconv.Atoi(string(f))
		case 2:
			pi.pgrp, err = strconv.Atoi(string(f))
		case 6:
			var flags uint64
			flags, err = strconv.ParseUint(string(f), 10, 32)
			pi.kernel = flags&pfKthread != 0
		case 19:
			pi.start, err = strconv.ParseUint(string(f), 10, 64)
		}
		if err != nil {
			return procInfo{}, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
		}
	}
	if field <= 19 {
		return procInfo{}, fmt.Errorf("parse /proc/%d/stat: only %d fields", pid, field)
	}
	return pi, nil
}

// procTag returns the STEWARD_TAG in pid's environment as it was passed to
// exec. Zombies and processes of other users (unless steward is root) have
// none to read. A process that is just exec'ing shows an empty environment
// for a moment, so an empty one is read again before it is believed.
func procTag(pid int) (string, bool) {
	path := "/proc/" + strconv.Itoa(pid) + "/environ"
	for try := 0; ; try++ {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", false
		}
		if len(b) > 0 || try == 3 {
			return tagIn(b)
		}
		time.Sleep(time.Millisecond)
	}
}

// killAndWait sends SIGKILL to each victim that is still the process the
// scan saw, then waits until those have exited or deadline passes. It
// returns the victims it signalled. Each is signalled through a pidfd opened
// before its start time is checked again, so a pid reused since the scan is
// never hit.
func killAndWait(victims []procInfo, deadline time.Time) ([]procInfo, error) {
	var (
		fds    []unix.PollFd
		killed []procInfo
		errs   []error
		noFD   bool
	)
	for _, v := range victims {
		fd, ok, err := kill(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("kill process %d: %w", v.pid, err))
		}
		if !ok {
			continue
		}
		killed = append(killed, v)
		if fd >= 0 {
			fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		} else {
			noFD = true
		}
	}
	for len(fds) > 0 && time.Now().Before(deadline) {
		n, err := unix.Poll(fds, int(time.Until(deadline)/time.Millisecond)+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			break
		}
		left := fds[:0]
		for _, pfd := range fds {
			if pfd.Revents != 0 {
				unix.Close(int(pfd.Fd))
				continue
			}
			left = append(left, pfd)
		}
		fds = left
	}
	for _, pfd := range fds {
		unix.Close(int(pfd.Fd))
	}
	if noFD {
		// Without pidfds there is nothing to wait on: give SIGKILL a moment
		// before the caller scans again.
		time.Sleep(time.Millisecond)
	}
	return killed, errors.Join(errs...)
}

// kill sends SIGKILL to v if it is still the process the scan saw. It
// returns a pidfd that becomes readable when v has exited (-1 without
// pidfds), and whether it sent the signal.
func kill(v procInfo) (fd int, ok bool, err error) {
	same := func() bool {
		pi, err := readStat(v.pid)
		return err == nil && pi.start == v.start
	}
	fd, err = unix.PidfdOpen(v.pid, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return -1, false, nil
	case errors.Is(err, unix.ENOSYS):
		if !same() {
			return -1, false, nil
		}
		if err := unix.Kill(v.pid, unix.SIGKILL); err != nil {
			return -1, false, ignoreESRCH(err)
		}
		return -1, true, nil
	case err != nil:
		return -1, false, err
	}
	if !same() {
		unix.Close(fd)
		return -1, false, nil
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		unix.Close(fd)
		return -1, false, ignoreESRCH(err)
	}
	return fd, true, nil
}

func ignoreESRCH(err error) error {
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// Prepare makes steward a child subreaper, so that the orphans of the trees
// it starts are reparented to it rather than to init, where KillTree can
// still find them through parent links and reap them, and starts a reaper
// for orphans that die on their own. It also sets up the cgroups that hold
// the trees, where they can be used (TreeMechanism), and the cgroup reaper,
// a process that kills them should steward be killed. Call it once at
// start-up.
//
// The reaper reaps, on SIGCHLD, only zombie children that Start did not start
// and that are not in steward's own process group; it never calls
// waitpid(-1), which would steal the status a Wait is waiting for. So code
// elsewhere in steward that starts a child in a process group of its own must
// do so through Start, or it may lose that child's exit status.
func Prepare() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become child subreaper: %w", err)
	}
	cgroupHierarchy()
	reaper.once.Do(func() {
		reaper.on.Store(true)
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, unix.SIGCHLD)
		go func() {
			for range sigs {
				if procs, err := childProcs(); err == nil {
					reapOrphans(procs)
				}
				time.Sleep(reapPause)
			}
		}()
	})
	return nil
}

// childProcs returns this process's children: those that
// /proc/self/task/<tid>/children lists for each of its threads (an orphan
// is reparented to any thread of its subreaper): a few reads where
// listProcs makes one per process on the machine. Without that file (a
// kernel built without CONFIG_PROC_CHILDREN) it returns the whole table.
func childProcs() ([]procInfo, error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("list children: %w", err)
	}
	var pids []int
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		if errors.Is(err, os.ErrNotExist) && task.Name() == strconv.Itoa(os.Getpid()) {
			return listProcs()
		}
		if err != nil {
			continue // the thread has ended
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return statsOf(pids), nil
}

// reapOrphans reaps the zombie children in procs that were reparented to
// steward: those neither Start started nor in steward's process group.
func reapOrphans(procs []procInfo) {
	if !reaper.on.Load() {
		return
	}
	self, pgrp := os.Getpid(), unix.Getpgrp()
	orphan := func(pi procInfo) bool { return pi.ppid == self && pi.zombie && pi.pgrp != pgrp }
	var dead []int
	for _, pi := range procs {
		if orphan(pi) {
			dead = append(dead, pi.pid)
		}
	}
	if len(dead) == 0 {
		return
	}
	children.forkMu.Lock()
	defer children.forkMu.Unlock()
	for _, pid := range dead {
		if children.has(pid) {
			continue
		}
		// Read again under the lock: the zombie seen in the scan may since
		// have been reaped by its owner and its pid reused.
		if pi, err := readStat(pid); err != nil || !orphan(pi) {
			continue
		}
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	}
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
