package main

import (
	"errors"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// startOrphan starts a copy of testprog detached from this one: in a new
// process group and without a console. It returns its pid.
func startOrphan(self string) (int, error) {
	cmd := exec.Command(self, "-sleep", "1h")
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	return pid, cmd.Process.Release()
}

// daemonize is not used on windows, where startOrphan needs no intermediate.
func daemonize(string) error {
	return errors.New("-daemonize is for unix only")
}

// signals are the signals -trap knows by name: a CTRL_BREAK_EVENT or
// CTRL_C_EVENT arrives as INT.
var signals = map[string]os.Signal{
	"INT":  os.Interrupt,
	"TERM": syscall.SIGTERM,
}
