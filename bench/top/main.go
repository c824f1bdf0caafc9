// Command top measures the CPU that `steward top` costs while nothing
// happens: steward supervises idle services, steward top shows them in a
// 120×30 tmux session (refreshing every 2 s), and procps top runs with the
// same refresh in a second session as the peer of the same run. It reports
// the CPU time of both, and of steward run itself, over the window. Linux
// only (it reads /proc); needs tmux.
//
//	go run ./bench/top [-services 10] [-settle 10s] [-window 60s] [-bin PATH]
//
// Without -bin it builds ./cmd/steward first.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/bench/internal/subject"
	"github.com/stewardhq/steward/internal/client"
)

func main() {
	n := flag.Int("services", 10, "services to supervise")
	settle := flag.Duration("settle", 10*time.Second, "time to let everything settle before measuring")
	window := flag.Duration("window", 60*time.Second, "measuring window")
	bin := flag.String("bin", "", "steward binary (default: build ./cmd/steward)")
	flag.Parse()
	if err := run(*n, *settle, *window, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "top:", err)
		os.Exit(1)
	}
}

func run(n int, settle, window time.Duration, bin string) error {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		return fmt.Errorf("needs tmux: %w", err)
	}
	dir, err := os.MkdirTemp("", "steward-top")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin, err = subject.Binary(bin, dir); err != nil {
		return err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "data_dir: %s\nservices:\n", filepath.Join(dir, "data"))
	for i := range n {
		fmt.Fprintf(&cfg, "  s%02d: {command: [sleep, \"100000\"]}\n", i)
	}
	file := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(file, []byte(cfg.String()), 0o600); err != nil {
		return err
	}
	daemon := exec.Command(bin, "run", "-c", file)
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() {
		daemon.Process.Signal(syscall.SIGTERM)
		daemon.Wait()
	}()
	if err := waitRunning(filepath.Join(dir, "data", "steward.sock"), n); err != nil {
		return err
	}

	sock := filepath.Join(dir, "tmux.sock")
	tm := func(args ...string) (string, error) {
		out, err := exec.Command(tmux, append([]string{"-S", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("tmux %v: %w: %s", args, err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	defer tm("kill-server")
	pids := map[string]int{"steward run": daemon.Process.Pid}
	for name, argv := range map[string][]string{
		"steward top": {bin, "-c", file, "top", "--every", "2s"},
		"procps top":  {"top", "-d", "2"},
	} {
		args := append([]string{"new-session", "-d", "-s", strings.ReplaceAll(name, " ", "-"), "-x", "120", "-y", "30", "-e", "TERM=xterm-256color", "--"}, argv...)
		if _, err := tm(args...); err != nil {
			return err
		}
		out, err := tm("display-message", "-p", "-t", strings.ReplaceAll(name, " ", "-"), "#{pane_pid}")
		if err != nil {
			return err
		}
		if pids[name], err = strconv.Atoi(out); err != nil {
			return fmt.Errorf("pane pid of %s: %q", name, out)
		}
	}
	fmt.Printf("%d sleep services; steward top pid %d, procps top pid %d, steward run pid %d; settling %s\n",
		n, pids["steward top"], pids["procps top"], pids["steward run"], settle)
	time.Sleep(settle)

	load0, _ := os.ReadFile("/proc/loadavg")
	before := map[string]float64{}
	for name, pid := range pids {
		if before[name], err = subject.CPUSeconds(pid); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	t0 := time.Now()
	time.Sleep(window)
	elapsed := time.Since(t0).Seconds()
	load1, _ := os.ReadFile("/proc/loadavg")
	for _, name := range []string{"steward top", "procps top", "steward run"} {
		after, err := subject.CPUSeconds(pids[name])
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		used := after - before[name]
		fmt.Printf("%-12s %.3f s CPU in %.0f s: %.3f %% of a core\n", name, used, elapsed, used/elapsed*100)
	}
	fmt.Printf("load average before: %s", load0)
	fmt.Printf("load average after:  %s", load1)
	return nil
}

// waitRunning waits until n services run.
func waitRunning(sock string, n int) error {
	c := client.New(sock)
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err := c.Services(context.Background())
		running := 0
		for _, s := range list {
			if s.State == steward.StateRunning {
				running++
			}
		}
		if err == nil && running == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d services running: %v", running, n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
