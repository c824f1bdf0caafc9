//go:build linux

// Command workbook measures the workbook kind's large write against
// Python's openpyxl in write-only mode, in the same run: ROWS rows of 10
// columns (numbers, text, booleans) written to a new sheet and saved, each
// in a child process, timed wall to wall with its peak RSS.
//
//	go run ./bench/workbook -rows 100000 -runs 3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds/workbook"
)

// openpyxlWrite writes the same rows as rows(), in openpyxl's write-only
// mode (its streaming writer).
const openpyxlWrite = `
import sys, openpyxl
n, path = int(sys.argv[1]), sys.argv[2]
wb = openpyxl.Workbook(write_only=True)
ws = wb.create_sheet("Data")
for i in range(n):
    ws.append([i, i * 1.5, "item-%d" % i, "group-%d" % (i % 100), i % 2 == 0, i * 3, i / 7, "x", i % 10, -i])
wb.save(path)
`

func main() {
	rows := flag.Int("rows", 100_000, "rows to write, 10 columns each")
	runs := flag.Int("runs", 3, "runs of each writer; the median is reported")
	child := flag.String("child", "", "internal: write rows to this file and exit")
	flag.Parse()
	if *child != "" {
		if err := Write(*rows, *child); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := compare(*rows, *runs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// rows returns n rows of 10 values, as a JSON body decodes into.
func rows(n int) [][]any {
	out := make([][]any, n)
	for i := range out {
		f := float64(i)
		out[i] = []any{f, f * 1.5, "item-" + strconv.Itoa(i), "group-" + strconv.Itoa(i%100), i%2 == 0, f * 3, f / 7, "x", float64(i % 10), -f}
	}
	return out
}

// Write writes n rows through a session of a workbook service over the
// directory of file, and saves them as file.
func Write(n int, file string) error {
	k := workbook.New(workbook.Options{})
	spec := &workbook.Spec{Dir: filepath.Dir(file), MaxSessions: 1, IdleTimeout: time.Hour}
	r, err := k.NewRunner(&config.Service{Name: "bench", Kind: workbook.Name, Spec: spec})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- r.Run(ctx, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		return err
	}
	defer func() { cancel(); <-done }()
	s, err := k.Create(ctx, "bench", steward.WorkbookCreateRequest{})
	if err != nil {
		return err
	}
	w, err := k.Write(ctx, "bench", s.ID, steward.WorkbookWriteRequest{Sheet: "Data", Data: rows(n)})
	if err != nil {
		return err
	}
	if n >= 10_000 && !w.Streamed {
		return errors.New("the write did not go through the stream writer")
	}
	_, err = k.Save(ctx, "bench", s.ID, steward.WorkbookSaveRequest{As: filepath.Base(file)})
	return err
}

// result is one child's wall time and peak RSS.
type result struct {
	wall time.Duration
	rss  int64 // bytes
	size int64 // of the file
}

func measure(cmd *exec.Cmd, file string) (result, error) {
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("%s: %w", cmd.Path, err)
	}
	r := result{wall: time.Since(start), rss: cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024}
	fi, err := os.Stat(file)
	if err != nil {
		return result{}, err
	}
	r.size = fi.Size()
	return r, os.Remove(file)
}

// python returns a python3 that has openpyxl.
func python() (string, error) {
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import openpyxl").Run() == nil {
			return path, nil
		}
	}
	return "", errors.New("no python3 with openpyxl: apt-get install python3-openpyxl")
}

func compare(n, runs int) error {
	py, err := python()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-workbook")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "out.xlsx")
	var ours, theirs []result
	for range runs { // interleaved, so both see the same load
		r, err := measure(exec.Command(self, "-child", file, "-rows", strconv.Itoa(n)), file)
		if err != nil {
			return err
		}
		ours = append(ours, r)
		r, err = measure(exec.Command(py, "-c", openpyxlWrite, strconv.Itoa(n), file), file)
		if err != nil {
			return err
		}
		theirs = append(theirs, r)
	}
	a, b := median(ours), median(theirs)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("%d rows x 10 columns, median of %d runs (load %s)\n", n, runs, firstField(string(load)))
	fmt.Printf("steward workbook (stream writer): %v wall, %.1f MB peak RSS, %d bytes\n", a.wall.Round(time.Millisecond), float64(a.rss)/1e6, a.size)
	fmt.Printf("openpyxl write_only:              %v wall, %.1f MB peak RSS, %d bytes\n", b.wall.Round(time.Millisecond), float64(b.rss)/1e6, b.size)
	fmt.Printf("ratio: steward is %.2f x faster (budget >= 3); RSS %.1f MB (budget < 150)\n", b.wall.Seconds()/a.wall.Seconds(), float64(a.rss)/1e6)
	return nil
}

func median(rs []result) result {
	slices.SortFunc(rs, func(a, b result) int { return int(a.wall - b.wall) })
	m := rs[len(rs)/2]
	for _, r := range rs {
		m.rss = max(m.rss, r.rss)
	}
	return m
}

func firstField(s string) string {
	for i, c := range s {
		if c == ' ' {
			return s[:i]
		}
	}
	return s
}
