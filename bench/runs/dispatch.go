package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/bench/internal/subject"
	"github.com/stewardhq/steward/internal/client"
)

// DispatchResult is what the dispatch phase measured: flows runs of a
// workflow of steps `true` steps in a chain, all started at once through
// the API, against the same number of `true` processes run bare, with the
// same shape (flows goroutines, each running steps processes one after
// another) in the same process.
type DispatchResult struct {
	Flows, Steps int
	Wall         time.Duration // the first run created to the last one ended, as stored
	Bare         time.Duration // the bare os/exec loop's wall time
	// InRun is the median over runs of the run's time (started to ended)
	// minus its steps' own (each step's started to ended): steward's time
	// between the steps of one run.
	InRun time.Duration
	// StepTime is the median of a step's own time as steward stored it
	// (its process's start to its end noted).
	StepTime time.Duration
	Load     [2]string // /proc/loadavg's first field before and after
}

// StepsPerSecond are the steps steward ran a second, and the bare loop's
// processes a second.
func (d DispatchResult) StepsPerSecond() (steward, bare float64) {
	n := float64(d.Flows * d.Steps)
	return n / d.Wall.Seconds(), n / d.Bare.Seconds()
}

// Overhead is steward's dispatch cost per step: its wall time minus the
// bare loop's, over the steps.
func (d DispatchResult) Overhead() time.Duration {
	return (d.Wall - d.Bare) / time.Duration(d.Flows*d.Steps)
}

func (d DispatchResult) String() string {
	s, b := d.StepsPerSecond()
	return fmt.Sprintf("%d workflow runs × %d `true` steps (a chain), started at once over the API: %v wall, %.0f steps/s; "+
		"bare os/exec (%d goroutines × %d `true`): %v, %.0f/s; ratio %.2f; overhead %v per step over bare; "+
		"within a run, between its steps: median %v per run (%v per step), a step's own time median %v (load %s → %s)",
		d.Flows, d.Steps, d.Wall.Round(time.Millisecond), s, d.Flows, d.Steps, d.Bare.Round(time.Millisecond), b, s/b,
		d.Overhead().Round(time.Microsecond), d.InRun.Round(time.Microsecond), (d.InRun / time.Duration(d.Steps)).Round(time.Microsecond),
		d.StepTime.Round(time.Microsecond), d.Load[0], d.Load[1])
}

// Dispatch runs the dispatch phase in dir with the steward binary bin.
func Dispatch(ctx context.Context, bin, dir string, flows, steps int) (DispatchResult, error) {
	d := DispatchResult{Flows: flows, Steps: steps, Load: [2]string{loadavg(), ""}}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return d, err
	}
	var cfg strings.Builder
	cfg.WriteString("workflows:\n  chain:\n    concurrency: allow\n    steps:\n")
	for i := range steps {
		fmt.Fprintf(&cfg, "      s%03d: {command: [\"true\"]", i)
		if i > 0 {
			fmt.Fprintf(&cfg, ", needs: [s%03d]", i-1)
		}
		cfg.WriteString("}\n")
	}
	sw, err := subject.Start(bin, dir, cfg.String())
	if err != nil {
		return d, err
	}
	defer sw.Stop()
	c := sw.Client
	if err := ready(ctx, c); err != nil {
		return d, err
	}

	// Every run at once: one request each, side by side.
	ids := make([]int64, flows)
	errs := make([]error, flows)
	var wg sync.WaitGroup
	for i := range flows {
		wg.Go(func() {
			r, err := c.RunWorkflow(ctx, "chain", steward.WorkflowRunRequest{}, false)
			ids[i], errs[i] = r.ID, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return d, fmt.Errorf("start the runs: %w", err)
	}
	runs, err := waitDone(ctx, c, ids, time.Duration(flows*steps)*50*time.Millisecond+time.Minute)
	if err != nil {
		return d, err
	}
	var first, last time.Time
	var inRun, stepTime []time.Duration
	for _, r := range runs {
		if r.Status != steward.RunSucceeded || len(r.Steps) != steps {
			return d, fmt.Errorf("run %d: %s with %d steps (%s), want succeeded with %d", r.ID, r.Status, len(r.Steps), r.Error, steps)
		}
		if first.IsZero() || r.Created.Before(first) {
			first = r.Created
		}
		if r.Ended.After(last) {
			last = r.Ended
		}
		own := time.Duration(0)
		for _, st := range r.Steps {
			own += st.Ended.Sub(st.Started)
			stepTime = append(stepTime, st.Ended.Sub(st.Started))
		}
		inRun = append(inRun, r.Ended.Sub(r.Started)-own)
	}
	d.Wall = last.Sub(first)
	d.InRun, d.StepTime = median(inRun), median(stepTime)
	sw.Stop() // before the bare loop, which it would load

	d.Bare, err = bare(flows, steps)
	d.Load[1] = loadavg()
	return d, err
}

// ready waits for steward's API to answer.
func ready(ctx context.Context, c *client.Client) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.Workflows(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("steward did not answer: %w", err)
		}
		time.Sleep(20 * time.Millisecond) // a benchmark's pacing, not a test's wait
	}
}

// waitDone waits until every run of ids has ended and returns them with
// their steps.
func waitDone(ctx context.Context, c *client.Client, ids []int64, timeout time.Duration) ([]steward.Run, error) {
	deadline := time.Now().Add(timeout)
	for {
		list, err := c.Runs(ctx, steward.RunQuery{Name: "chain", Limit: len(ids) + 10})
		done := 0
		for _, r := range list {
			if r.Status.Done() {
				done++
			}
		}
		if err == nil && done >= len(ids) {
			break
		}
		if time.Now().After(deadline) {
			return nil, errors.Join(fmt.Errorf("timed out: %d of %d runs ended", done, len(ids)), err)
		}
		time.Sleep(200 * time.Millisecond) // a benchmark's pacing, not a test's wait
	}
	runs := make([]steward.Run, 0, len(ids))
	for _, id := range ids {
		r, err := c.Run(ctx, id)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// bare runs flows goroutines, each running `true` steps times one after
// another, and returns the wall time.
func bare(flows, steps int) (time.Duration, error) {
	path, err := exec.LookPath("true")
	if err != nil {
		return 0, err
	}
	errs := make([]error, flows)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range flows {
		wg.Go(func() {
			for range steps {
				if err := exec.Command(path).Run(); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// loadavg is the 1-minute load average, or "?" where there is none.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
