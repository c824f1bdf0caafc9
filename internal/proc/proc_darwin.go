package proc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// szomb is the p_stat of a zombie in macOS's process table.
const szomb = 5

func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: cred}
}

// startProcess starts a process. macOS has no parent-death signal, so the
// children of a steward killed with SIGKILL live on until the start-up Sweep
// of the next run ends them.
func startProcess(path string, argv []string, attr *os.ProcAttr, _ *cgroup) (*os.Process, *cgroup, error) {
	p, err := os.StartProcess(path, argv, attr)
	return p, nil, err
}

func unregister(*Process) {}

// waitExit returns once the main process has exited, without reaping it: a
// kqueue reports NOTE_EXIT for it. It blocks a thread while it waits.
func (p *Process) waitExit() error {
	kq, err := unix.Kqueue()
	if err != nil {
		return err
	}
	defer unix.Close(kq)
	var ev unix.Kevent_t
	unix.SetKevent(&ev, p.pid, unix.EVFILT_PROC, unix.EV_ADD|unix.EV_ONESHOT)
	ev.Fflags = unix.NOTE_EXIT
	if _, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil // exited already: a zombie
		}
		return err
	}
	events := make([]unix.Kevent_t, 1)
	for {
		n, err := unix.Kevent(kq, nil, events, nil)
		if errors.Is(err, unix.EINTR) || (err == nil && n == 0) {
			continue
		}
		return err
	}
}

// startTime returns when pid started, in microseconds since the epoch, or 0
// when that cannot be read.
func startTime(pid int) uint64 {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || int(kp.Proc.P_pid) != pid {
		return 0
	}
	return info(kp).start
}

func info(kp *unix.KinfoProc) procInfo {
	t := kp.Proc.P_starttime
	return procInfo{
		pid:    int(kp.Proc.P_pid),
		ppid:   int(kp.Eproc.Ppid),
		pgrp:   int(kp.Eproc.Pgid),
		zombie: kp.Proc.P_stat == szomb,
		start:  uint64(t.Sec)*1e6 + uint64(t.Usec),
	}
}

// listProcs reads the process table with sysctl kern.proc.all.
func listProcs() ([]procInfo, error) {
	kps, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	procs := make([]procInfo, 0, len(kps))
	for i := range kps {
		if kps[i].Proc.P_pid > 0 {
			procs = append(procs, info(&kps[i]))
		}
	}
	return procs, nil
}

// procTag returns the STEWARD_TAG in pid's environment as it was passed to
// exec, read with sysctl kern.procargs2: argc, the executable path, NUL
// padding, argc arguments, then the environment. macOS gives it for the
// caller's own processes only, unless steward is root.
func procTag(pid int) (string, bool) {
	b, err := unix.SysctlRaw("kern.procargs2", pid)
	if err != nil || len(b) < 4 {
		return "", false
	}
	argc := int(binary.NativeEndian.Uint32(b))
	b = b[4:]
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", false
	}
	b = bytes.TrimLeft(b[i:], "\x00")
	for ; argc > 0; argc-- {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return "", false
		}
		b = b[i+1:]
	}
	return tagIn(b)
}

// killAndWait sends SIGKILL to each victim that is still the process the
// scan saw, then waits until those have exited or deadline passes. It
// returns the victims it signalled. macOS has no pidfd: a pid reused in the
// moment between the check of its start time and the kill would be hit.
func killAndWait(victims []procInfo, deadline time.Time) ([]procInfo, error) {
	var (
		killed []procInfo
		errs   []error
	)
	for _, v := range victims {
		if startTime(v.pid) != v.start {
			continue
		}
		if err := unix.Kill(v.pid, unix.SIGKILL); err != nil {
			if !errors.Is(err, unix.ESRCH) {
				errs = append(errs, fmt.Errorf("kill process %d: %w", v.pid, err))
			}
			continue
		}
		killed = append(killed, v)
	}
	exited := func(v procInfo) bool {
		kp, err := unix.SysctlKinfoProc("kern.proc.pid", v.pid)
		if err != nil || int(kp.Proc.P_pid) != v.pid {
			return true
		}
		pi := info(kp)
		return pi.zombie || pi.start != v.start
	}
	for delay := time.Millisecond; time.Now().Before(deadline); delay = min(2*delay, 50*time.Millisecond) {
		if !slices.ContainsFunc(killed, func(v procInfo) bool { return !exited(v) }) {
			break
		}
		time.Sleep(delay)
	}
	return killed, errors.Join(errs...)
}

// reapOrphans does nothing: macOS has no child subreaper, so orphans go to
// launchd, which reaps them.
func reapOrphans([]procInfo) {}

// Prepare does nothing on macOS, which has no child subreaper: orphans go to
// launchd, and KillTree finds them through their tag alone.
func Prepare() error { return nil }

// noteOOM does nothing: macOS has no OOM kill counter to keep.
func (*Process) noteOOM() {}
