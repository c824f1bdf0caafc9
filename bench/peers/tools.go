//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// policy is what a service does and how it is to be restarted.
type policy int

const (
	keepRunning policy = iota // a sleep: restarted should it ever exit
	crashLoop                 // exits at once: restart at once, never give up
	giveUp                    // exits at once: restart at once, give up after service.giveUpAfter restarts
	once                      // the log load: runs to its end, never restarted
)

// service is one program in a tool's configuration.
type service struct {
	name string
	argv []string // argv[0] is an absolute path; no argument needs quoting
	// runs is the command line of its main process once it started, when
	// that is not argv (a program that execs another).
	runs        []string
	autostart   bool // started when the daemon starts
	policy      policy
	giveUpAfter int    // for giveUp
	logFile     string // for once: where its stdout is to go
}

// tool is one supervisor under test.
type tool interface {
	name() string
	// version returns the installed version, or an error saying what is missing.
	version() (string, error)
	// cannot returns why the tool cannot take part in measure m, or "".
	cannot(m string) string
	// launch writes a configuration with svcs into dir and starts the
	// daemon; it returns once the daemon answers on its control socket.
	launch(ctx context.Context, dir string, svcs []service) (daemon, error)
}

// daemon is one running instance of a tool.
type daemon interface {
	// pid is the process whose memory and CPU are measured.
	pid() int
	// startCmd returns the command that starts services configured with
	// autostart off.
	startCmd(names []string) *exec.Cmd
	// statusCmd returns the tool's status command.
	statusCmd() *exec.Cmd
	// gaveUp reports whether the tool has given up restarting name.
	gaveUp(ctx context.Context, name string) (bool, error)
	// logFile is where the stdout of service name goes.
	logFile(name string) string
	// kill kills the daemon with SIGKILL and reaps it if it is a child.
	kill()
}

// child starts a daemon as a child of the driver with its output in
// logFile, in its own process group (a Ctrl-C of the driver reaches only
// the driver, which tears everything down itself) and with SIGKILL as its
// parent-death signal, so that a killed driver leaves no daemon behind.
func child(name string, args []string, env []string, logFile string) (*exec.Cmd, error) {
	out, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

// killChild kills a daemon started with child and reaps it.
func killChild(cmd *exec.Cmd) {
	if cmd != nil && cmd.Process != nil {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// waitSocket waits until the Unix socket at path accepts a connection, or
// the daemon cmd (if not nil) has exited, or timeout passes.
func waitSocket(ctx context.Context, path string, cmd *exec.Cmd, logFile string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil
		}
		if cmd != nil && cmd.ProcessState == nil && !alive(cmd.Process.Pid) {
			return fmt.Errorf("%s exited: %s", filepath.Base(cmd.Path), tail(logFile))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s: no answer within %s: %s", path, timeout, tail(logFile))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// tail returns the last lines of a log file, for error messages.
func tail(file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// fileContains reports whether file contains s.
func fileContains(file, s string) bool {
	b, err := os.ReadFile(file)
	return err == nil && bytes.Contains(b, []byte(s))
}

// run runs a command to its end and returns its error with its output.
func run(ctx context.Context, timeout time.Duration, cmd *exec.Cmd) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, lastLines(out.String(), 5))
		}
		return nil
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), ctx.Err())
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
