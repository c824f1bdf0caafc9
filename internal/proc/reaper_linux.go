package proc

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reaperName is argv[0] of the reaper: this program run again by
// startCgroupReaper.
const reaperName = "steward-reaper"

// init runs the reaper when this program was started as one. It lives in
// an init function, not behind a command of steward's CLI, so that every
// program that starts trees through this package, its tests included, has
// one: it is this package's executable.
func init() {
	if len(os.Args) == 4 && os.Args[0] == reaperName {
		os.Exit(cgroupReaperMain(os.Args[1], os.Args[2], os.Args[3]))
	}
}

// startCgroupReaper starts the reaper of this process's cgroups: this program
// again, in a session of its own and without a parent-death signal, holding
// the read end of a pipe whose write end it returns. When this process ends
// (exits, or is killed with SIGKILL), the kernel closes the write end; the
// reaper reads end-of-file, kills every process in h's cgroups of this
// process, removes them and exits. So what a killed steward leaves behind
// (the grandchildren and daemons its parent-death signal does not reach)
// dies at once, not at the next start-up.
func startCgroupReaper(h *hierarchy) (*os.File, error) {
	r, w, err := os.Pipe() // close-on-exec: no tree inherits the write end
	if err != nil {
		return nil, fmt.Errorf("start reaper: %w", err)
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("start reaper: %w", err)
	}
	defer null.Close()
	p, err := os.StartProcess("/proc/self/exe",
		[]string{reaperName, strconv.Itoa(int(h.version)), h.mount, h.own},
		&os.ProcAttr{Files: []*os.File{null, null, null, r}, Sys: &syscall.SysProcAttr{Setsid: true}})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("start reaper: %w", err)
	}
	_ = p.Release() // Prepare's orphan reaper reaps it should it exit first
	return w, nil
}

// cgroupReaperMain waits until the pipe on descriptor 3 reaches end-of-file,
// then kills and removes the cgroups in own, the directory of the steward
// process that started it. Signals that end a process by default are
// ignored: a service manager stopping steward's own group must not end the
// reaper before steward.
func cgroupReaperMain(version, mount, own string) int {
	signal.Ignore(unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT)
	v, err := strconv.Atoi(version)
	if err != nil {
		return 2
	}
	_, _ = io.Copy(io.Discard, os.NewFile(3, "lifeline"))
	h := &hierarchy{version: cgroupVersion(v), controller: "pids", mount: mount, own: own}
	// A loaded machine can keep a killed process from dying within one
	// killTimeout; the reaper tries again rather than leave the cgroups to
	// the next start-up's sweep.
	for range reaperAttempts {
		if _, err := h.killAll(own, nil, time.Now().Add(killTimeout)); err == nil {
			return 0
		}
	}
	return 1
}

// reaperAttempts is how many times the reaper tries to empty and remove the
// cgroups before it leaves them to the next sweep.
const reaperAttempts = 10
