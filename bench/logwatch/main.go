//go:build unix

// Command logwatch measures the log watch against the budget of DESIGN.md:
// its throughput with a typical rule set must be at least half that of
// `grep -E` with the same patterns on the same file.
//
// It writes a file of realistic log lines (about 3% of which match one
// rule each), warms the page cache, then times, -runs times each and
// alternately, `LC_ALL=C grep -E -c PATTERN FILE` and a logwatch.Watcher
// that reads the file from its beginning and checks each line with five
// rules — from Start until it has read the last byte. It checks that both
// count the same matching lines.
//
// Run it from the module root (Linux or macOS):
//
//	go run ./bench/logwatch [-size 1GB] [-runs 5] [-dir /tmp] [-keep] [-cpuprofile FILE]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stewardhq/steward/internal/logwatch"
)

// The rule set: what an operator would write for an application log.
var rules = []logwatch.RuleConfig{
	{Name: "error", Match: `ERROR (?P<what>\w+)`, Severity: "critical", Message: "error in $what"},
	{Name: "timeout", Match: `timeout after (?P<ms>\d+)ms`, When: "5 in 1m"},
	{Name: "panic", Match: `panic: (?P<msg>.*)`, Severity: "critical"},
	{Name: "conn", Match: `connection (?:refused|reset)`, When: "10 in 1m"},
	{Name: "5xx", Match: `status=5\d\d`, When: "20 in 1m"},
}

// grepPattern is the same rule set as one POSIX ERE.
const grepPattern = `ERROR [[:alnum:]_]+|timeout after [0-9]+ms|panic: .*|connection (refused|reset)|status=5[0-9][0-9]`

func main() {
	size := flag.String("size", "1GB", "size of the generated file: 200MB, 1GB …")
	runs := flag.Int("runs", 5, "runs of each")
	dir := flag.String("dir", os.TempDir(), "directory for the file")
	keep := flag.Bool("keep", false, "keep the generated file (and reuse one of the same size)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the logwatch runs")
	latency := flag.Bool("latency", false, "measure the latency from a write to its event instead, with events and polling")
	flag.Parse()
	if *latency {
		if err := measureLatency(*dir); err != nil {
			fatal(err)
		}
		return
	}
	n, err := parseSize(*size)
	if err != nil {
		fatal(err)
	}
	path := filepath.Join(*dir, fmt.Sprintf("steward-logwatch-bench-%d.log", n))
	if fi, err := os.Stat(path); err != nil || fi.Size() < n || !*keep {
		fmt.Fprintf(os.Stderr, "writing %s …\n", path)
		if err := generate(path, n); err != nil {
			fatal(err)
		}
	}
	if !*keep {
		defer os.Remove(path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		fatal(err)
	}
	lines, err := countLines(path) // also warms the page cache
	if err != nil {
		fatal(err)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	var grepWall, grepCPU, lwWall, lwCPU []time.Duration
	var grepCount, lwCount uint64
	for range *runs {
		w, c, k, err := runGrep(path)
		if err != nil {
			fatal(err)
		}
		grepWall, grepCPU, grepCount = append(grepWall, w), append(grepCPU, c), k
		w, c, k, err = runLogwatch(path, fi.Size())
		if err != nil {
			fatal(err)
		}
		lwWall, lwCPU, lwCount = append(lwWall, w), append(lwCPU, c), k
	}
	if grepCount != lwCount {
		fatal(fmt.Errorf("grep counted %d matching lines, logwatch %d", grepCount, lwCount))
	}
	fmt.Printf("file: %s, %d bytes, %d lines, %d matching (%.1f%%)\n", path, fi.Size(), lines, grepCount, 100*float64(grepCount)/float64(lines))
	fmt.Printf("%-10s %9s %9s %13s %9s\n", "", "wall", "CPU", "lines/s", "MB/s")
	gw, lw := median(grepWall), median(lwWall)
	for _, r := range []struct {
		name      string
		wall, cpu time.Duration
	}{{"grep -E", gw, median(grepCPU)}, {"logwatch", lw, median(lwCPU)}} {
		fmt.Printf("%-10s %8.3fs %8.3fs %13.0f %9.0f\n", r.name, r.wall.Seconds(), r.cpu.Seconds(),
			float64(lines)/r.wall.Seconds(), float64(fi.Size())/1e6/r.wall.Seconds())
	}
	fmt.Printf("logwatch throughput = %.2f × grep -E (budget ≥ 0.50); medians of %d runs\n", gw.Seconds()/lw.Seconds(), *runs)
}

// runGrep times grep -E -c on path.
func runGrep(path string) (wall, cpu time.Duration, count uint64, err error) {
	cmd := exec.Command("grep", "-E", "-c", grepPattern, path)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	start := time.Now()
	out, err := cmd.Output()
	wall = time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("grep: %w", err)
	}
	count, err = strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return wall, cpu, count, err
}

// runLogwatch times a Watcher reading path, of size bytes, from its start
// to its end, and returns the matches its rules counted.
func runLogwatch(path string, size int64) (wall, cpu time.Duration, count uint64, err error) {
	var events atomic.Uint64
	w, err := logwatch.New(logwatch.Config{
		Name:    "bench",
		Files:   []string{path},
		Rules:   rules,
		StartAt: logwatch.StartBeginning,
		Poll:    10 * time.Millisecond,
	}, logwatch.Options{
		Handler:  func(logwatch.Event) { events.Add(1) },
		NoEvents: true,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return 0, 0, 0, err
	}
	cpu0 := selfCPU()
	start := time.Now()
	if err := w.Start(context.Background()); err != nil {
		return 0, 0, 0, err
	}
	for w.Stats().Bytes < uint64(size) {
		time.Sleep(200 * time.Microsecond)
	}
	wall = time.Since(start)
	cpu = selfCPU() - cpu0
	if err := w.Stop(context.Background()); err != nil {
		return 0, 0, 0, err
	}
	for _, r := range w.Stats().Rules {
		count += r.Matches
	}
	return wall, cpu, count, nil
}

// measureLatency appends 100 matching lines at random intervals of 0–50 ms
// to a followed file and reports the time from each write to its event,
// with file system events and with polling only (at its default interval),
// and the CPU the Watcher used while 100 idle files were followed for 10 s.
func measureLatency(dir string) error {
	for _, noEvents := range []bool{false, true} {
		d, err := os.MkdirTemp(dir, "lwlat")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		path := filepath.Join(d, "app.log")
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		for i := range 100 {
			os.WriteFile(filepath.Join(d, fmt.Sprintf("idle%d.log", i)), []byte("x\n"), 0o644)
		}
		got := make(chan time.Time, 1)
		w, err := logwatch.New(logwatch.Config{Name: "lat", Files: []string{filepath.Join(d, "*.log")}, Rules: rules},
			logwatch.Options{NoEvents: noEvents, Logger: slog.New(slog.DiscardHandler),
				Handler: func(logwatch.Event) { got <- time.Now() }})
		if err != nil {
			return err
		}
		if err := w.Start(context.Background()); err != nil {
			return err
		}
		time.Sleep(time.Second)
		cpu0 := selfCPU()
		time.Sleep(10 * time.Second)
		idle := selfCPU() - cpu0
		rng := rand.New(rand.NewPCG(3, 4))
		var lat []time.Duration
		for range 100 {
			time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond)
			start := time.Now()
			io.WriteString(f, "panic: test\n")
			lat = append(lat, (<-got).Sub(start))
		}
		w.Stop(context.Background())
		f.Close()
		slices.Sort(lat)
		mode := "inotify + 10 s poll"
		if noEvents {
			mode = "poll every 250 ms"
		}
		fmt.Printf("%-20s write→event p50 %7.2f ms  p90 %7.2f ms  max %7.2f ms; idle CPU, 101 files: %.3f%% of a core\n", mode,
			ms(lat[50]), ms(lat[90]), ms(lat[99]), 100*idle.Seconds()/10)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// generate writes about n bytes of log lines to path. Each line matches at
// most one rule.
func generate(path string, n int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	t := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	components := []string{"http", "db", "cache", "worker", "auth", "scheduler"}
	paths := []string{"/api/v1/users", "/api/v1/orders", "/health", "/api/v1/items/42", "/login"}
	var written int64
	var b []byte
	for written < n {
		t = t.Add(time.Duration(rng.IntN(3000)) * time.Microsecond)
		b = t.AppendFormat(b[:0], "2006-01-02T15:04:05.000000Z ")
		comp := components[rng.IntN(len(components))]
		switch r := rng.IntN(1000); {
		case r < 10:
			b = fmt.Appendf(b, "ERROR %s query failed: deadline exceeded (attempt %d)", comp, rng.IntN(5))
		case r < 17:
			b = fmt.Appendf(b, "WARN  %s upstream timeout after %dms on %s", comp, 1000+rng.IntN(9000), paths[rng.IntN(len(paths))])
		case r < 18:
			b = fmt.Appendf(b, "FATAL %s panic: runtime error: index out of range [%d]", comp, rng.IntN(100))
		case r < 25:
			b = fmt.Appendf(b, "WARN  %s dial tcp 10.0.%d.%d:5432: connection refused", comp, rng.IntN(255), rng.IntN(255))
		case r < 32:
			b = fmt.Appendf(b, "INFO  http request method=GET path=%s status=50%d duration=%dms", paths[rng.IntN(len(paths))], rng.IntN(4), rng.IntN(900))
		default:
			b = fmt.Appendf(b, "INFO  %s request method=GET path=%s status=200 duration=%dms user=u%d bytes=%d",
				comp, paths[rng.IntN(len(paths))], rng.IntN(900), rng.IntN(100000), rng.IntN(1<<20))
		}
		b = append(b, '\n')
		k, err := bw.Write(b)
		if err != nil {
			return err
		}
		written += int64(k)
	}
	return bw.Flush()
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	n := 0
	for {
		k, err := f.Read(buf)
		for _, c := range buf[:k] {
			if c == '\n' {
				n++
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, x := range []struct {
		suffix string
		m      int64
	}{{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}} {
		if strings.HasSuffix(u, x.suffix) {
			u, mult = strings.TrimSuffix(u, x.suffix), x.m
			break
		}
	}
	v, err := strconv.ParseInt(u, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return v * mult, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "logwatch bench:", err)
	os.Exit(1)
}
