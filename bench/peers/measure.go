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
	"slices"
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
		b.guard(fmt.Sprintf("%d sleeps", b.o.small), []string{mStartCold, mRSSSmall, mCPU, mStatus, mOrphans}, func() error { return b.sleeps(b.o.small) })
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
	if small {
		return b.orphans(d, n)
	}
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

// orphans kills the daemon with SIGKILL, waits (2 s), and counts the
// services still running.
func (b *bench) orphans(d daemon, n int) error {
	if got := len(running(b.w.sleep)); got != n {
		return fmt.Errorf("before kill -9: %d of %d running", got, n)
	}
	if err := syscall.Kill(d.pid(), syscall.SIGKILL); err != nil {
		return err
	}
	b.o.sleep(b.o.orphanWait)
	left := len(running(b.w.sleep))
	b.r.add(mOrphans, b.col, float64(left))
	b.r.cell(mOrphans, b.col).Note = fmt.Sprintf("of %d", n)
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

// crashLoop runs a service that exits at once, restarted at once, until
// crashes crashes or crashCap (longer, up to 3 × crashCap, for a tool too
// slow to restart it even twice by then); latency is the time from a
// run's last act to the next run's first.
func (b *bench) crashLoop() error {
	dir, err := b.phaseDir("crash")
	if err != nil {
		return err
	}
	stamps := filepath.Join(dir, "crash.stamps")
	svc := service{name: "crasher", argv: []string{b.w.helper, "crash", stamps}, autostart: true, policy: crashLoop}
	d, err := b.t.launch(b.o.ctx, dir, []service{svc})
	defer b.teardown(d, dir)
	if err != nil {
		return err
	}
	began := time.Now()
	for b.o.ctx.Err() == nil {
		kinds, _, err := readStamps(stamps)
		if err != nil {
			return err
		}
		took := time.Since(began)
		if len(kinds) >= 2*b.o.crashes+1 || took > 3*b.o.crashCap || (took > b.o.crashCap && len(kinds) >= 3) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.kill()
	return b.crashResults(stamps, b.col)
}

// crashResults turns a stamps file into the crash measures of column col.
func (b *bench) crashResults(stamps, col string) error {
	kinds, times, err := readStamps(stamps)
	if err != nil {
		return err
	}
	var lat []float64
	var first, last int64
	starts := 0
	for i, k := range kinds {
		if k != "S" {
			continue
		}
		if starts == 0 {
			first = times[i]
		}
		last = times[i]
		starts++
		if i > 0 && kinds[i-1] == "E" {
			lat = append(lat, float64(times[i]-times[i-1])/1e6)
		}
	}
	if len(lat) == 0 {
		return fmt.Errorf("no restart in %s (%d starts)", b.o.crashCap, starts)
	}
	slices.Sort(lat)
	name := col
	b.r.add(mCrashP50, name, pct(lat, 50))
	b.r.add(mCrashP99, name, pct(lat, 99))
	b.r.cell(mCrashP50, name).Note = fmt.Sprintf("n=%d", len(lat))
	b.r.cell(mCrashP99, name).Note = fmt.Sprintf("n=%d", len(lat))
	if starts > 1 && last > first {
		b.r.add(mCrashRate, name, float64(starts-1)/(float64(last-first)/1e9))
	}
	return nil
}

// giveUp runs a service that exits at once, to be restarted at once but
// given up on after giveUpAfter restarts, and measures the time from its
// first start until the tool says it gave up.
func (b *bench) giveUp() error {
	dir, err := b.phaseDir("giveup")
	if err != nil {
		return err
	}
	stamps := filepath.Join(dir, "giveup.stamps")
	svc := service{name: "giveup", argv: []string{b.w.helper, "crash", stamps}, autostart: true, policy: giveUp, giveUpAfter: b.o.giveUpAfter}
	d, err := b.t.launch(b.o.ctx, dir, []service{svc})
	defer b.teardown(d, dir)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(b.o.giveUpCap)
	for {
		done, err := d.gaveUp(b.o.ctx, svc.name)
		if err != nil {
			return err
		}
		now := monoNow()
		if done {
			kinds, times, err := readStamps(stamps)
			if err != nil {
				return err
			}
			starts := 0
			for _, k := range kinds {
				if k == "S" {
					starts++
				}
			}
			if starts == 0 {
				return fmt.Errorf("gave up without a start")
			}
			b.r.add(mGiveUp, b.col, float64(now-times[0])/1e9)
			b.r.cell(mGiveUp, b.col).Note = fmt.Sprintf("after %d restart%s", starts-1, plural(starts-1))
			return nil
		}
		if time.Now().After(deadline) || b.o.ctx.Err() != nil {
			kinds, _, _ := readStamps(stamps)
			b.r.skip(mGiveUp, b.col, fmt.Sprintf("still restarting after %s (%d runs)", b.o.giveUpCap, len(kinds)/2))
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logCapture measures log capture with two services that write logBytes
// of lines to stdout and then an end mark: "gen" then holds (sleeps), and
// is timed, from its first act until its end mark is in the log file,
// with the daemon's CPU time over that span; "genexit" exits at once,
// and shows whether the tool loses output still in the pipe when the
// program exits.
func (b *bench) logCapture() error {
	dir, err := b.phaseDir("log")
	if err != nil {
		return err
	}
	size := strconv.FormatInt(b.o.logBytes, 10)
	stamps, exitStamps := filepath.Join(dir, "gen.stamps"), filepath.Join(dir, "genexit.stamps")
	hold := service{name: "gen", argv: []string{b.w.helper, "gen", size, stamps, "hold"}, policy: once, logFile: filepath.Join(dir, "gen.log")}
	exit := service{name: "genexit", argv: []string{b.w.helper, "gen", size, exitStamps}, policy: once, logFile: filepath.Join(dir, "genexit.log")}
	d, err := b.t.launch(b.o.ctx, dir, []service{hold, exit})
	defer b.teardown(d, dir)
	if err != nil {
		return err
	}
	b.o.sleep(b.o.settle / 2)
	i := 0
	err = b.repeat(0, 0, func() error {
		wall, cpu, err := b.logOnce(d, hold, stamps, i)
		if err != nil {
			return err
		}
		i++
		b.r.add(mLog, b.col, wall.Seconds())
		b.r.add(mLogCPU, b.col, cpu.Seconds())
		// Kill the holding generator, and give the tool time to see it
		// exit before the next start.
		if err := b.killHelpers(); err != nil {
			return err
		}
		b.o.sleep(b.o.settle / 2)
		return nil
	})
	if err != nil {
		return err
	}
	return b.logLoss(d, exit, exitStamps)
}

// start runs the daemon's start command for name, again if it fails (the
// tool may not have seen the last run's exit yet).
func (b *bench) start(d daemon, name string) error {
	for attempt := 0; ; attempt++ {
		err := run(b.o.ctx, time.Minute, d.startCmd([]string{name}))
		if err == nil || attempt == 4 || b.o.ctx.Err() != nil {
			return err
		}
		b.o.sleep(500 * time.Millisecond)
	}
}

// waitStamp waits until the stamps file has more than n stamps and
// returns stamp n.
func (b *bench) waitStamp(stamps string, n int, deadline time.Time) (int64, error) {
	for {
		_, times, err := readStamps(stamps)
		if err != nil {
			return 0, err
		}
		if len(times) > n {
			return times[n], nil
		}
		if time.Now().After(deadline) || b.o.ctx.Err() != nil {
			return 0, fmt.Errorf("generator run %d did not start", n+1)
		}
		time.Sleep(time.Millisecond)
	}
}

func (b *bench) logOnce(d daemon, svc service, stamps string, run int) (wall, cpu time.Duration, err error) {
	c0, err := cpuTime(d.pid())
	if err != nil {
		return 0, 0, err
	}
	if err := b.start(d, svc.name); err != nil {
		return 0, 0, err
	}
	deadline := time.Now().Add(b.o.logCap)
	start, err := b.waitStamp(stamps, run, deadline)
	if err != nil {
		return 0, 0, err
	}
	mark := []byte(endMark + " " + strconv.FormatInt(start, 10))
	file := d.logFile(svc.name)
	buf := make([]byte, 512)
	for {
		if endsWith(file, mark, buf) {
			now := monoNow()
			c1, err := cpuTime(d.pid())
			if err != nil {
				return 0, 0, err
			}
			return time.Duration(now - start), c1 - c0, nil
		}
		if time.Now().After(deadline) || b.o.ctx.Err() != nil {
			return 0, 0, fmt.Errorf("log %s: no end mark within %s", file, b.o.logCap)
		}
		time.Sleep(time.Millisecond)
	}
}

// killHelpers kills the run's peerhelper processes and waits until they
// are gone.
func (b *bench) killHelpers() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := running(b.w.helper)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d generators still running", len(left))
		}
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logLoss runs, lossRuns times, the generator that exits right after its
// last write, waits for its exit and then up to logGrace for its end mark,
// and records the most output any run is missing from the log file, and
// in how many runs output went missing.
func (b *bench) logLoss(d daemon, svc service, stamps string) error {
	runs := min(b.o.runs, lossRuns)
	var worst int64
	lost := 0
	for i := range runs {
		missing, err := b.logLossOnce(d, svc, stamps, i)
		if err != nil {
			return err
		}
		if missing > 0 {
			lost++
		}
		worst = max(worst, missing)
	}
	b.r.add(mLogLoss, b.col, mb(worst*lineLen))
	if lost > 0 {
		b.r.cell(mLogLoss, b.col).Note = fmt.Sprintf("most lost in one run; lines missing %s after the exit in %d of %d runs", logGrace, lost, runs)
	} else {
		b.r.cell(mLogLoss, b.col).Note = fmt.Sprintf("%d runs", runs)
	}
	return nil
}

// lossRuns is how many times logLoss runs the generator: the loss it looks
// for is a race.
const lossRuns = 3

// logLossOnce runs the exiting generator once (run numbers its start stamp)
// and returns how many of its lines are missing from the log file.
func (b *bench) logLossOnce(d daemon, svc service, stamps string, run int) (int64, error) {
	file := d.logFile(svc.name)
	var before int64
	if fi, err := os.Stat(file); err == nil {
		before = fi.Size()
	}
	if err := b.start(d, svc.name); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(b.o.logCap)
	start, err := b.waitStamp(stamps, run, deadline)
	if err != nil {
		return 0, err
	}
	for len(running(b.w.helper)) > 0 {
		if time.Now().After(deadline) || b.o.ctx.Err() != nil {
			return 0, fmt.Errorf("generator still running after %s", b.o.logCap)
		}
		time.Sleep(5 * time.Millisecond)
	}
	mark := []byte(endMark + " " + strconv.FormatInt(start, 10))
	buf := make([]byte, 512)
	for grace := time.Now().Add(logGrace); !endsWith(file, mark, buf); {
		if time.Now().After(grace) || b.o.ctx.Err() != nil {
			content, err := os.ReadFile(file)
			if err != nil {
				return 0, err
			}
			if int64(len(content)) >= before {
				content = content[before:] // this run's part, unless the tool truncated the file
			}
			want := b.o.logBytes/lineLen + 1
			got := int64(bytes.Count(content, []byte("\n")))
			b.o.logf("%s: run %d: %d of %d lines in the log file %s after the program's exit", b.col, run+1, got, want, logGrace)
			return max(want-got, 0), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, nil
}

// logGrace is how long after the generator's exit its output may take to
// reach the log file.
const logGrace = 5 * time.Second

// endsWith reports whether the last bytes of file contain mark.
func endsWith(file string, mark, buf []byte) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	off := max(fi.Size()-int64(len(buf)), 0)
	n, _ := f.ReadAt(buf, off)
	return bytes.Contains(buf[:n], mark)
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
