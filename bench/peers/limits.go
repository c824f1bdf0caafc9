//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// limitCol is the column of the physical limits: what the machine does
// with no supervisor in the way.
const limitCol = "limit"

// limits measures the floors the tools are held against: a minimal Go
// parent's memory, the fork/exec rate from Go, a fork/exec/wait loop for
// the crash restart, and `generator | cat > file` for log capture.
func (b *bench) limits() {
	var rss []struct {
		m string
		n int
	}
	for _, c := range []struct {
		phase, m string
		n        int
	}{{"idle", mRSS0, 0}, {"small", mRSSSmall, b.o.small}, {"large", mRSSLarge, b.o.large}} {
		if b.o.phase(c.phase) {
			rss = append(rss, struct {
				m string
				n int
			}{c.m, c.n})
		}
	}
	if len(rss) > 0 {
		b.guard("Go parent memory", []string{mRSS0, mRSSSmall, mRSSLarge}, func() error {
			for _, c := range rss {
				if err := b.parentRSS(c.m, c.n); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for _, c := range []struct {
		phase string
		ms    []string
		n     int
	}{{"small", []string{mStartWarm, mStartCold}, b.o.small}, {"large", []string{mStartWarmL, mStartColdL}, b.o.large}} {
		if !b.o.phase(c.phase) {
			continue
		}
		b.guard(fmt.Sprintf("fork/exec %d sleeps", c.n), c.ms, func() error {
			return b.repeat(0, 0, func() error {
				took, err := b.forkExec(c.n)
				if err != nil {
					return err
				}
				for _, m := range c.ms {
					b.r.add(m, limitCol, ms(took))
				}
				return nil
			})
		})
	}
	if b.o.phase("crash") {
		b.guard("fork/exec/wait loop", []string{mCrashP50, mCrashP99, mCrashRate}, b.execLoop)
	}
	if b.o.phase("log") {
		b.guard("generator | cat > file", []string{mLog, mLogCPU}, func() error {
			return b.repeat(0, 0, func() error {
				wall, cpu, err := b.catOnce()
				if err != nil {
					return err
				}
				b.r.add(mLog, limitCol, wall.Seconds())
				b.r.add(mLogCPU, limitCol, cpu.Seconds())
				return nil
			})
		})
	}
}

// parentRSS measures the RSS of the helper "parent" holding n sleeps.
func (b *bench) parentRSS(m string, n int) error {
	cmd := exec.Command(b.w.helper, "parent", strconv.Itoa(n), b.w.sleep)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		return fmt.Errorf("parent helper: %q, %v", line, err)
	}
	b.o.sleep(b.o.settle)
	v, err := rss(cmd.Process.Pid)
	if err != nil {
		return err
	}
	b.r.add(m, limitCol, mb(v))
	return nil
}

// forkExec starts n sleeps from Go, one after another, and times them
// until the last has exec'd (exec.Cmd.Start returns once the exec
// succeeded): the raw fork/exec rate, without polling /proc.
func (b *bench) forkExec(n int) (time.Duration, error) {
	cmds := make([]*exec.Cmd, 0, n)
	defer func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}()
	began := time.Now()
	for i := range n {
		c := exec.Command(b.w.sleep, sleepArg(i))
		if err := c.Start(); err != nil {
			return 0, err
		}
		cmds = append(cmds, c)
	}
	return time.Since(began), nil
}

// execLoop runs the crasher again and again from Go (fork, exec, wait):
// the restart latency of a supervisor that does nothing else.
func (b *bench) execLoop() error {
	dir, err := b.phaseDir("execloop")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stamps := filepath.Join(dir, "crash.stamps")
	deadline := time.Now().Add(b.o.crashCap)
	for i := 0; i <= b.o.crashes && time.Now().Before(deadline); i++ {
		c := exec.Command(b.w.helper, "crash", stamps)
		if err := c.Run(); err == nil {
			return fmt.Errorf("crasher exited 0")
		} else if _, ok := err.(*exec.ExitError); !ok {
			return err
		}
	}
	return b.crashResults(stamps, limitCol)
}

// catOnce runs generator | cat > file and returns the time from the
// generator's first act to cat's exit, and cat's CPU time.
func (b *bench) catOnce() (wall, cpu time.Duration, err error) {
	dir, err := b.phaseDir("cat")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	stamps := filepath.Join(dir, "gen.stamps")
	out, err := os.Create(filepath.Join(dir, "gen.log"))
	if err != nil {
		return 0, 0, err
	}
	defer out.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return 0, 0, err
	}
	gen := exec.Command(b.w.helper, "gen", strconv.FormatInt(b.o.logBytes, 10), stamps)
	gen.Stdout = w
	cat := exec.Command("cat")
	cat.Stdin, cat.Stdout = r, out
	if err := cat.Start(); err != nil {
		return 0, 0, err
	}
	if err := gen.Start(); err != nil {
		cat.Process.Kill()
		cat.Wait()
		return 0, 0, err
	}
	w.Close()
	r.Close()
	gerr, cerr := gen.Wait(), cat.Wait()
	end := monoNow()
	if gerr != nil || cerr != nil {
		return 0, 0, fmt.Errorf("generator: %v, cat: %v", gerr, cerr)
	}
	_, times, err := readStamps(stamps)
	if err != nil || len(times) == 0 {
		return 0, 0, fmt.Errorf("generator stamp: %v", err)
	}
	return time.Duration(end - times[0]), cat.ProcessState.UserTime() + cat.ProcessState.SystemTime(), nil
}
