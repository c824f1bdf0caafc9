// Command runs measures steward's run engine in two phases.
//
// Lateness: how late steward starts scheduled runs. A steward with one
// `@every 1s` job (and -jobs of them, all due at the same seconds) runs
// until each job has -runs scheduled runs; the lateness of a run is its
// started time minus its scheduled time, both as steward stored them. The
// budget is < 10 ms at p99. cron and systemd timers have a granularity of a
// minute (systemd's AccuracySec default). -runs 0 skips it.
//
// Dispatch: the overhead of running workflow steps. -flows runs of a
// workflow of -steps `true` steps in a chain are started at once through
// the API; steward's steps a second (the first run created to the last one
// ended, as stored) are set against a bare os/exec loop of the same `true`
// processes, in the same shape, in the same run. -flows 0 (the default)
// skips it.
//
//	go run ./bench/runs [-runs 60] [-jobs 1] [-flows 1000 -steps 5] [-bin PATH]
//
// Without -bin it builds ./cmd/steward first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/bench/internal/subject"
)

func main() {
	runs := flag.Int("runs", 60, "scheduled runs to measure per job")
	jobs := flag.Int("jobs", 1, "jobs, each @every 1s")
	flows := flag.Int("flows", 0, "workflow runs started at once, for the dispatch phase (0: skip it)")
	steps := flag.Int("steps", 5, "`true` steps of the dispatch phase's workflow")
	bin := flag.String("bin", "", "steward binary (default: build ./cmd/steward)")
	flag.Parse()
	if err := run(*runs, *jobs, *flows, *steps, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "runs:", err)
		os.Exit(1)
	}
}

func run(runs, jobs, flows, steps int, bin string) error {
	dir, err := os.MkdirTemp("", "steward-runs")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err = subject.Binary(bin, dir)
	if err != nil {
		return err
	}
	if runs > 0 {
		if err := lateness(runs, jobs, bin, filepath.Join(dir, "lateness")); err != nil {
			return err
		}
	}
	if flows > 0 {
		d, err := Dispatch(context.Background(), bin, filepath.Join(dir, "dispatch"), flows, steps)
		if err != nil {
			return err
		}
		fmt.Println(d)
	}
	return nil
}

// lateness runs the lateness phase in dir.
func lateness(runs, jobs int, bin, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var cfg strings.Builder
	cfg.WriteString("jobs:\n")
	for i := range jobs {
		fmt.Fprintf(&cfg, "  j%03d: {schedule: \"@every 1s\", concurrency: allow, command: \"true\"}\n", i)
	}
	st, err := subject.Start(bin, dir, cfg.String())
	if err != nil {
		return err
	}
	defer st.Stop()
	c := st.Client
	ctx := context.Background()
	want := runs * jobs
	deadline := time.Now().Add(time.Duration(runs)*time.Second + 30*time.Second)
	var list []steward.Run
	for {
		list, err = c.Runs(ctx, steward.RunQuery{Limit: want + 10*jobs})
		if err == nil && countDone(list) >= want {
			break
		}
		if time.Now().After(deadline) {
			return errors.Join(errors.New("timed out waiting for the runs"), err)
		}
		time.Sleep(time.Second) // a benchmark's pacing, not a test's wait
	}
	// The oldest want scheduled runs that ended: list is newest first.
	var late []time.Duration
	for i := len(list) - 1; i >= 0 && len(late) < want; i-- {
		if r := list[i]; r.Trigger == steward.TriggerSchedule && r.Status.Done() {
			late = append(late, r.Started.Sub(r.Scheduled))
		}
	}
	slices.Sort(late)
	fmt.Printf("%d scheduled runs of %d job(s) @every 1s: lateness p50 %v, p99 %v, max %v (budget p99 < 10ms)\n",
		len(late), jobs, pct(late, 50), pct(late, 99), late[len(late)-1])
	return nil
}

func countDone(list []steward.Run) int {
	n := 0
	for _, r := range list {
		if r.Trigger == steward.TriggerSchedule && r.Status.Done() {
			n++
		}
	}
	return n
}

// pct returns the p-th percentile of the sorted durations d.
func pct(d []time.Duration, p int) time.Duration {
	i := (len(d)*p + 99) / 100
	return d[max(min(i, len(d))-1, 0)]
}
