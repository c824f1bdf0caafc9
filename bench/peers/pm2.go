//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pm2Tool runs PM2 from npm, installed in a temporary prefix by run.sh,
// with PM2_HOME (its sockets, pid file and logs) in the run's directory.
// The pm2 command daemonizes its "God" daemon; that is the process measured.
type pm2Tool struct{ bin string }

func (pm2Tool) name() string { return "PM2" }

func (p pm2Tool) version() (string, error) {
	if p.bin == "" {
		return "", fmt.Errorf("pm2 not found: run.sh installs it into a temporary prefix; or pass -pm2 PATH")
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("node not installed")
	}
	// Not `pm2 --version`: that spawns a daemon in ~/.pm2.
	real, err := filepath.EvalSymlinks(p.bin)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(real), "..", "package.json"))
	if err != nil {
		return "", fmt.Errorf("pm2 version: %w", err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "", fmt.Errorf("pm2 version: %w", err)
	}
	node, _ := exec.Command("node", "--version").Output()
	return pkg.Version + " (node " + strings.TrimSpace(string(node)) + ")", nil
}

func (pm2Tool) cannot(string) string { return "" }

// pm2App is one entry of an ecosystem file.
type pm2App struct {
	Name         string   `json:"name"`
	Script       string   `json:"script"`
	Args         []string `json:"args"`
	Interpreter  string   `json:"interpreter"` // "none": run the program itself
	ExecMode     string   `json:"exec_mode"`
	Autorestart  bool     `json:"autorestart"`
	RestartDelay int      `json:"restart_delay"` // ms
	MaxRestarts  int      `json:"max_restarts"`
	MinUptime    int      `json:"min_uptime"` // ms; a run shorter than this is an unstable restart
	OutFile      string   `json:"out_file,omitempty"`
	ErrorFile    string   `json:"error_file,omitempty"`
	MergeLogs    bool     `json:"merge_logs"`
}

func (p pm2Tool) launch(ctx context.Context, dir string, svcs []service) (daemon, error) {
	d := &pm2Daemon{bin: p.bin, dir: dir, home: filepath.Join(dir, "home"), logs: map[string]string{}}
	var auto, later []pm2App
	for _, svc := range svcs {
		a := pm2App{Name: svc.name, Script: svc.argv[0], Args: svc.argv[1:], Interpreter: "none", ExecMode: "fork",
			Autorestart: true, MaxRestarts: 1000000000, MinUptime: 1000, MergeLogs: true}
		switch svc.policy {
		case giveUp:
			// PM2 stops when the count of unstable restarts, which
			// includes the crash it is deciding about, reaches
			// max_restarts: max_restarts N allows N-1 restarts.
			a.MaxRestarts = svc.giveUpAfter + 1
		case once:
			a.Autorestart = false
			a.OutFile, a.ErrorFile = svc.logFile, svc.logFile+".err"
			d.logs[svc.name] = svc.logFile
		}
		if svc.autostart {
			auto = append(auto, a)
		} else {
			later = append(later, a)
		}
	}
	for file, apps := range map[string][]pm2App{"auto.config.js": auto, "later.config.js": later} {
		b, err := json.MarshalIndent(map[string]any{"apps": apps}, "", " ")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, file), append([]byte("module.exports = "), b...), 0o644); err != nil {
			return nil, err
		}
	}
	first := []string{"ping"}
	if len(auto) > 0 {
		first = []string{"start", filepath.Join(dir, "auto.config.js")}
	}
	if err := run(ctx, 5*time.Minute, d.cmd(first...)); err != nil {
		d.kill()
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(d.home, "pm2.pid"))
	if err != nil {
		d.kill()
		return nil, fmt.Errorf("pm2 daemon: %w", err)
	}
	if d.godPID, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		d.kill()
		return nil, fmt.Errorf("pm2 daemon pid: %w", err)
	}
	return d, nil
}

type pm2Daemon struct {
	bin, dir, home string
	godPID         int
	logs           map[string]string
}

// cmd is a pm2 command with this daemon's PM2_HOME.
func (d *pm2Daemon) cmd(args ...string) *exec.Cmd {
	c := exec.Command(d.bin, args...)
	c.Env = append(os.Environ(), "PM2_HOME="+d.home)
	return c
}

func (d *pm2Daemon) pid() int { return d.godPID }

func (d *pm2Daemon) startCmd(names []string) *exec.Cmd {
	eco := filepath.Join(d.dir, "later.config.js")
	if len(names) == 1 {
		return d.cmd("start", eco, "--only", names[0])
	}
	return d.cmd("start", eco)
}

func (d *pm2Daemon) statusCmd() *exec.Cmd { return d.cmd("jlist") }

func (d *pm2Daemon) gaveUp(_ context.Context, name string) (bool, error) {
	return fileContains(filepath.Join(d.home, "pm2.log"), "too many unstable restarts"), nil
}

func (d *pm2Daemon) logFile(name string) string { return d.logs[name] }

// kill kills the God daemon, which is not the driver's child (pm2
// daemonizes it), if that pid is still the God of this PM2_HOME: once dead
// and reaped elsewhere, its pid may be another process's. The sweep of the
// run's directory gets the rest.
func (d *pm2Daemon) kill() {
	if d.godPID > 0 && bytes.Contains(cmdline(d.godPID), []byte(d.home)) {
		syscall.Kill(d.godPID, syscall.SIGKILL)
	}
}
