package logcap

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// testClock is a clock a test sets.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// capture writes the lines, each in its own read, to l.
func capture(t *testing.T, l *Log, lines ...string) {
	t.Helper()
	for _, s := range lines {
		if err := l.Capture(strings.NewReader(s+"\n"), Stdout); err != nil {
			t.Fatal(err)
		}
	}
}

// decompressed returns the lines of a rotated file, decompressing it by
// its extension.
func decompressed(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	switch filepath.Ext(path) {
	case ".gz":
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r = zr
	case ".zst":
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer zr.Close()
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	for _, s := range strings.SplitAfter(string(b), "\n") {
		if s == "" {
			continue
		}
		ln, err := ParseLine(s)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, ln.Text)
	}
	return out
}

// TestRotationByTime: with Every, the first write after each boundary of
// the local day rotates the file, between two lines.
func TestRotationByTime(t *testing.T) {
	zone := time.FixedZone("UTC+2", 2*3600)
	at := func(d, h, m int) time.Time { return time.Date(2024, 5, d, h, m, 0, 0, zone) }
	for _, tc := range []struct {
		name  string
		every time.Duration
		times []time.Time
		want  [][]string // the lines of each file, oldest file first
	}{
		{"1d at local midnight", day,
			[]time.Time{at(1, 10, 0), at(1, 23, 59), at(2, 0, 0), at(2, 23, 0), at(4, 1, 0)},
			[][]string{{"0", "1"}, {"2", "3"}, {"4"}}},
		{"6h", 6 * time.Hour,
			[]time.Time{at(1, 5, 0), at(1, 6, 0), at(1, 11, 59), at(1, 12, 0), at(1, 23, 0), at(2, 0, 30)},
			[][]string{{"0"}, {"1", "2"}, {"3"}, {"4"}, {"5"}}},
		{"2d from the first line's day", 2 * day,
			[]time.Time{at(1, 10, 0), at(2, 23, 0), at(3, 0, 0), at(4, 23, 0), at(5, 0, 0)},
			[][]string{{"0", "1"}, {"2", "3"}, {"4"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &testClock{t: tc.times[0]}
			l := open(t, Options{Every: tc.every, Location: zone, Keep: 10, Now: c.Now})
			for i, tm := range tc.times {
				c.set(tm)
				capture(t, l, fmt.Sprint(i))
			}
			rotated := rotatedPaths(t, l)
			var got [][]string
			for i := len(rotated) - 1; i >= 0; i-- {
				got = append(got, fileTexts(t, rotated[i]))
			}
			got = append(got, fileTexts(t, l.Path()))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("files hold %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRotationByTimeAfterReopen: a file whose first line is from an
// earlier day rotates at the first write after Open.
func TestRotationByTimeAfterReopen(t *testing.T) {
	dir := t.TempDir()
	c := &testClock{t: time.Date(2024, 5, 1, 22, 0, 0, 0, time.UTC)}
	l := open(t, Options{Dir: dir, Every: day, Location: time.UTC, Keep: 3, Now: c.Now})
	capture(t, l, "yesterday")
	l.Close()
	c.set(time.Date(2024, 5, 2, 8, 0, 0, 0, time.UTC))
	l = open(t, Options{Dir: dir, Every: day, Location: time.UTC, Keep: 3, Now: c.Now})
	capture(t, l, "today")
	rotated := rotatedPaths(t, l)
	if len(rotated) != 1 || !equal(fileTexts(t, rotated[0]), []string{"yesterday"}) || !equal(fileTexts(t, l.Path()), []string{"today"}) {
		t.Errorf("rotated %q, current %q: want yesterday's line rotated", rotated, fileTexts(t, l.Path()))
	}
	// A first line that is not steward's starts the day now.
	os.WriteFile(filepath.Join(dir, "other.log"), []byte("garbage\n"), 0o600)
	o := open(t, Options{Dir: dir, Name: "other", Every: day, Location: time.UTC, Now: c.Now})
	if got, want := o.next, time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next rotation %v, want %v", got, want)
	}
}

// TestBoundaryShortDay: on the day the clocks go forward, the 23-hour
// day ends at its local midnight, not 24 hours after the one before.
func TestBoundaryShortDay(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	l := open(t, Options{Every: 6 * time.Hour, Location: berlin})
	got := l.boundary(time.Date(2024, 3, 31, 22, 30, 0, 0, berlin))
	if want := time.Date(2024, 4, 1, 0, 0, 0, 0, berlin); !got.Equal(want) {
		t.Errorf("boundary %v, want %v", got, want)
	}
	if err := l.SetRotation(Options{MaxSize: 1 << 20, Every: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if got, want := l.next, time.Date(2024, 5, 1, 15, 0, 0, 0, berlin); !got.Equal(want) {
		t.Errorf("next rotation after SetRotation %v, want %v", got, want)
	}
	if err := l.SetRotation(Options{MaxSize: 1 << 20, Every: 7 * time.Minute}); err == nil {
		t.Error("SetRotation with every 7m succeeded")
	}
}

// TestCompression: rotated files are compressed in the background, keep
// every line, and the uncompressed copies are gone.
func TestCompression(t *testing.T) {
	for _, kind := range []string{Gzip, Zstd} {
		t.Run(kind, func(t *testing.T) {
			c := &testClock{t: t0}
			l := open(t, Options{Keep: 10, Compress: kind, Now: c.Now})
			var want []string
			for i := range 4 {
				line := strings.Repeat(fmt.Sprint(i), 100)
				capture(t, l, line)
				want = append(want, line)
				c.set(c.Now().Add(time.Second))
				if _, err := l.Rotate(); err != nil {
					t.Fatal(err)
				}
			}
			rotated := rotatedPaths(t, l)
			if len(rotated) != 4 {
				t.Fatalf("rotated %q, want 4 files", rotated)
			}
			var got []string
			for i := len(rotated) - 1; i >= 0; i-- {
				ext := map[string]string{Gzip: ".gz", Zstd: ".zst"}[kind]
				if !strings.HasSuffix(rotated[i], ext) {
					t.Errorf("%s: not %s", rotated[i], ext)
				}
				got = append(got, decompressed(t, rotated[i])...)
			}
			if !equal(got, want) {
				t.Errorf("compressed files hold %q, want %q", got, want)
			}
			entries, _ := os.ReadDir(filepath.Dir(l.Path()))
			if len(entries) != 5 {
				t.Errorf("%d files in the directory, want the log and 4 compressed", len(entries))
			}
		})
	}
}

// TestPrune: rotated files are deleted beyond Keep, older than MaxAge, and
// beyond MaxTotal bytes, newest kept first.
func TestPrune(t *testing.T) {
	line := strings.Repeat("x", 959) // 1000 bytes with the prefix and newline
	for _, tc := range []struct {
		name string
		opts Options
		want int // rotated files kept of 6, one rotated each hour
	}{
		{"keep", Options{Keep: 4}, 4},
		{"max age", Options{Keep: 10, MaxAge: 150 * time.Minute}, 3},
		{"max total", Options{Keep: 10, MaxTotal: 2500}, 2},
		{"max total exact", Options{Keep: 10, MaxTotal: 3000}, 3},
		{"max total counts compressed bytes", Options{Keep: 10, MaxTotal: 2500, Compress: Gzip}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &testClock{t: t0}
			tc.opts.Now = c.Now
			l := open(t, tc.opts)
			var want []string
			for range 6 {
				capture(t, l, line)
				c.set(c.Now().Add(time.Hour))
				to, err := l.Rotate()
				if err != nil {
					t.Fatal(err)
				}
				if tc.opts.Compress != "" {
					to += ".gz"
				}
				want = append([]string{to}, want...)
				idle(t, l)
			}
			if got := rotatedPaths(t, l); !equal(got, want[:tc.want]) {
				t.Errorf("kept %q, want %q", got, want[:tc.want])
			}
		})
	}
}

// TestTidyError: a failure to compress is reported to OnError and the
// file stays as it was.
func TestTidyError(t *testing.T) {
	errs := make(chan error, 10)
	l := open(t, Options{Keep: 2, Compress: Zstd, OnError: func(err error) { errs <- err }})
	capture(t, l, "x")
	stamped := l.Path() + "." + t0.UTC().Format(StampFormat)
	// A directory, not empty, in the way of the temporary file.
	if err := os.MkdirAll(filepath.Join(stamped+".zst.tmp", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Rotate(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "svc") {
			t.Errorf("error %q does not name the log", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no error reported within 30 s")
	}
	if got := fileTexts(t, stamped); !equal(got, []string{"x"}) {
		t.Errorf("%s holds %q after a failed compression", stamped, got)
	}
}

// TestCompressStops: a compression that is told to stop leaves neither
// its temporary file nor a compressed one, and keeps the file.
func TestCompressStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "svc.log.x")
	if err := os.WriteFile(path, bytes.Repeat([]byte("a\n"), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{Gzip, Zstd} {
		err := compressFile(path, kind, func() bool { return true })
		if !errors.Is(err, errClosed) {
			t.Errorf("%s: got %v, want errClosed", kind, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files, want only the original", len(entries))
	}
	if err := compressFile(filepath.Join(t.TempDir(), "missing"), Gzip, func() bool { return false }); err == nil {
		t.Error("compressing a missing file succeeded")
	}
}
