// Command flat measures whether steward's memory stays flat while a service
// crash-loops: it runs `steward run` with one `/bin/true` service restarted
// with zero backoff, and reads steward's VmRSS (with RssAnon and RssFile)
// after the first 1,000 restarts and after the last. The budget: within
// 2 MB after 100,000 restarts. Linux only: it reads /proc.
//
//	go run ./bench/flat [-restarts 100000] [-first 1000] [-bin PATH]
//
// Without -bin it builds ./cmd/steward first. Figures go to bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/bench/internal/subject"
	"github.com/stewardhq/steward/internal/client"
)

// errFailed says that the service stopped restarting.
var errFailed = errors.New("the service failed")

// stall is how long the loop may go without a restart before the run fails.
const stall = 30 * time.Second

// budget is how much VmRSS may grow from the first to the last reading, in
// the bytes of the MB the readings are printed in.
const budget = 2e6

func main() {
	restarts := flag.Int("restarts", 100000, "restarts to run")
	first := flag.Int("first", 1000, "restarts before the first reading")
	bin := flag.String("bin", "", "steward binary (default: build ./cmd/steward)")
	flag.Parse()
	if err := run(os.Stdout, *bin, *first, *restarts); err != nil {
		fmt.Fprintln(os.Stderr, "flat:", err)
		os.Exit(1)
	}
}

// describe says m in MB.
func describe(m subject.Memory) string {
	return fmt.Sprintf("VmRSS %.1f MB (RssAnon %.1f MB, RssFile %.1f MB)", mb(m.RSS), mb(m.Anon), mb(m.File))
}

func mb(b int64) float64 { return float64(b) / 1e6 }

// run measures with the steward binary bin (built when empty) and writes the
// readings to w: one after first restarts, one every tenth of restarts, and
// the last, then the growth against the budget.
func run(w io.Writer, bin string, first, restarts int) error {
	if first <= 0 || restarts <= first {
		return fmt.Errorf("need 0 < -first < -restarts, got %d and %d", first, restarts)
	}
	dir, err := os.MkdirTemp("", "steward-flat")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err = subject.Binary(bin, dir)
	if err != nil {
		return err
	}
	// The window keeps the restart intensity from ever stopping the loop:
	// far more restarts are allowed within a second than fork/exec can run.
	st, err := subject.Start(bin, dir, "services:\n  loop:\n    command: [/bin/true]\n"+
		"    restart: {policy: always, backoff: 0s, max_restarts: 1000000, window: 1s}\n")
	if err != nil {
		return err
	}
	defer st.Stop()
	pid := st.Cmd.Process.Pid
	c := st.Client

	began := time.Now()
	var firstMem subject.Memory
	next := first // restarts at the next reading
	step := max(1, restarts/10)
	last, progress := -1, began // the restarts seen last, and when they grew
	for {
		n, err := restartCount(c)
		if errors.Is(err, errFailed) {
			return err
		}
		if n > last {
			last, progress = n, time.Now()
		}
		if time.Since(progress) > stall {
			if err != nil {
				return fmt.Errorf("no restart for %s: %w", stall, err)
			}
			return fmt.Errorf("no restart for %s after %d", stall, last)
		}
		if n >= next {
			m, err := subject.ReadMemory(pid)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "after %7d restarts (%5.1f s): %s\n", n, time.Since(began).Seconds(), describe(m))
			if next == first {
				firstMem = m
			}
			if n >= restarts {
				grow := m.RSS - firstMem.RSS
				fmt.Fprintf(w, "growth from %d to %d restarts: VmRSS %+.1f MB, RssAnon %+.1f MB, RssFile %+.1f MB (budget %.0f MB: ratio %.2f); %.0f restarts/s\n",
					first, n, mb(grow), mb(m.Anon-firstMem.Anon), mb(m.File-firstMem.File), mb(budget),
					float64(grow)/budget, float64(n)/time.Since(began).Seconds())
				return nil
			}
			next = min(restarts, (n/step+1)*step)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// restartCount returns the restarts of the service so far.
func restartCount(c *client.Client) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.Service(ctx, "loop")
	if err != nil {
		return 0, fmt.Errorf("status of loop: %w", err)
	}
	if s.State == steward.StateFailed {
		return 0, fmt.Errorf("%w: %s", errFailed, s.Reason)
	}
	return s.Restarts, nil
}
