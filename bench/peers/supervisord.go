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

// supervisordTool runs Debian's supervisord in the foreground (-n) with its
// own config, socket and logs in the run's directory.
type supervisordTool struct{}

func (supervisordTool) name() string { return "supervisord" }

func (supervisordTool) version() (string, error) {
	for _, p := range []string{"supervisord", "supervisorctl"} {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("%s not installed (Debian package supervisor)", p)
		}
	}
	out, err := exec.Command("supervisord", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("supervisord --version: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func (supervisordTool) cannot(string) string { return "" }

func (supervisordTool) launch(ctx context.Context, dir string, svcs []service) (daemon, error) {
	d := &supervisorDaemon{dir: dir, config: filepath.Join(dir, "supervisord.conf"), logs: map[string]string{}}
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, err
	}
	var b strings.Builder
	// minfds: a thousand services hold three pipes each.
	fmt.Fprintf(&b, `[unix_http_server]
file=%[1]s/supervisor.sock

[supervisord]
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[2]s
nodaemon=true
minfds=8192
user=root

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s/supervisor.sock
`, dir, logs)
	for _, svc := range svcs {
		fmt.Fprintf(&b, "\n[program:%s]\ncommand=%s\nautostart=%t\n", svc.name, strings.Join(svc.argv, " "), svc.autostart)
		switch svc.policy {
		case keepRunning, crashLoop:
			// startsecs=0: running as soon as spawned, so an exit is
			// a crash to restart, never a failed start to give up on.
			b.WriteString("startsecs=0\nautorestart=true\nstartretries=1000000000\n")
		case giveUp:
			// Give-up needs exits to count as failed starts, which
			// takes startsecs ≥ 1; the delay between retries is
			// supervisord's own (1 s more each time), not settable.
			fmt.Fprintf(&b, "startsecs=1\nautorestart=true\nstartretries=%d\n", svc.giveUpAfter)
		case once:
			d.logs[svc.name] = svc.logFile
			fmt.Fprintf(&b, "startsecs=0\nautorestart=false\nstdout_logfile=%s\nstdout_logfile_maxbytes=0\n", svc.logFile)
		}
	}
	if err := os.WriteFile(d.config, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "supervisord.out")
	var err error
	d.cmd, err = child("supervisord", []string{"-n", "-c", d.config}, os.Environ(), out)
	if err != nil {
		return nil, err
	}
	if err := waitSocket(ctx, filepath.Join(dir, "supervisor.sock"), d.cmd, out, 60*time.Second); err != nil {
		d.kill()
		return nil, err
	}
	return d, nil
}

type supervisorDaemon struct {
	dir, config string
	cmd         *exec.Cmd
	logs        map[string]string // service → its stdout log, where set
}

func (d *supervisorDaemon) pid() int { return d.cmd.Process.Pid }

func (d *supervisorDaemon) startCmd(names []string) *exec.Cmd {
	if len(names) > 1 {
		names = []string{"all"}
	}
	return exec.Command("supervisorctl", append([]string{"-c", d.config, "start"}, names...)...)
}

func (d *supervisorDaemon) statusCmd() *exec.Cmd {
	return exec.Command("supervisorctl", "-c", d.config, "status")
}

func (d *supervisorDaemon) gaveUp(_ context.Context, name string) (bool, error) {
	return fileContains(filepath.Join(d.dir, "supervisord.log"), "gave up: "+name+" entered FATAL state"), nil
}

func (d *supervisorDaemon) logFile(name string) string { return d.logs[name] }

func (d *supervisorDaemon) kill() { killChild(d.cmd) }
