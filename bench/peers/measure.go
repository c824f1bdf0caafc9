//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Measures, by id; the report's rows, in this order.
const (
	mRSS0       = "rss0"
	mRSSSmall   = "rss-small"
	mRSSLarge   = "rss-large"
	mCPU        = "cpu-idle"
	mStartWarm  = "start-small"
	mStartCold  = "start-small-cold"
	mStartWarmL = "start-large"
	mStartColdL = "start-large-cold"
	mCrashP50   = "crash-p50"
	mCrashP99   = "crash-p99"
	mCrashRate  = "crash-rate"
	mGiveUp     = "give-up"
	mStatus     = "status-small"
	mStatusL    = "status-large"
	mLog        = "log"
	mLogCPU     = "log-cpu"
	mLogLoss    = "log-loss"
	mOrphans    = "orphans"
)

// cell is one tool's result for one measure.
type cell struct {
	Samples []float64 `json:"samples,omitempty"` // in the measure's unit
	Note    string    `json:"note,omitempty"`    // shown after the value
	Skip    string    `json:"skip,omitempty"`    // why there is no value
	Partial bool      `json:"partial,omitempty"` // measured in a state unlike the others': shown, not compared
}

// results holds every cell: measure → tool → cell.
type results map[string]map[string]*cell

func (r results) add(m, tool string, v float64) {
	c := r.cell(m, tool)
	c.Samples = append(c.Samples, v)
}

func (r results) cell(m, tool string) *cell {
	if r[m] == nil {
		r[m] = map[string]*cell{}
	}
	if r[m][tool] == nil {
		r[m][tool] = &cell{}
	}
	return r[m][tool]
}

func (r results) skip(m, tool, why string) {
	c := r.cell(m, tool)
	if c.Skip == "" {
		c.Skip = why
	}
}

// bench runs every measure on one tool.
type bench struct {
	o   options
	w   *work
	t   tool   // nil for the limits
	col string // the report's column: the tool's name, or limitCol
	r   results
	seq int // numbers the phase directories
}

// phaseDir makes a fresh directory for one daemon's config and files.
func (b *bench) phaseDir(phase string) (string, error) {
	b.seq++
	dir := filepath.Join(b.w.dir, fmt.Sprintf("%s-%02d-%s", toolDir(b.col), b.seq, phase))
	return dir, os.MkdirAll(dir, 0o755)
}

func toolDir(name string) string { return string(bytes.ToLower([]byte(name))) }

// teardown kills the daemon and everything left of the run, and removes
// the phase's directory (log files of hundreds of MB).
func (b *bench) teardown(d daemon, dir string) {
	b.o.debugf("%s: teardown", b.col)
	if d != nil {
		d.kill()
	}
	if _, err := sweep(b.w.dir, 10*time.Second); err != nil {
		b.o.logf("%s: teardown: %v", b.col, err)
	}
	b.o.debugf("%s: torn down", b.col)
	if !b.o.keep {
		os.RemoveAll(dir)
	}
}

// guard runs one phase, turning an error into a skip of its measures.
func (b *bench) guard(phase string, ms []string, f func() error) {
	if b.o.ctx.Err() != nil {
		return
	}
	b.o.logf("%s: %s", b.col, phase)
	began := time.Now()
	if err := f(); err != nil {
		b.o.logf("%s: %s: %v", b.col, phase, err)
		for _, m := range ms {
			if c := b.r.cell(m, b.col); len(c.Samples) == 0 {
				b.r.skip(m, b.col, "error: "+err.Error())
			}
		}
	}
	b.o.logf("%s: %s took %s (load %s)", b.col, phase, time.Since(began).Round(10*time.Millisecond), loadavg())
}

// all runs every phase on the tool, one daemon (or more) at a time.
func (b *bench) all() {
	name := b.col
	for _, m := range []string{mStartWarm, mStartWarmL, mLog, mLogCPU, mLogLoss} {
		if why := b.t.cannot(m); why != "" {
			b.r.skip(m, name, why)
		}
	}
	if b.o.phase("idle") {
		b.guard("idle, no services", []string{mRSS0}, b.idleEmpty)
	}
	if b.o.phase("small") {
		b.guard(fmt.Sprintf("%d sleeps", b.o.small), []string{mStartCold, mRSSSmall, mCPU, mStatus}, func() error { return b.sleeps(b.o.small) })
		b.guard(fmt.Sprintf("kill -9 with %d trees", b.o.small), []string{mOrphans}, func() error { return b.orphans(b.o.small) })
		b.guard(fmt.Sprintf("start %d (daemon launch)", b.o.small), []string{mStartCold}, func() error { return b.coldAgain(mStartCold, b.o.small) })
		if b.t.cannot(mStartWarm) == "" {
			b.guard(fmt.Sprintf("start %d (start command)", b.o.small), []string{mStartWarm}, func() error { return b.startWarm(mStartWarm, b.o.small) })
		}
	}
	if b.o.phase("large") {
		b.guard(fmt.Sprintf("%d sleeps", b.o.large), []string{mStartColdL, mRSSLarge, mStatusL}, func() error { return b.sleeps(b.o.large) })
		b.guard(fmt.Sprintf("start %d (daemon launch)", b.o.large), []string{mStartColdL}, func() error { return b.coldAgain(mStartColdL, b.o.large) })
		if b.t.cannot(mStartWarmL) == "" {
			b.guard(fmt.Sprintf("start %d (start command)", b.o.large), []string{mStartWarmL}, func() error { return b.startWarm(mStartWarmL, b.o.large) })
		}
	}
	if b.o.phase("crash") {
		b.guard("crash loop", []string{mCrashP50, mCrashP99, mCrashRate}, b.crashLoop)
		b.guard("give-up", []string{mGiveUp}, b.giveUp)
	}
	if b.o.phase("log") && b.t.cannot(mLog) == "" {
		b.guard("log capture", []string{mLog, mLogCPU, mLogLoss}, b.logCapture)
	}
}

// idleEmpty: the daemon's RSS with no services, after it settled.
func (b *bench) idleEmpty() error {
	dir, err := b.phaseDir("empty")
	if err != nil {
		return err
	}
	d, err := b.t.launch(b.o.ctx, dir, nil)
	defer b.teardown(d, dir)
	if err != nil {
		return err
	}
	b.o.sleep(b.o.settle)
	v, err := rss(d.pid())
	if err != nil {
		return err
	}
	b.r.add(mRSS0, b.col, mb(v))
	return nil
}

// sleepArg is the argument of the i-th sleep service: a distinct value
// per service (Monit tells its services apart by command line), each
// longer than any run.
func sleepArg(i int) string { return strconv.Itoa(100000 + i) }

// sleepServices is n sleep services, s0000….
func (b *bench) sleepServices(n int, autostart bool) []service {
	svcs := make([]service, n)
	for i := range svcs {
		svcs[i] = service{name: fmt.Sprintf("s%04d", i), argv: []string{b.w.sleep, sleepArg(i)}, autostart: autostart, policy: keepRunning}
	}
	return svcs
}

// sleeps launches the daemon with n sleep services that start with it and
// measures: the time from launch to all running (cold start), RSS once
// settled, for the small count its CPU while idle, the status command,
// and for the small count, how many services a kill -9 of the daemon
// leaves running.
func (b *bench) sleeps(n int) error {
	small := n == b.o.small
	mCold, mRSS, mStat := mStartColdL, mRSSLarge, mStatusL
	if small {
		mCold, mRSS, mStat = mStartCold, mRSSSmall, mStatus
	}
	name := b.col
	dir, err := b.phaseDir(fmt.Sprintf("sleeps%d", n))
	if err != nil {
		return err
	}
	d, took, got, err := b.launchCounted(dir, b.sleepServices(n, true), n)
	defer b.teardown(d, dir)
	if err != nil {
		return err
	}
	partial := ""
	if got < n {
		b.r.skip(mCold, name, fmt.Sprintf("> %s: %d of %d running then", b.o.startCap, got, n))
		// The rest is measured on a daemon still busy starting.
		partial = fmt.Sprintf("while still starting: %d of %d running", got, n)
	} else {
		b.r.add(mCold, name, ms(took))
	}
	b.o.sleep(b.o.settle)
	v, err := rss(d.pid())
	if err != nil {
		return err
	}
	b.r.add(mRSS, name, mb(v))
	if partial != "" {
		b.r.cell(mRSS, name).Note, b.r.cell(mRSS, name).Partial = partial, true
		defer func() { b.r.cell(mStat, name).Note, b.r.cell(mStat, name).Partial = partial, true }()
		if small {
			return fmt.Errorf("%d of %d services running after %s", got, n, b.o.startCap)
		}
	}
	if small {
		c0, err := cpuTime(d.pid())
		if err != nil {
			return err
		}
		w0 := time.Now()
		b.o.sleep(b.o.idle)
		c1, err := cpuTime(d.pid())
		if err != nil {
			return err
		}
		b.r.add(mCPU, name, 100*float64(c1-c0)/float64(time.Since(w0)))
		if c1 == c0 {
			b.r.cell(mCPU, name).Note = "not one 10 ms clock tick"
		}
	}
	b.o.debugf("%s: memory and CPU read", b.col)
	if err := b.status(d, mStat); err != nil {
		return err
	}
	b.o.debugf("%s: status timed", b.col)
	return nil
}

// launchCounted launches the daemon with svcs and waits until n service
// processes run or startCap passes; it returns the daemon (nil if the
// launch failed), the time from launch to n running, and how many ran.
func (b *bench) launchCounted(dir string, svcs []service, n int) (daemon, time.Duration, int, error) {
	cnt, err := newCounter(b.w.sleep)
	if err != nil {
		return nil, 0, 0, err
	}
	type launched struct {
		d   daemon
		err error
	}
	ch := make(chan launched, 1)
	began := time.Now()
	go func() {
		d, err := b.t.launch(b.o.ctx, dir, svcs)
		ch <- launched{d, err}
	}()
	got, err := cnt.waitCount(n, began.Add(b.o.startCap))
	took := time.Since(began)
	b.o.debugf("%s: %d of %d running after %s", b.col, got, n, took)
	l := <-ch
	b.o.debugf("%s: launched after %s", b.col, time.Since(began))
	return l.d, took, got, errors.Join(err, l.err)
}

// coldAgain repeats the cold start (daemon launch to all n running) that
// sleeps measured once, while the time budget allows.
func (b *bench) coldAgain(m string, n int) error {
	c := b.r.cell(m, b.col)
	if len(c.Samples) != 1 {
		return nil // did not finish the first time
	}
	return b.repeat(1, time.Duration(c.Samples[0]*1e6)+time.Second, func() error {
		dir, err := b.phaseDir(fmt.Sprintf("cold%d", n))
		if err != nil {
			return err
		}
		d, took, got, err := b.launchCounted(dir, b.sleepServices(n, true), n)
		defer b.teardown(d, dir)
		if err != nil {
			return err
		}
		if got < n {
			return fmt.Errorf("%d of %d running after %s", got, n, b.o.startCap)
		}
		b.r.add(m, b.col, ms(took))
		return nil
	})
}

// repeat calls f for runs first, first+1, … up to o.runs, but not for a
// run that would likely take the measure past o.budget, judging by the
// last run; est is the time the runs before first took, one each. It
// stops at the first error.
func (b *bench) repeat(first int, est time.Duration, f func() error) error {
	spent, last := time.Duration(first)*est, est
	for i := first; i < b.o.runs && b.o.ctx.Err() == nil; i++ {
		if i > 0 && spent+last > b.o.budget {
			break
		}
		began := time.Now()
		if err := f(); err != nil {
			return err
		}
		last = time.Since(began)
		spent += last
	}
	return nil
}

// status times the status command: one run to warm up, then runs.
func (b *bench) status(d daemon, m string) error {
	for i := range b.o.runs + 1 {
		cmd := d.statusCmd()
		cmd.Stdout = io.Discard
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		began := time.Now()
		err := cmd.Run()
		took := time.Since(began)
		var ee *exec.ExitError
		// supervisorctl status exits 3 when a service is not RUNNING.
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 3 && b.col == "supervisord") {
			return fmt.Errorf("%s: %w: %s", cmd.Args, err, lastLines(stderr.String(), 3))
		}
		if i > 0 {
			b.r.add(m, b.col, ms(took))
		}
	}
	return nil
}

// treeProcs is how many processes of sleep each tree service runs: itself,
// a child and a daemon in a session of its own.
const treeProcs = 3

// orphans launches the daemon with n services that each run a whole tree
// (peerhelper tree), kills the daemon with SIGKILL, waits (orphanWait),
// and counts the processes of the trees still running.
func (b *bench) orphans(n int) error {
	dir, err := b.phaseDir(fmt.Sprintf("trees%d", n))
	if err != nil {
		return err
	}
	svcs := make([]service, n)
	for i := range svcs {
		svcs[i] = service{name: fmt.Sprintf("t%04d", i), argv: []string{b.w.helper, "tree", b.w.sleep, strconv.Itoa(i)},
			runs: []string{b.w.sleep, sleepArg(i)}, autostart: true, policy: keepRunning}
	}
	d, _, got, err := b.launchCounted(dir, svcs, treeProcs*n)
	defer b.teardown(d, dir)
	if err != nil {
		return err
	}
	if got != treeProcs*n {
		return fmt.Errorf("before kill -9: %d of %d processes running", got, treeProcs*n)
	}
	b.o.sleep(b.o.settle)
	if err := syscall.Kill(d.pid(), syscall.SIGKILL); err != nil {
		return err
	}
	b.o.sleep(b.o.orphanWait)
	left := len(running(b.w.sleep))
	b.r.add(mOrphans, b.col, float64(left))
	b.r.cell(mOrphans, b.col).Note = fmt.Sprintf("of %d", treeProcs*n)
	return nil
}

// startWarm launches the daemon with n sleep services that do not start
// with it, waits until it is idle, and times its start command to all
// running; again for up to runs runs within the time budget.
func (b *bench) startWarm(m string, n int) error {
	return b.repeat(0, 0, func() error { return b.startWarmOnce(m, n) })
}

func (b *bench) startWarmOnce(m string, n int) error {
	dir, err := b.phaseDir(fmt.Sprintf("start%d", n))
	if err != nil {
		return err
	}
	svcs := b.sleepServices(n, false)
	d, err := b.t.launch(b.o.ctx, dir, svcs)
	defer b.teardown(d, dir)
	if err != nil {
		return err
	}
	b.o.sleep(b.o.settle / 2)
	names := make([]string, n)
	for i, s := range svcs {
		names[i] = s.name
	}
	cnt, err := newCounter(b.w.sleep)
	if err != nil {
		return err
	}
	cmd := d.startCmd(names)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	got, err := cnt.waitCount(n, began.Add(b.o.startCap))
	took := time.Since(began)
	if werr := cmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("%s: %w: %s", cmd.Args[:3], werr, lastLines(out.String(), 3))
	}
	if err != nil {
		return err
	}
	if got < n {
		b.r.skip(m, b.col, fmt.Sprintf("> %s: %d of %d running then", b.o.startCap, got, n))
		return nil
	}
	b.r.add(m, b.col, ms(took))
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func pct(sorted []float64, p int) float64 { return sorted[(len(sorted)-1)*p/100] }
func ms(d time.Duration) float64          { return float64(d) / 1e6 }
func mb(bytes int64) float64              { return float64(bytes) / (1 << 20) }
