// Command api measures steward's control plane from a second process, as an
// operator's tools see it: the wall time of `steward ps -o json` with 100 and
// 1,000 services, and the latency of GET /v1/services (100 services) over the
// Unix socket under a steady load. It builds and runs the real binary.
// Usage (figures go to bench/README.md):
//
//	go run ./bench/api -rate 2000 -duration 10s [-sizes 100,1000] [-bin PATH]
//
// Without -bin it builds ./cmd/steward first; -duration 0 skips the load.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward/bench/internal/subject"
)

func main() {
	rate := flag.Int("rate", 2000, "requests per second for the latency measure")
	duration := flag.Duration("duration", 10*time.Second, "how long the load runs")
	runs := flag.Int("runs", 21, "runs of `ps -o json` per size")
	sizes := flag.String("sizes", "100,1000", "numbers of services to time `ps` with, comma-separated")
	bin := flag.String("bin", "", "steward binary (default: build ./cmd/steward)")
	flag.Parse()
	var ns []int
	for f := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "api: -sizes: %q is not a positive number\n", f)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	if err := run(*bin, ns, *rate, *duration, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run(bin string, sizes []int, rate int, duration time.Duration, runs int) error {
	tmp, err := os.MkdirTemp("", "steward-bench-api")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err = subject.Binary(bin, tmp)
	if err != nil {
		return err
	}
	for _, n := range sizes {
		st, err := startSteward(bin, filepath.Join(tmp, fmt.Sprint(n)), n)
		if err != nil {
			return err
		}
		walls, err := timePs(bin, st.config, runs)
		if err != nil {
			st.stop()
			return err
		}
		fmt.Printf("steward ps -o json, %d services: median %s  min %s  max %s  (%d runs)\n",
			n, walls[len(walls)/2].Round(10*time.Microsecond), walls[0].Round(10*time.Microsecond),
			walls[len(walls)-1].Round(10*time.Microsecond), len(walls))
		if n == 100 && duration > 0 {
			if err := load(st.socket, rate, duration); err != nil {
				st.stop()
				return err
			}
		}
		st.stop()
	}
	return nil
}

type steward struct {
	cmd            *exec.Cmd
	config, socket string
}

// startSteward runs `steward run` with n sleeping services and waits until
// every one runs.
func startSteward(bin, dir string, n int) (*steward, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("data_dir: .\nservices:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%04d: {command: [sleep, \"3600\"]}\n", i)
	}
	st := &steward{config: filepath.Join(dir, "steward.yaml"), socket: filepath.Join(dir, "steward.sock")}
	if err := os.WriteFile(st.config, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	st.cmd = exec.Command(bin, "run", "-c", st.config)
	if err := st.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		out, err := exec.Command(bin, "ps", "-c", st.config).Output()
		if err == nil && strings.Count(string(out), " running ") == n {
			return st, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	st.stop()
	return nil, fmt.Errorf("%d services not all running after a minute", n)
}

func (st *steward) stop() {
	st.cmd.Process.Signal(os.Interrupt)
	st.cmd.Wait()
}

// timePs runs `steward ps -o json` runs times and returns the sorted walls.
func timePs(bin, config string, runs int) ([]time.Duration, error) {
	walls := make([]time.Duration, 0, runs)
	for range runs {
		began := time.Now()
		cmd := exec.Command(bin, "ps", "-o", "json", "-c", config)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("ps: %w", err)
		}
		walls = append(walls, time.Since(began))
	}
	slices.Sort(walls)
	return walls, nil
}

// load sends GET /v1/services at rate per second for d over the socket,
// each request on schedule whether or not earlier ones have answered (so a
// slow answer cannot hide later latency), and prints the latency spread.
func load(socket string, rate int, d time.Duration) error {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", socket)
		},
		MaxIdleConnsPerHost: 256,
	}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	var (
		mu   sync.Mutex
		lat  []time.Duration
		errs int
		wg   sync.WaitGroup
	)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	total := int(d / interval)
	for i := range total {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Go(func() {
			began := time.Now()
			resp, err := client.Get("http://steward/v1/services")
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			took := time.Since(began)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
				return
			}
			lat = append(lat, took)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(lat) == 0 {
		return fmt.Errorf("no request succeeded (%d errors)", errs)
	}
	slices.Sort(lat)
	p := func(q int) time.Duration { return lat[(len(lat)-1)*q/100].Round(time.Microsecond) }
	fmt.Printf("GET /v1/services, 100 services, %d req/s for %s (achieved %.0f req/s, %d errors): p50 %s  p90 %s  p99 %s  max %s\n",
		rate, d, float64(len(lat)+errs)/elapsed.Seconds(), errs, p(50), p(90), p(99), lat[len(lat)-1].Round(time.Microsecond))
	fmt.Printf("  budget p99 < 5ms: ratio %.2f\n", float64(p(99))/float64(5*time.Millisecond))
	return nil
}
