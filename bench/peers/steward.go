//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// stewardTool runs `steward run -c FILE`.
type stewardTool struct{ bin string }

func (stewardTool) name() string { return "steward" }

func (s stewardTool) version() (string, error) {
	out, err := exec.Command(s.bin, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", s.bin, err)
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "steward version "), nil
}

func (stewardTool) cannot(string) string { return "" }

func (s stewardTool) launch(ctx context.Context, dir string, svcs []service) (daemon, error) {
	d := &stewardDaemon{bin: s.bin, dir: dir, config: filepath.Join(dir, "steward.yaml")}
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nservices:", filepath.Join(dir, "data"))
	if len(svcs) == 0 {
		b.WriteString(" {}")
	}
	b.WriteString("\n")
	for _, svc := range svcs {
		argv, _ := json.Marshal(svc.argv)
		fmt.Fprintf(&b, "  %s:\n    command: %s\n", svc.name, argv)
		if !svc.autostart {
			b.WriteString("    disabled: true\n")
		}
		switch svc.policy {
		case keepRunning:
			b.WriteString("    restart: {policy: always}\n")
		case crashLoop:
			b.WriteString("    restart: {policy: always, backoff: 0s, max_restarts: 1000000000, window: 1h}\n")
		case giveUp:
			fmt.Fprintf(&b, "    restart: {policy: always, backoff: 0s, max_restarts: %d, window: 1h}\n", svc.giveUpAfter)
		case once:
			// No rotation, as for the peers.
			b.WriteString("    restart: {policy: never}\n    logs: {max_size: 100GB}\n")
		}
	}
	if err := os.WriteFile(d.config, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "steward.out")
	var err error
	d.cmd, err = child(s.bin, []string{"run", "-c", d.config}, os.Environ(), out)
	if err != nil {
		return nil, err
	}
	if err := waitSocket(ctx, d.socket(), d.cmd, out, 30*time.Second); err != nil {
		d.kill()
		return nil, err
	}
	return d, nil
}

type stewardDaemon struct {
	bin, dir, config string
	cmd              *exec.Cmd
}

func (d *stewardDaemon) socket() string { return filepath.Join(d.dir, "data", "steward.sock") }
func (d *stewardDaemon) pid() int       { return d.cmd.Process.Pid }

func (d *stewardDaemon) startCmd(names []string) *exec.Cmd {
	// Not --all: it skips services that are disabled, as these are.
	return exec.Command(d.bin, append([]string{"start", "-c", d.config}, names...)...)
}

func (d *stewardDaemon) statusCmd() *exec.Cmd {
	return exec.Command(d.bin, "ps", "-o", "json", "-c", d.config)
}

// gaveUp asks the API (GET /v1/services/NAME) rather than running
// `steward ps`: polling costs the daemon one request, not a process.
func (d *stewardDaemon) gaveUp(ctx context.Context, name string) (bool, error) {
	hc := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", d.socket())
	}}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://steward/v1/services/"+name, nil)
	if err != nil {
		return false, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var st struct{ State string }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return false, fmt.Errorf("GET /v1/services/%s: %s: %w", name, resp.Status, err)
	}
	return st.State == "failed", nil
}

func (d *stewardDaemon) logFile(name string) string {
	return filepath.Join(d.dir, "data", "logs", name+".log")
}

func (d *stewardDaemon) kill() { killChild(d.cmd) }
