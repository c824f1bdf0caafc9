//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// startOrphan daemonizes a copy of testprog the classic way, with exec in
// place of fork: an intermediate child calls setsid, starts the grandchild
// and exits, so the grandchild ends up in a session of its own, reparented
// to init (or to the nearest subreaper). It returns the grandchild's pid.
func startOrphan(self string) (int, error) {
	cmd := exec.Command(self, "-daemonize")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("daemonize: %w", err)
	}
	return strconv.Atoi(string(bytes.TrimSpace(out)))
}

// daemonize is the intermediate child of startOrphan: it starts the
// grandchild, prints its pid and exits without waiting for it.
func daemonize(self string) error {
	cmd := exec.Command(self, "-sleep", "1h")
	if err := cmd.Start(); err != nil {
		return err
	}
	fmt.Println(cmd.Process.Pid)
	os.Exit(0)
	return nil
}

// signals are the signals -trap knows by name.
var signals = map[string]os.Signal{
	"HUP":  syscall.SIGHUP,
	"INT":  syscall.SIGINT,
	"QUIT": syscall.SIGQUIT,
	"TERM": syscall.SIGTERM,
	"USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2,
}
