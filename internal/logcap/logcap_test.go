package logcap

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// t0 is the fixed clock of most tests.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

func fixedClock() time.Time { return t0 }

// open opens a log in a temporary directory with a fixed clock.
func open(t *testing.T, opts Options) *Log {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Name == "" {
		opts.Name = "svc"
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = 1 << 30
	}
	if opts.Now == nil {
		opts.Now = fixedClock
	}
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// readFile returns the content of a file, "" if it does not exist.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// texts returns the texts of lines.
func texts(lines []Line) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Text
	}
	return out
}

// fileTexts parses a log file and returns the texts of its lines.
func fileTexts(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	content := readFile(t, path)
	for _, s := range strings.SplitAfter(content, "\n") {
		if s == "" {
			continue
		}
		ln, err := ParseLine(s)
		if err != nil {
			t.Fatalf("ParseLine(%q): %v", s, err)
		}
		out = append(out, ln.Text)
	}
	return out
}

func equal(a, b []string) bool { return slices.Equal(a, b) }

// short abbreviates long strings for failure messages.
func short(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		if len(s) > 40 {
			s = fmt.Sprintf("%s…(%d bytes)", s[:20], len(s))
		}
		out[i] = s
	}
	return out
}

// same reports whether two lines are equal, times compared with Equal.
func same(a, b Line) bool {
	return a.Time.Equal(b.Time) && a.Stream == b.Stream && a.Text == b.Text && a.Missed == b.Missed
}

func TestOpenRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no dir", Options{Name: "a", MaxSize: 1}},
		{"no name", Options{Dir: dir, MaxSize: 1}},
		{"slash in name", Options{Dir: dir, Name: "a/b", MaxSize: 1}},
		{"dot dot", Options{Dir: dir, Name: "..", MaxSize: 1}},
		{"zero max size", Options{Dir: dir, Name: "a"}},
		{"negative keep", Options{Dir: dir, Name: "a", MaxSize: 1, Keep: -1}},
		{"negative ring", Options{Dir: dir, Name: "a", MaxSize: 1, Ring: -1}},
		{"negative max age", Options{Dir: dir, Name: "a", MaxSize: 1, MaxAge: -1}},
		{"negative max total", Options{Dir: dir, Name: "a", MaxSize: 1, MaxTotal: -1}},
		{"unknown compression", Options{Dir: dir, Name: "a", MaxSize: 1, Compress: "lz4"}},
		{"every 7m", Options{Dir: dir, Name: "a", MaxSize: 1, Every: 7 * time.Minute}},
		{"every 1s", Options{Dir: dir, Name: "a", MaxSize: 1, Every: time.Second}},
		{"every 36h", Options{Dir: dir, Name: "a", MaxSize: 1, Every: 36 * time.Hour}},
		{"dir is a file", Options{Dir: filepath.Join(dir, "f", "x"), Name: "a", MaxSize: 1}},
		{"log is a directory", Options{Dir: dir, Name: "d", MaxSize: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "f"), nil, 0o600)
			os.MkdirAll(filepath.Join(dir, "d.log"), 0o750)
			if l, err := Open(tc.opts); err == nil {
				l.Close()
				t.Fatalf("Open(%+v): got no error", tc.opts)
			}
		})
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	l := open(t, Options{Dir: dir})
	if got, want := l.Path(), filepath.Join(dir, "svc.log"); got != want {
		t.Errorf("Path: got %q, want %q", got, want)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Mode().Perm(), os.FileMode(0o750); runtime.GOOS != "windows" && got != want {
		t.Errorf("directory mode: got %v, want %v", got, want)
	}
}

func TestCaptureLines(t *testing.T) {
	long := strings.Repeat("x", MaxLine)
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"one line", "hello\n", []string{"hello"}},
		{"partial last line", "a\nb", []string{"a", "b"}},
		{"only a partial line", "no newline", []string{"no newline"}},
		{"empty lines", "\n\na\n\n", []string{"", "", "a", ""}},
		{"carriage return kept", "a\r\nb\r\n", []string{"a\r", "b\r"}},
		{"spaces kept", "  two  spaces \n", []string{"  two  spaces "}},
		{"exactly MaxLine", long + "\n", []string{long}},
		{"split past MaxLine", long + "yz\n", []string{long, "yz"}},
		{"split twice, partial", long + long + "z", []string{long, long, "z"}},
		{"invalid utf-8", "\xff\xfe\n", []string{"\xff\xfe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := open(t, Options{Ring: 100})
			if err := l.Capture(strings.NewReader(tc.in), Stdout); err != nil {
				t.Fatalf("Capture: %v", err)
			}
			if got := fileTexts(t, l.Path()); !equal(got, tc.want) {
				t.Errorf("file: got %q, want %q", short(got), short(tc.want))
			}
			if got := texts(l.Tail(100)); !equal(got, tc.want) {
				t.Errorf("Tail: got %q, want %q", short(got), short(tc.want))
			}
		})
	}
}

func TestFileFormat(t *testing.T) {
	l := open(t, Options{Ring: 10})
	if err := l.Capture(strings.NewReader("out 1\nout 2"), Stdout); err != nil {
		t.Fatal(err)
	}
	if err := l.Capture(strings.NewReader("err\n"), Stderr); err != nil {
		t.Fatal(err)
	}
	want := "2024-05-01T12:00:00.123Z stdout out 1\n" +
		"2024-05-01T12:00:00.123Z stdout out 2\n" +
		"2024-05-01T12:00:00.123Z stderr err\n"
	if got := readFile(t, l.Path()); got != want {
		t.Errorf("file:\ngot  %q\nwant %q", got, want)
	}
	tail := l.Tail(3)
	wantT := time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC)
	for i, ln := range tail {
		if !ln.Time.Equal(wantT) || ln.Time.Location() != time.UTC {
			t.Errorf("Tail[%d].Time: got %v, want %v", i, ln.Time, wantT)
		}
	}
	if got := tail[2].Stream; got != Stderr {
		t.Errorf("Tail[2].Stream: got %q, want %q", got, Stderr)
	}
}

func TestCaptureRejectsUnknownStream(t *testing.T) {
	l := open(t, Options{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := l.Capture(r, "stdin"); err == nil {
		t.Fatal("Capture(stdin): got no error")
	}
	if err := r.Close(); err == nil {
		t.Error("Capture did not close the file it was given")
	}
}

// errReader returns its data, then err.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestCaptureReadError(t *testing.T) {
	l := open(t, Options{Ring: 10})
	boom := errors.New("boom")
	err := l.Capture(&errReader{data: []byte("a\npartial"), err: boom}, Stdout)
	if !errors.Is(err, boom) {
		t.Fatalf("Capture: got %v, want %v", err, boom)
	}
	if got, want := fileTexts(t, l.Path()), []string{"a", "partial"}; !equal(got, want) {
		t.Errorf("file: got %q, want %q", got, want)
	}
}

// chunkReader returns s n bytes at a time.
type chunkReader struct {
	s string
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.s)
	r.s = r.s[n:]
	return n, nil
}

func TestClose(t *testing.T) {
	l := open(t, Options{Ring: 10})
	lines, unsubscribe := l.Subscribe()
	l.Capture(strings.NewReader("a\n"), Stdout)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	<-lines
	if _, ok := <-lines; ok {
		t.Error("subscription open after Close")
	}
	unsubscribe()
	late, _ := l.Subscribe()
	if _, ok := <-late; ok {
		t.Error("Subscribe after Close: channel open")
	}
	if err := l.Capture(strings.NewReader("b\n"), Stdout); !errors.Is(err, errClosed) {
		t.Errorf("Capture after Close: got %v, want %v", err, errClosed)
	}
	if got, want := texts(l.Tail(10)), []string{"a"}; !equal(got, want) {
		t.Errorf("Tail after Close: got %q, want %q", got, want)
	}
}

func TestBusyStreamWritesAlignedBlocks(t *testing.T) {
	l := open(t, Options{Ring: 10})
	line := strings.Repeat("x", 99) + "\n"
	batch := []byte(strings.Repeat(line, 1000)) // 132,000 bytes formatted
	if err := l.write(Stdout, batch); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Size(), int64(132000/flushAlign*flushAlign); got != want {
		t.Errorf("file size while busy: got %d, want %d", got, want)
	}
	if err := l.flush(); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(l.Path()); st.Size() != 132000 {
		t.Errorf("file size when quiet: got %d, want %d", st.Size(), 132000)
	}
}

func TestWriteErrorKeepsCapturing(t *testing.T) {
	l := open(t, Options{Ring: 10})
	l.mu.Lock()
	l.f.Close() // writes fail from now on
	l.mu.Unlock()
	err := l.Capture(strings.NewReader("a\nb\n"), Stdout)
	if err == nil {
		t.Fatal("Capture: got no error")
	}
	if got, want := texts(l.Tail(10)), []string{"a", "b"}; !equal(got, want) {
		t.Errorf("Tail: got %q, want %q", got, want)
	}
	// A file that could not be reopened is retried on the next write.
	l.mu.Lock()
	l.f = nil
	l.mu.Unlock()
	if err := l.Capture(strings.NewReader("c\n"), Stdout); err != nil {
		t.Fatalf("Capture after reopen: %v", err)
	}
	marker := "[steward] 2 lines (68 bytes) of output since 2024-05-01T12:00:00.123Z were not written to this file: write " + l.Path() + ": file already closed"
	if got, want := fileTexts(t, l.Path()), []string{marker, "c"}; !equal(got, want) {
		t.Errorf("file: got %q, want %q", got, want)
	}
	l.mu.Lock()
	l.f.Close()
	l.mu.Unlock()
	if err := l.Close(); err == nil {
		t.Error("Close of a closed file: got no error")
	}
}

// child runs script with sh, its stdout and stderr on pipes made by pipe,
// captured into l; it returns once both captures have returned.
func child(t *testing.T, l *Log, pipe func() (r, w *os.File, err error), script string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	outR, outW, err := pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdout, cmd.Stderr = outW, errW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	errs := make(chan error, 2)
	go func() { errs <- l.Capture(outR, Stdout) }()
	go func() { errs <- l.Capture(errR, Stderr) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestCaptureRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l := open(t, Options{Ring: 10})
	if err := l.Capture(f, Stdout); err != nil {
		t.Fatal(err)
	}
	if got, want := texts(l.Tail(10)), []string{"a", "b"}; !equal(got, want) {
		t.Errorf("Tail: got %q, want %q", got, want)
	}
	if err := f.Close(); err == nil {
		t.Error("Capture did not close the file it was given")
	}
}

func TestReaderSource(t *testing.T) {
	s := readerSource{strings.NewReader("")}
	if err := s.wait(false); err != nil {
		t.Errorf("wait: %v", err)
	}
	if got := s.grow(); got != 0 {
		t.Errorf("grow: got %d, want 0", got)
	}
	if err := s.close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Line
		ok   bool
	}{
		{"2024-05-01T12:00:00.123Z stdout hi there\n", Line{Time: time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC), Stream: Stdout, Text: "hi there"}, true},
		{"2024-05-01T12:00:00.123Z stderr ", Line{Time: time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC), Stream: Stderr}, true},
		{"2024-05-01T12:00:00.123Z stderr", Line{Time: time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC), Stream: Stderr}, true},
		{"2024-05-01T14:00:00.123+02:00 stdout x", Line{Time: time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC), Stream: Stdout, Text: "x"}, true},
		{"", Line{}, false},
		{"garbage", Line{}, false},
		{"2024-05-01 stdout x", Line{}, false},
		{"2024-05-01T12:00:00.123Z stdin x", Line{}, false},
		{"2024-05-01T12:00:00.123Z stdout two\nlines", Line{}, false},
	} {
		got, err := ParseLine(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseLine(%q): got %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseLine checks that ParseLine never panics and that what it parses
// formats back to an equivalent line.
func FuzzParseLine(f *testing.F) {
	f.Add("2024-05-01T12:00:00.123Z stdout hello\n") // a line as written
	f.Add("2024-05-01T12:00:00.123Z stderr ")        // an empty line
	f.Add("2024-05-01T12:00:00.123+02:00 stdout x")  // another zone
	f.Add("not a line")                              // garbage
	f.Fuzz(func(t *testing.T, s string) {
		ln, err := ParseLine(s)
		if err != nil {
			return
		}
		again := ln.Time.Format(TimeFormat) + " " + ln.Stream + " " + ln.Text
		ln2, err := ParseLine(again)
		if err != nil || !ln2.Time.Equal(ln.Time) || ln2.Stream != ln.Stream || ln2.Text != ln.Text {
			t.Errorf("ParseLine(%q) = %+v; formatted again %q gives %+v, %v", s, ln, again, ln2, err)
		}
	})
}

func TestPacer(t *testing.T) {
	start := time.Unix(0, 0)
	for _, tc := range []struct {
		name     string
		capacity int
		got      int
		dt       time.Duration
		want     time.Duration
	}{
		{"not a pipe", 0, 100, time.Second, 0},
		{"idle before: the longest pause", 1 << 20, 62, time.Hour, maxPause},
		{"slow writer", 1 << 20, 1000, 2 * time.Millisecond, maxPause},
		{"half full in 1.5 ms", 1 << 20, 512 << 10, 1500 * time.Microsecond, 0},
		{"rate fills half in 1.5 ms", 1 << 20, 256 << 10, 750 * time.Microsecond, 1500 * time.Microsecond},
		{"too fast to pause", 64 << 10, 16 << 10, 100 * time.Microsecond, 0},
		{"nothing read", 64 << 10, 0, time.Millisecond, maxPause},
	} {
		p := pacer{capacity: tc.capacity, last: start, winStart: start}
		if got := p.pause(tc.got, start.Add(tc.dt)); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPacerFast(t *testing.T) {
	start := time.Unix(0, 0)
	for _, tc := range []struct {
		name  string
		reads []int // bytes read, 1 ms apart
		want  bool
	}{
		{"too early to tell", []int{1 << 20, 1 << 20}, false},
		{"large writes", []int{600 << 10, 600 << 10, 600 << 10, 600 << 10, 600 << 10}, true},
		{"small writes", []int{400 << 10, 400 << 10, 400 << 10, 400 << 10, 400 << 10}, false},
	} {
		p := pacer{capacity: 1 << 20, last: start, winStart: start}
		for i, n := range tc.reads {
			p.pause(n, start.Add(time.Duration(i+1)*time.Millisecond))
		}
		if p.fast != tc.want {
			t.Errorf("%s: fast %v, want %v", tc.name, p.fast, tc.want)
		}
	}
}
