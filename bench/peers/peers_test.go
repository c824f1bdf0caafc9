//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSmoke runs the driver in -smoke mode (one short run of each measure,
// small sizes, no assertion on speed) so that it never rots: for steward
// and the limits always, and for each peer that is installed. The runs go
// at once, as separate driver processes: they mostly wait. It checks that
// every measure a tool takes part in produced a number, and that nothing
// the runs started is left running.
func TestSmoke(t *testing.T) {
	began := time.Now()
	dir := t.TempDir()
	bins := map[string]string{
		"peers":      ".",
		"peerhelper": "./peerhelper",
		"steward":    "github.com/stewardhq/steward/cmd/steward",
	}
	for name, pkg := range bins {
		out := filepath.Join(dir, name)
		build := exec.Command("go", "build", "-o", out, pkg)
		// As scripts/test.sh cross-compiles steward: its build cache serves.
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
		bins[name] = out
	}
	t.Logf("builds took %s", time.Since(began).Round(time.Millisecond))

	pm2, _ := exec.LookPath("pm2")
	if p := os.Getenv("PEERS_PM2"); p != "" {
		pm2 = p
	}
	type run struct {
		col     string
		missing string // why it cannot run here
		out     []byte // stderr of the driver
		err     error
		took    time.Duration
		rep     report
	}
	runs := []*run{{col: "steward,limit"}}
	for _, p := range []struct{ col, tool string }{
		{"supervisord", "supervisord"}, {"monit", "monit"}, {"pm2", "node"},
	} {
		r := &run{col: p.col}
		if _, err := exec.LookPath(p.tool); err != nil {
			r.missing = fmt.Sprintf("%s is not installed (bench/peers/run.sh installs it)", p.tool)
		}
		if p.col == "pm2" && pm2 == "" {
			r.missing = "pm2 is not on PATH: run.sh installs it into a temporary prefix; set PEERS_PM2 to a pm2 command to include it"
		}
		runs = append(runs, r)
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		if r.missing != "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			js := filepath.Join(dir, strings.ReplaceAll(r.col, ",", "-")+".json")
			cmd := exec.Command(bins["peers"], "-smoke", "-only", r.col, "-json", js, "-out", os.DevNull,
				"-steward", bins["steward"], "-helper", bins["peerhelper"], "-pm2", pm2)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			began := time.Now()
			r.err = cmd.Run()
			r.took = time.Since(began)
			r.out = stderr.Bytes()
			if r.err == nil {
				b, err := os.ReadFile(js)
				if err == nil {
					err = json.Unmarshal(b, &r.rep)
				}
				r.err = err
			}
		}()
	}
	wg.Wait()

	tools := map[string]tool{"steward": stewardTool{}, "supervisord": supervisordTool{}, "PM2": pm2Tool{}, "Monit": monitTool{}}
	for _, r := range runs {
		t.Run(r.col, func(t *testing.T) {
			if r.missing != "" {
				t.Skip(r.missing)
			}
			if r.err != nil {
				t.Fatalf("driver: %v\n%s", r.err, r.out)
			}
			t.Logf("smoke run took %s", r.took.Round(time.Millisecond))
			if len(r.rep.Missing) > 0 {
				t.Fatalf("not measured: %v", r.rep.Missing)
			}
			for _, col := range r.rep.Columns {
				for _, m := range measuresOf(col) {
					c := r.rep.Results[m][col]
					switch {
					case col != limitCol && tools[col].cannot(m) != "":
						if c == nil || c.Skip == "" {
							t.Errorf("%s, %s: measured, though the tool says it cannot be", col, m)
						}
					case c == nil || len(c.Samples) == 0:
						t.Errorf("%s, %s: no number: %+v\n%s", col, m, c, r.out)
					}
				}
			}
			if left := processesOf(r.rep.Dir); len(left) > 0 {
				t.Errorf("processes of %s left running: %v", r.rep.Dir, left)
			}
		})
	}
}

// measuresOf lists the measures a column takes part in.
func measuresOf(col string) []string {
	if col == limitCol {
		return []string{mRSS0, mRSSSmall, mStartWarm, mStartCold, mStartWarmL, mStartColdL,
			mCrashP50, mCrashP99, mCrashRate, mLog, mLogCPU}
	}
	return []string{mRSS0, mRSSSmall, mRSSLarge, mCPU, mStartWarm, mStartCold, mStartWarmL, mStartColdL,
		mCrashP50, mCrashP99, mCrashRate, mGiveUp, mStatus, mStatusL, mLog, mLogCPU, mLogLoss, mOrphans}
}

// processesOf lists the live processes whose command line contains dir.
func processesOf(dir string) []int {
	if dir == "" {
		return nil
	}
	list, _ := pids()
	var out []int
	for _, pid := range list {
		if bytes.Contains(cmdline(pid), []byte(dir)) && alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}
