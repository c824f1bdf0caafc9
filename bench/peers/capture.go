//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

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
