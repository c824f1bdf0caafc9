//go:build linux

// Command report measures a report over a long stored history: it writes
// DAYS days of history of SERVICES services into a real SQLite store
// through the store's API (state changes, restarts, health changes,
// alerts, metric samples at the default interval; see Generate), then
// times report.Build over the whole range in-process, and `steward report
// --since DAYSd` end to end against a steward running on that store, in
// each format; `steward ps -o json` in the same run is the floor of any
// command (the CLI's start-up and one request). The budget is < 1 s.
//
//	go run ./bench/report [-days 30] [-services 100] [-runs 5] [-bin PATH]
//
// Without -bin it builds ./cmd/steward first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/bench/internal/subject"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/report"
	"github.com/stewardhq/steward/internal/store"
)

func main() {
	var o Options
	flag.IntVar(&o.Days, "days", 30, "days of history")
	flag.IntVar(&o.Services, "services", 100, "services in the history")
	flag.DurationVar(&o.Every, "every", config.DefaultMetricsEvery, "metrics sampling interval")
	flag.IntVar(&o.Runs, "runs", 5, "runs of each measure; the median is reported")
	flag.StringVar(&o.Bin, "bin", "", "steward binary (default: build ./cmd/steward)")
	flag.Parse()
	dir, err := os.MkdirTemp("", "steward-report")
	if err == nil {
		o.Dir = dir
		defer os.RemoveAll(dir)
		var r Result
		r, err = Measure(context.Background(), o, os.Stdout)
		if err == nil {
			fmt.Println(r)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// Options are what Measure does.
type Options struct {
	Days, Services, Runs int
	Every                time.Duration
	Bin, Dir             string
}

// Result is what Measure measured: medians of Runs runs.
type Result struct {
	Written  Written
	Generate time.Duration
	DBBytes  int64
	Build    time.Duration            // report.Build in-process
	Write    map[string]time.Duration // report.Build and report.Write in-process, by format
	CLI      map[string]time.Duration // steward report -o FORMAT, wall, by format
	PS       time.Duration            // steward ps -o json, wall
	Load     [2]string                // /proc/loadavg before and after
	Report   steward.Report           // the last one built in-process
}

func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "history: %d events, %d alerts, %d metric samples written in %v; store %.0f MB\n",
		r.Written.Events, r.Written.Alerts, r.Written.Samples, r.Generate.Round(time.Millisecond), float64(r.DBBytes)/(1<<20))
	fmt.Fprintf(&b, "report.Build in-process: %v (budget < 1s)\n", r.Build.Round(time.Microsecond))
	for _, f := range steward.ReportFormats {
		fmt.Fprintf(&b, "  -o %-4s in-process (Build + Write) %v; steward report wall %v\n", f,
			r.Write[f].Round(time.Microsecond), r.CLI[f].Round(time.Microsecond))
	}
	fmt.Fprintf(&b, "steward ps -o json wall (the floor): %v; load average before %s, after %s",
		r.PS.Round(time.Microsecond), r.Load[0], r.Load[1])
	return b.String()
}

// Measure generates the history in o.Dir and measures the reports over it.
func Measure(ctx context.Context, o Options, log io.Writer) (Result, error) {
	r := Result{Write: map[string]time.Duration{}, CLI: map[string]time.Duration{}}
	r.Load[0] = loadavg()
	data := filepath.Join(o.Dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return r, err
	}
	db := filepath.Join(data, "steward.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		return r, err
	}
	end := time.Now().UTC().Truncate(time.Second)
	began := time.Now()
	r.Written, err = Generate(ctx, st, Shape{Days: o.Days, Services: o.Services, Every: o.Every, End: end})
	r.Generate = time.Since(began)
	if err != nil {
		st.Close()
		return r, err
	}
	fmt.Fprintf(log, "generated %d days × %d services in %v\n", o.Days, o.Services, r.Generate.Round(time.Millisecond))

	q := report.Query{Since: end.Add(-time.Duration(o.Days) * 24 * time.Hour), Until: time.Now()}
	r.Build, err = median(o.Runs, func() error {
		var err error
		r.Report, err = report.Build(ctx, st, q, report.Options{})
		return err
	})
	for _, f := range steward.ReportFormats {
		if err != nil {
			break
		}
		r.Write[f], err = median(o.Runs, func() error {
			rep, err := report.Build(ctx, st, q, report.Options{})
			if err == nil {
				err = report.Write(io.Discard, rep, f, "")
			}
			return err
		})
	}
	err = errors.Join(err, st.Close())
	if err != nil {
		return r, err
	}
	if fi, err := os.Stat(db); err == nil {
		r.DBBytes = fi.Size()
	}

	bin, err := subject.Binary(o.Bin, o.Dir)
	if err != nil {
		return r, err
	}
	file := filepath.Join(o.Dir, "steward.yaml")
	if err := os.WriteFile(file, []byte("data_dir: "+data+"\n"), 0o600); err != nil {
		return r, err
	}
	cmd := exec.Command(bin, "run", "-c", file)
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	if err := waitUp(ctx, filepath.Join(data, "steward.sock")); err != nil {
		return r, err
	}
	if r.PS, err = median(o.Runs, func() error { return quiet(bin, "ps", "-o", "json", "-c", file) }); err != nil {
		return r, err
	}
	since := fmt.Sprintf("%dd", o.Days)
	for _, f := range steward.ReportFormats {
		out := filepath.Join(o.Dir, "report."+f)
		if r.CLI[f], err = median(o.Runs, func() error {
			return quiet(bin, "report", "-c", file, "--since", since, "-o", f, "--out", out)
		}); err != nil {
			return r, err
		}
	}
	r.Load[1] = loadavg()
	return r, nil
}

// waitUp waits until the steward on sock answers.
func waitUp(ctx context.Context, sock string) error {
	c := client.New(sock)
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.Services(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("steward did not answer on %s: %w", sock, err)
		}
		time.Sleep(20 * time.Millisecond) // a benchmark's pacing, not a test's wait
	}
}

// quiet runs bin with args, its output discarded unless it fails.
func quiet(bin string, args ...string) error {
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return nil
}

// median runs f runs times and returns the median of its wall times.
func median(runs int, f func() error) (time.Duration, error) {
	var ds []time.Duration
	for range max(runs, 1) {
		began := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(began))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// sortEvents sorts evs by time, keeping the order of equal times.
func sortEvents(evs []steward.Event) {
	slices.SortStableFunc(evs, func(a, b steward.Event) int { return a.Time.Compare(b.Time) })
}
