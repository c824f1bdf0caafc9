package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestLogRotationLosesNoLine: a service writes 100 MB of numbered lines as
// fast as it can while its log rotates by size every 5 MB and by `steward
// logs rotate` too, and the rotated files are compressed with zstd in the
// background. Read back, decompressed, the files hold every number once,
// in order.
func TestLogRotationLosesNoLine(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MB")
	}
	const lines = 1_650_000 // of 62 bytes: 102 MB
	e := newEnv(t, fmt.Sprintf(`
services:
  gen:
    command: ["{{prog}}", "-print", "%d", "-sleep", "1h"]
    logs: {max_size: 5MB, keep: 1000, compress: zstd}
`, lines))
	e.run()
	logDir := filepath.Join(e.dir, "logs")
	last := fmt.Sprintf("line %d ", lines) // numbered from 1
	manual := 0
	var lastRotate time.Time
	testwait.NoError(t, 5*time.Minute, func() error {
		// Some rotations by hand, spread over the writing.
		if manual < 10 && time.Since(lastRotate) > 300*time.Millisecond {
			lastRotate = time.Now()
			code, out, stderr := e.steward("logs", "rotate", "gen", "-o", "json")
			if code != 0 {
				t.Fatalf("logs rotate gen: exit %d: %s", code, stderr)
			}
			var rs []steward.LogRotation
			if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 1 || rs[0].Service != "gen" {
				t.Fatalf("logs rotate -o json: %v: %s", err, out)
			}
			if rs[0].File != "" {
				manual++
			}
		}
		if _, out, _ := e.steward("logs", "-n", "1", "gen"); !strings.HasPrefix(out, last) {
			return fmt.Errorf("last line %q, want %q…", out, last)
		}
		return nil
	})
	if manual == 0 {
		t.Error("no rotation by steward logs rotate while the lines came")
	}
	var rotated []string
	testwait.NoError(t, 2*time.Minute, func() error {
		rotated, _ = filepath.Glob(filepath.Join(logDir, "gen.log.*"))
		for _, p := range rotated {
			if !strings.HasSuffix(p, ".zst") {
				return fmt.Errorf("%s is not compressed yet", p)
			}
		}
		return nil
	})
	slices.Sort(rotated) // the UTC stamps sort in time order
	if len(rotated) < 20 {
		t.Errorf("%d rotated files, want at least 20 for 100 MB in files of 5 MB", len(rotated))
	}
	next := 1
	for _, p := range append(rotated, filepath.Join(logDir, "gen.log")) {
		next = checkNumbered(t, p, next)
	}
	if next-1 != lines {
		t.Errorf("read %d lines back, want %d", next-1, lines)
	}
	// `logs rotate` with no name rotates every service, and says so.
	code, out, stderr := e.steward("logs", "rotate")
	if code != 0 || !strings.HasPrefix(out, "gen: ") {
		t.Errorf("logs rotate: exit %d: %s%s", code, out, stderr)
	}
}

// checkNumbered reads the log file path, decompressing it when it ends in
// .zst, checks that its lines are "line N …" numbered from next on, and
// returns the number after its last.
func checkNumbered(t *testing.T, path string, next int) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".zst") {
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		ln, err := logcap.ParseLine(sc.Text())
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		num, _, _ := strings.Cut(strings.TrimPrefix(ln.Text, "line "), " ")
		if n, err := strconv.Atoi(num); err != nil || n != next {
			t.Fatalf("%s: line %q, want number %d", path, ln.Text, next)
		}
		next++
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return next
}
