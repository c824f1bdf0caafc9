//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// monoNow reads CLOCK_MONOTONIC in nanoseconds: unlike the monotonic
// reading in time.Time, it is comparable across the processes of one boot,
// so a child's stamps and the driver's clock can be subtracted.
func monoNow() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err) // cannot fail on Linux
	}
	return ts.Nano()
}

// pids lists the processes (thread group leaders) in /proc.
func pids() ([]int, error) {
	f, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	list := make([]int, 0, len(names))
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(n); err == nil {
			list = append(list, pid)
		}
	}
	return list, nil
}

// cmdline is the raw command line of pid, arguments separated by NUL; nil
// when the process is gone or a zombie.
func cmdline(pid int) []byte {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return b
}

// stat returns the fields of /proc/PID/stat after the command name: [0] is
// the state, [11] utime and [12] stime.
func stat(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return nil, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	return f, nil
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	f, err := stat(pid)
	return err == nil && f[0] != "Z" && f[0] != "X"
}

// cpuTime is the user plus system CPU time pid has used so far.
func cpuTime(pid int) (time.Duration, error) {
	f, err := stat(pid)
	if err != nil {
		return 0, err
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// rss is the resident set size of pid in bytes (VmRSS).
func rss(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS of %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// counter counts the live processes whose program (argv[0]) is exactly
// prog. It remembers the processes it has matched and those that existed
// when it was made, so that each poll reads /proc but only the command
// lines of processes new since then: cheap enough to poll every few
// milliseconds while a tool starts a thousand services. It is meant for
// one measurement: pid reuse over minutes would confuse it.
type counter struct {
	prefix []byte       // prog and the NUL that ends argv[0]
	seen   map[int]bool // pid → matched (true) or existed before and did not (false)
}

func newCounter(prog string) (*counter, error) {
	c := &counter{prefix: append([]byte(prog), 0), seen: map[int]bool{}}
	list, err := pids()
	if err != nil {
		return nil, err
	}
	for _, pid := range list {
		c.seen[pid] = bytes.HasPrefix(cmdline(pid), c.prefix)
	}
	return c, nil
}

// count returns how many matching processes are listed in /proc now.
func (c *counter) count() (int, error) {
	list, err := pids()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, pid := range list {
		matched, known := c.seen[pid]
		if !known {
			// New since the last poll; it may not have exec'd yet, so a
			// miss is not remembered.
			if matched = bytes.HasPrefix(cmdline(pid), c.prefix); matched {
				c.seen[pid] = true
			}
		}
		if matched {
			n++
		}
	}
	return n, nil
}

// waitCount polls until at least n matching processes run, or until
// deadline; it returns the last count.
func (c *counter) waitCount(n int, deadline time.Time) (int, error) {
	for {
		got, err := c.count()
		if err != nil || got >= n || time.Now().After(deadline) {
			return got, err
		}
		time.Sleep(pollEvery)
	}
}

// pollEvery is how often waitCount polls: one poll reads /proc (some
// 0.5 ms of CPU with a thousand processes), so more often would take a
// noticeable share of a 2-core machine from the tool being measured.
const pollEvery = 5 * time.Millisecond

// running lists the live, non-zombie processes whose argv[0] is prog, by a
// fresh scan of /proc.
func running(prog string) []int {
	prefix := append([]byte(prog), 0)
	list, _ := pids()
	var out []int
	for _, pid := range list {
		if bytes.HasPrefix(cmdline(pid), prefix) && alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// sweep kills with SIGKILL every process whose command line contains
// token, other than this one and its ancestors, until none is left or
// timeout passes; it returns how many it signalled. token is the run's
// unique temporary directory, which every process the run starts carries
// in its command line: the daemons in their config paths, the services in
// their program paths. Nothing else on the machine has it.
func sweep(token string, timeout time.Duration) (int, error) {
	mine := ancestors()
	tok := []byte(token)
	killed := map[int]bool{}
	deadline := time.Now().Add(timeout)
	for {
		list, err := pids()
		if err != nil {
			return len(killed), err
		}
		left := 0
		for _, pid := range list {
			if slices.Contains(mine, pid) || !bytes.Contains(cmdline(pid), tok) || !alive(pid) {
				continue
			}
			left++
			if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
				killed[pid] = true
			}
		}
		if left == 0 {
			return len(killed), nil
		}
		if time.Now().After(deadline) {
			return len(killed), fmt.Errorf("%d processes of %s still alive after %s", left, token, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ancestors lists this process and its ancestors.
func ancestors() []int {
	var out []int
	for pid := os.Getpid(); pid > 1; {
		out = append(out, pid)
		f, err := stat(pid)
		if err != nil {
			break
		}
		pid, _ = strconv.Atoi(f[1])
	}
	return out
}

// loadavg is the first three fields of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
