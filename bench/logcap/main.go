//go:build unix

// Command logcap measures internal/logcap against the log capture budgets
// of DESIGN.md, with a real child process writing to a pipe:
//
//	(a) 200 MB of 100-byte lines, written 64 KiB at a time, against
//	    `cat file > out` and the generator writing straight to a file;
//	(b) 1,000,000 separate 62-byte write(2) calls;
//	(c) the latency from a child's write to a subscriber, for 150 lines
//	    written at random intervals of 0 to 150 ms (so the stream is busy,
//	    briefly quiet, and idle).
//
// Run it from the module root (Linux or macOS):
//
//	go run ./bench/logcap [-runs 5] [-dir /tmp] [-only NAME] [-cpuprofile FILE]
//
// The same binary is the child: -gen lines|small|ticks writes a load to
// stdout.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/stewardhq/steward/internal/logcap"
)

const (
	linesTotal = 200 << 20 // bytes of load (a)
	lineLen    = 100       // bytes a line in load (a), newline included
	smallCount = 1_000_000 // writes of load (b)
	smallLen   = 62        // bytes a write in load (b), newline included
	tickCount  = 150       // lines of load (c)
)

func main() {
	gen := flag.String("gen", "", "write a load to stdout and exit: lines or small")
	runs := flag.Int("runs", 5, "runs of each case; the table shows medians")
	dir := flag.String("dir", os.TempDir(), "directory for the data and log files")
	only := flag.String("only", "", "run only the cases whose name contains this")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *gen != "" {
		if err := generate(*gen, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(*runs, *dir, *only); err != nil {
		fmt.Fprintln(os.Stderr, "logcap bench:", err)
		os.Exit(1)
	}
}

// generate writes load "lines" (buffered, 64 KiB writes) or "small" (one
// write(2) a line) to f.
func generate(load string, f *os.File) error {
	switch load {
	case "lines":
		w := bufio.NewWriterSize(f, 64<<10)
		line := make([]byte, 0, lineLen)
		for i := 0; i < linesTotal/lineLen; i++ {
			line = append(line[:0], "2024-05-01 12:00:00 INFO request served id="...)
			line = strconv.AppendInt(line, int64(i), 10)
			line = append(line, " path=/api/v1/items status=200 bytes=5120 took=1.2ms "...)
			for len(line) < lineLen-1 {
				line = append(line, 'x')
			}
			line = append(line[:lineLen-1], '\n')
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
		return w.Flush()
	case "ticks":
		rng := rand.New(rand.NewPCG(1, 2))
		for range tickCount {
			time.Sleep(time.Duration(rng.Int64N(int64(150 * time.Millisecond))))
			line := strconv.AppendInt([]byte("tick "), time.Now().UnixNano(), 10)
			if _, err := syscall.Write(int(f.Fd()), append(line, '\n')); err != nil {
				return err
			}
		}
		return nil
	case "small":
		line := []byte("small write number nnnnnnn, one line per write(2) call ......\n")
		if len(line) != smallLen {
			return fmt.Errorf("small line is %d bytes", len(line))
		}
		for range smallCount {
			for i := 25; i >= 19; i-- { // count in the line's digits
				if line[i] == 'n' || line[i] == '9' {
					line[i] = '0'
					continue
				}
				line[i]++
				break
			}
			if _, err := syscall.Write(int(f.Fd()), line); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown load %q", load)
}

// result is one measured run.
type result struct {
	wall, self, child time.Duration
	blocked           int64 // voluntary context switches of the children
}

type measure func(dir string) (result, error)

func run(runs int, base, only string) error {
	dir, err := os.MkdirTemp(base, "logcapbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	data := filepath.Join(dir, "lines.txt")
	f, err := os.Create(data)
	if err != nil {
		return err
	}
	if err := generate("lines", f); err != nil {
		return err
	}
	f.Close()

	budgetA := result{wall: 300 * time.Millisecond, self: 220 * time.Millisecond}
	budgetB := result{wall: 500 * time.Millisecond}
	cases := []struct {
		name   string
		budget result
		m      measure
	}{
		{"(a) cat file > out", result{}, shell(data, "cat", data)},
		{"(a) generator > file", result{}, shell("", exe, "-gen", "lines")},
		{"(a) generator | cat > file", result{}, piped(exe, "lines", "cat")},
		{"(a) generator | logcap, os.Pipe+GrowPipe", budgetA, captured(exe, "lines", osPipe)},
		{"(a) generator | logcap, logcap.Pipe", budgetA, captured(exe, "lines", logcap.Pipe)},
		{"(b) generator > /dev/null", result{}, devnull(exe)},
		{"(b) generator | cat > file", result{}, piped(exe, "small", "cat")},
		{"(b) generator | logcap, os.Pipe+GrowPipe", budgetB, captured(exe, "small", osPipe)},
		{"(b) generator | logcap, logcap.Pipe", budgetB, captured(exe, "small", logcap.Pipe)},
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := false
	for _, c := range cases {
		if !strings.Contains(c.name, only) {
			continue
		}
		if !header {
			fmt.Fprintf(tw, "case\twall\tCPU reader\tCPU child\tchild waits\twall/budget\tCPU/budget\t\n")
			header = true
		}
		var rs []result
		for range runs {
			out := filepath.Join(dir, "run")
			if err := os.MkdirAll(out, 0o750); err != nil {
				return err
			}
			r, err := c.m(out)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			rs = append(rs, r)
			if err := os.RemoveAll(out); err != nil {
				return err
			}
		}
		r := median(rs)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t\n", c.name, ms(r.wall), ms(r.self), ms(r.child), r.blocked,
			ratio(r.wall, c.budget.wall), ratio(r.self, c.budget.self))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !strings.Contains("(c) write to subscriber", only) {
		return nil
	}
	if header {
		fmt.Println()
	}
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "(c) write to subscriber\tp50\tp90\tp99\tmax\t\n")
	for _, p := range []struct {
		name string
		pipe func() (r, w *os.File, err error)
	}{{"os.Pipe+GrowPipe", osPipe}, {"logcap.Pipe", logcap.Pipe}} {
		out := filepath.Join(dir, "run")
		if err := os.MkdirAll(out, 0o750); err != nil {
			return err
		}
		lat, err := latency(exe, out, p.pipe)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		os.RemoveAll(out)
		slices.Sort(lat)
		q := func(f float64) string { return fmt.Sprintf("%.2f ms", float64(lat[int(f*float64(len(lat)-1))])/1e6) }
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", p.name, q(0.5), q(0.9), q(0.99), q(1))
	}
	return tw.Flush()
}

// latency runs the ticks generator and returns, for each line, the time
// from its write to its arrival at a subscriber.
func latency(exe, dir string, pipe func() (r, w *os.File, err error)) ([]time.Duration, error) {
	lg, err := logcap.Open(logcap.Options{Dir: dir, Name: "bench", MaxSize: 50 << 20, Keep: 5, Ring: 1000})
	if err != nil {
		return nil, err
	}
	defer lg.Close()
	lines, unsubscribe := lg.Subscribe()
	defer unsubscribe()
	r, w, err := pipe()
	if err != nil {
		return nil, err
	}
	gen := exec.Command(exe, "-gen", "ticks")
	gen.Stdout = w
	if err := gen.Start(); err != nil {
		return nil, err
	}
	w.Close()
	done := make(chan error, 1)
	go func() { done <- lg.Capture(r, logcap.Stdout) }()
	var lat []time.Duration
	for len(lat) < tickCount {
		ln := <-lines
		at := time.Now()
		ns, err := strconv.ParseInt(strings.TrimPrefix(ln.Text, "tick "), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", ln.Text, err)
		}
		lat = append(lat, at.Sub(time.Unix(0, ns)))
	}
	if err := gen.Wait(); err != nil {
		return nil, err
	}
	return lat, <-done
}

// shell runs name args with stdin from in (if not "") and stdout to a file;
// the reader is the child itself.
func shell(in, name string, args ...string) measure {
	return func(dir string) (result, error) {
		out, err := os.Create(filepath.Join(dir, "out"))
		if err != nil {
			return result{}, err
		}
		defer out.Close()
		cmd := exec.Command(name, args...)
		cmd.Stdout = out
		if in != "" {
			f, err := os.Open(in)
			if err != nil {
				return result{}, err
			}
			defer f.Close()
			cmd.Stdin = f
		}
		c0, w0 := cpu(syscall.RUSAGE_CHILDREN), waits(syscall.RUSAGE_CHILDREN)
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			return result{}, err
		}
		return result{wall: time.Since(t0), child: cpu(syscall.RUSAGE_CHILDREN) - c0, blocked: waits(syscall.RUSAGE_CHILDREN) - w0}, nil
	}
}

// devnull runs the small-writes generator into /dev/null: the cost of its
// write calls alone.
func devnull(exe string) measure {
	return func(string) (result, error) {
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return result{}, err
		}
		defer null.Close()
		cmd := exec.Command(exe, "-gen", "small")
		cmd.Stdout = null
		c0, w0 := cpu(syscall.RUSAGE_CHILDREN), waits(syscall.RUSAGE_CHILDREN)
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			return result{}, err
		}
		return result{wall: time.Since(t0), child: cpu(syscall.RUSAGE_CHILDREN) - c0, blocked: waits(syscall.RUSAGE_CHILDREN) - w0}, nil
	}
}

// piped runs the generator into a pipe read by reader (cat) writing a file;
// the CPU of both children is counted as child CPU.
func piped(exe, load, reader string) measure {
	return func(dir string) (result, error) {
		out, err := os.Create(filepath.Join(dir, "out"))
		if err != nil {
			return result{}, err
		}
		defer out.Close()
		r, w, err := os.Pipe()
		if err != nil {
			return result{}, err
		}
		gen := exec.Command(exe, "-gen", load)
		gen.Stdout = w
		cat := exec.Command(reader)
		cat.Stdin, cat.Stdout = r, out
		c0, w0 := cpu(syscall.RUSAGE_CHILDREN), waits(syscall.RUSAGE_CHILDREN)
		t0 := time.Now()
		if err := cat.Start(); err != nil {
			return result{}, err
		}
		if err := gen.Start(); err != nil {
			return result{}, err
		}
		w.Close()
		r.Close()
		gerr, cerr := gen.Wait(), cat.Wait()
		if gerr != nil || cerr != nil {
			return result{}, fmt.Errorf("generator: %v, %s: %v", gerr, reader, cerr)
		}
		return result{wall: time.Since(t0), child: cpu(syscall.RUSAGE_CHILDREN) - c0, blocked: waits(syscall.RUSAGE_CHILDREN) - w0}, nil
	}
}

// osPipe is os.Pipe followed by GrowPipe on the read end, as the supervisor
// did first.
func osPipe() (r, w *os.File, err error) {
	r, w, err = os.Pipe()
	if err == nil {
		logcap.GrowPipe(r)
	}
	return r, w, err
}

// captured runs the generator as the supervisor does: a pipe, its write
// end to the child, logcap.Capture on the read end, into a log of 50 MB
// files keeping 5.
func captured(exe, load string, pipe func() (r, w *os.File, err error)) measure {
	return func(dir string) (result, error) {
		lg, err := logcap.Open(logcap.Options{Dir: dir, Name: "bench", MaxSize: 50 << 20, Keep: 5, Ring: 1000})
		if err != nil {
			return result{}, err
		}
		r, w, err := pipe()
		if err != nil {
			return result{}, err
		}
		gen := exec.Command(exe, "-gen", load)
		gen.Stdout = w
		s0, c0, w0 := cpu(syscall.RUSAGE_SELF), cpu(syscall.RUSAGE_CHILDREN), waits(syscall.RUSAGE_CHILDREN)
		t0 := time.Now()
		if err := gen.Start(); err != nil {
			return result{}, err
		}
		w.Close()
		done := make(chan error, 1)
		go func() { done <- lg.Capture(r, logcap.Stdout) }()
		gerr := gen.Wait()
		cerr := <-done
		res := result{wall: time.Since(t0), self: cpu(syscall.RUSAGE_SELF) - s0, child: cpu(syscall.RUSAGE_CHILDREN) - c0,
			blocked: waits(syscall.RUSAGE_CHILDREN) - w0}
		if err := lg.Close(); err != nil {
			return result{}, err
		}
		if gerr != nil || cerr != nil {
			return result{}, fmt.Errorf("generator: %v, capture: %v", gerr, cerr)
		}
		return res, check(dir, load)
	}
}

// check verifies that the log holds every line of the load.
func check(dir, load string) error {
	want := int64(linesTotal / lineLen)
	if load == "small" {
		want = smallCount
	}
	files, err := filepath.Glob(filepath.Join(dir, "bench.log*"))
	if err != nil {
		return err
	}
	var lines int64
	buf := make([]byte, 1<<20)
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		for {
			n, err := f.Read(buf)
			lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return err
			}
		}
		f.Close()
	}
	if lines != want {
		return fmt.Errorf("log holds %d lines, want %d", lines, want)
	}
	return nil
}

func cpu(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waits returns the voluntary context switches of who: for a child
// writing to a pipe, how often it had to wait for the reader.
func waits(who int) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return int64(ru.Nvcsw)
}

// median returns the median of each field separately.
func median(rs []result) result {
	pick := func(f func(result) time.Duration) time.Duration {
		v := make([]time.Duration, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	blocked := make([]int64, len(rs))
	for i, r := range rs {
		blocked[i] = r.blocked
	}
	slices.Sort(blocked)
	return result{
		wall:    pick(func(r result) time.Duration { return r.wall }),
		self:    pick(func(r result) time.Duration { return r.self }),
		child:   pick(func(r result) time.Duration { return r.child }),
		blocked: blocked[len(blocked)/2],
	}
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

func ratio(d, budget time.Duration) string {
	if budget == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", d.Seconds()/budget.Seconds())
}
