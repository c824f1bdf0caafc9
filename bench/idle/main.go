// Command idle measures steward's own CPU and memory while it supervises
// 100 idle services and samples them (and the machine, through a sysmon
// service) every 10 s: the budget is < 0.1 % of a core and ≤ 12 MB VmRSS.
// With -no-monitoring there is no sysmon service and no metrics settings
// (the services' trees are still sampled at the default interval). Memory
// is reported as VmRSS and its two parts, RssAnon (the heap, stacks and
// runtime) and RssFile (the pages of the binary and its libraries that are
// mapped). Linux only: it reads /proc.
//
//	go run ./bench/idle [-services 100] [-no-monitoring] [-every 10s] [-settle 20s] [-window 60s] [-bin PATH]
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
	"strings"
	"syscall"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/bench/internal/subject"
	"github.com/stewardhq/steward/internal/client"
)

func main() {
	n := flag.Int("services", 100, "services to supervise")
	every := flag.Duration("every", 10*time.Second, "sampling interval of services and of the sysmon service")
	settle := flag.Duration("settle", 20*time.Second, "time to let steward settle before measuring")
	window := flag.Duration("window", 60*time.Second, "measuring window")
	bin := flag.String("bin", "", "steward binary (default: build ./cmd/steward)")
	plain := flag.Bool("no-monitoring", false, "no sysmon service and no metrics settings")
	flag.Parse()
	if err := run(*n, *every, *settle, *window, *bin, *plain); err != nil {
		fmt.Fprintln(os.Stderr, "idle:", err)
		os.Exit(1)
	}
}

func run(n int, every, settle, window time.Duration, bin string, plain bool) error {
	dir, err := os.MkdirTemp("", "steward-idle")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err = subject.Binary(bin, dir)
	if err != nil {
		return err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "data_dir: %s\n", filepath.Join(dir, "data"))
	want := n
	if !plain {
		want++
		fmt.Fprintf(&cfg, "metrics: {every: %s}\nservices:\n", every)
		fmt.Fprintf(&cfg, "  machine: {kind: sysmon, every: %s, alert: {cpu: \"> 95%% for 5m\", memory: \"> 95%%\", \"disk:/\": \"> 99%%\"}}\n", every)
	} else {
		cfg.WriteString("services:\n")
	}
	for i := range n {
		fmt.Fprintf(&cfg, "  s%03d: {command: [sleep, \"100000\"]}\n", i)
	}
	file := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(file, []byte(cfg.String()), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(bin, "run", "-c", file)
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	pid := cmd.Process.Pid

	c := client.New(filepath.Join(dir, "data", "steward.sock"))
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
		if err == nil && running == want {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d services running: %v", running, want, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	what := " + sysmon, sampling every " + every.String()
	if plain {
		what = ", no monitoring"
	}
	fmt.Printf("steward pid %d supervises %d services%s; settling %s\n", pid, n, what, settle)
	time.Sleep(settle)

	cpu0, err := subject.CPUSeconds(pid)
	if err != nil {
		return err
	}
	t0 := time.Now()
	var maxRSS, sumRSS int64
	var last subject.Memory
	samples := 0
	for time.Since(t0) < window {
		time.Sleep(time.Second)
		m, err := subject.ReadMemory(pid)
		if err != nil {
			return err
		}
		maxRSS = max(maxRSS, m.RSS)
		sumRSS += m.RSS
		last = m
		samples++
	}
	cpu1, err := subject.CPUSeconds(pid)
	if err != nil {
		return err
	}
	elapsed := time.Since(t0).Seconds()
	list, err := c.Services(context.Background())
	if err != nil {
		return err
	}
	withRSS := 0
	for _, s := range list {
		if s.RSSBytes > 0 {
			withRSS++
		}
	}
	fmt.Printf("window %.0f s: CPU %.3f %% of a core (%.3f s), VmRSS avg %.1f MB, max %.1f MB, last %.1f MB (RssAnon %.1f MB, RssFile %.1f MB); %d services show RSS in ps\n",
		elapsed, (cpu1-cpu0)/elapsed*100, cpu1-cpu0, float64(sumRSS)/float64(samples)/1e6, float64(maxRSS)/1e6,
		float64(last.RSS)/1e6, float64(last.Anon)/1e6, float64(last.File)/1e6, withRSS)
	return nil
}
