//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// monitTool runs Debian's Monit in the foreground (-I) with its own control
// file, state and HTTP interface on a Unix socket in the run's directory,
// checking every second (`set daemon 1`, its shortest cycle). Monit is not
// the parent of what it runs: its start program must return, so each
// service is started in the background by /bin/sh, and found again by its
// command line (`matching`).
type monitTool struct{}

func (monitTool) name() string { return "Monit" }

func (monitTool) version() (string, error) {
	if _, err := exec.LookPath("monit"); err != nil {
		return "", fmt.Errorf("monit not installed (Debian package monit)")
	}
	out, err := exec.Command("monit", "-V").Output()
	if err != nil {
		return "", fmt.Errorf("monit -V: %w", err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimPrefix(strings.TrimSpace(first), "This is Monit version "), nil
}

func (monitTool) cannot(m string) string {
	switch m {
	case mStartWarm, mStartWarmL:
		return "no start command that is not its cycle: `monit start all` starts one service at a time like its autostart (row below)"
	case mLog, mLogCPU, mLogLoss:
		return "does not capture output: its start program runs detached"
	}
	return ""
}

func (monitTool) launch(ctx context.Context, dir string, svcs []service) (daemon, error) {
	d := &monitDaemon{dir: dir, rc: filepath.Join(dir, "monitrc")}
	var b strings.Builder
	fmt.Fprintf(&b, `set daemon 1
set logfile %[1]s/monit.log
set pidfile %[1]s/monit.pid
set idfile %[1]s/monit.id
set statefile %[1]s/monit.state
set httpd unixsocket %[1]s/monit.sock
  allow bench:bench
`, dir)
	for _, svc := range svcs {
		if !svc.autostart {
			return nil, fmt.Errorf("monit: a service that does not start with the daemon is not supported")
		}
		cmdline, match := strings.Join(svc.argv, " "), strings.Join(svc.argv, " ")
		if svc.runs != nil {
			match = strings.Join(svc.runs, " ")
		}
		fmt.Fprintf(&b, "\ncheck process %s matching \"^%s$\"\n", svc.name, strings.ReplaceAll(match, ".", `\.`))
		fmt.Fprintf(&b, "  start program = \"/bin/sh -c '%s >/dev/null 2>&1 &'\"", cmdline)
		if svc.policy == crashLoop || svc.policy == giveUp {
			// Monit waits for a started process to show up, 30 s by
			// default; one that has already exited never does.
			b.WriteString(" with timeout 1 seconds")
		}
		b.WriteString("\n  stop program = \"/bin/sh -c 'kill $MONIT_PROCESS_PID'\"\n")
		if svc.policy == giveUp {
			// Monit counts its first start of a service found not
			// running as a restart too.
			n := svc.giveUpAfter + 1
			fmt.Fprintf(&b, "  if %d restarts within %d cycles then unmonitor\n", n, n)
		}
	}
	// Monit refuses a control file others can read.
	if err := os.WriteFile(d.rc, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "monit.out")
	var err error
	d.cmd, err = child("monit", []string{"-I", "-c", d.rc}, os.Environ(), out)
	if err != nil {
		return nil, err
	}
	if err := waitSocket(ctx, filepath.Join(dir, "monit.sock"), d.cmd, out, 30*time.Second); err != nil {
		d.kill()
		return nil, err
	}
	return d, nil
}

type monitDaemon struct {
	dir, rc string
	cmd     *exec.Cmd
}

func (d *monitDaemon) pid() int { return d.cmd.Process.Pid }

func (d *monitDaemon) startCmd([]string) *exec.Cmd { return nil }

func (d *monitDaemon) statusCmd() *exec.Cmd { return exec.Command("monit", "-c", d.rc, "summary") }

func (d *monitDaemon) gaveUp(_ context.Context, name string) (bool, error) {
	return fileContains(filepath.Join(d.dir, "monit.log"), "'"+name+"' service restarted"), nil
}

func (d *monitDaemon) logFile(string) string { return "" }

func (d *monitDaemon) kill() { killChild(d.cmd) }
