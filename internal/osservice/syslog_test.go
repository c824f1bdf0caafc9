package osservice

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sinkRecorder records what a lineWriter passes on.
type sinkRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *sinkRecorder) sink(level slog.Level, line string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, level.String()+" "+line)
	return nil
}

func TestLineWriterPassesWarningsAndErrors(t *testing.T) {
	var r sinkRecorder
	w := &lineWriter{sink: atLeast(slog.LevelWarn, r.sink)}
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	logger.Debug("debug")
	logger.Info("info", "k", "level=ERROR in a value")
	logger.Warn("careful", "service", "web")
	logger.Error("broken", "err", "boom")
	logger.Log(context.Background(), slog.LevelWarn+2, "warn plus two")
	fmt.Fprintln(w, "/etc/steward/steward.yaml:3:7: unknown field \"comand\"")
	fmt.Fprint(w, "\n\r\n")

	want := []string{
		`WARN msg=careful service=web`,
		`ERROR msg=broken err=boom`,
		`WARN+2 msg="warn plus two"`,
		`ERROR /etc/steward/steward.yaml:3:7: unknown field "comand"`,
	}
	if len(r.lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(r.lines), len(want), strings.Join(r.lines, "\n"))
	}
	for i, line := range r.lines {
		if !strings.HasPrefix(line, strings.Fields(want[i])[0]+" ") || !strings.HasSuffix(line, strings.SplitN(want[i], " ", 2)[1]) {
			t.Errorf("line %d: got %q, want %q", i, line, want[i])
		}
	}
}

func TestLineWriterJoinsPartialWrites(t *testing.T) {
	var r sinkRecorder
	w := &lineWriter{sink: atLeast(slog.LevelWarn, r.sink)}
	for _, part := range []string{"level=WA", "RN msg=split", "\r\nlevel=INFO msg=x\nlevel=ERR", "OR msg=y\n"} {
		if n, err := w.Write([]byte(part)); n != len(part) || err != nil {
			t.Fatalf("Write(%q): %d, %v", part, n, err)
		}
	}
	got := strings.Join(r.lines, "|")
	if want := "WARN level=WARN msg=split|ERROR level=ERROR msg=y"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestJournalSink(t *testing.T) {
	var b strings.Builder
	w := &lineWriter{sink: journalSink(&b)}
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
	logger.Debug("d")
	logger.Info("i")
	logger.Warn("w")
	logger.Error("e")
	fmt.Fprintln(w, "config.yaml:1:1: bad")
	want := "<7>level=DEBUG msg=d\n<6>level=INFO msg=i\n<4>level=WARN msg=w\n<3>level=ERROR msg=e\n<3>config.yaml:1:1: bad\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestLineLevel(t *testing.T) {
	for _, tt := range []struct {
		line string
		want slog.Level
	}{
		{`time=2025-01-01T00:00:00Z level=INFO msg=hi`, slog.LevelInfo},
		{`level=DEBUG msg=hi`, slog.LevelDebug},
		{`time=x level=WARN`, slog.LevelWarn},
		{`time=x level=ERROR+4 msg=worse`, slog.LevelError + 4},
		{`time=x level=LOUD msg=?`, slog.LevelError},
		{`no level at all`, slog.LevelError},
	} {
		if got := lineLevel(tt.line); got != tt.want {
			t.Errorf("lineLevel(%q): got %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestLogFileRotates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "steward.log")
	if err := os.WriteFile(path, []byte("0123456789\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	l, err := openLogFile(path, 32)
	if err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		t.Helper()
		if n, err := l.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q): %d, %v", s, n, err)
		}
	}
	write("abcdefghij\n")                 // 22 bytes: fits
	write("klmnopqrst\n")                 // 33: rotates first
	write("a line longer than the max\n") // 11+27 > 32: rotates again
	write("x\n")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := l.Write([]byte("late\n")); err == nil {
		t.Error("Write after Close succeeded")
	}
	for file, want := range map[string]string{
		path:        "a line longer than the max\nx\n",
		path + ".1": "klmnopqrst\n",
	} {
		got, err := os.ReadFile(file)
		if err != nil || string(got) != want {
			t.Errorf("%s: got %q, %v; want %q", filepath.Base(file), got, err, want)
		}
	}
}

func TestLogFileOpenFails(t *testing.T) {
	if _, err := openLogFile(filepath.Join(t.TempDir(), "missing", "steward.log"), 10); err == nil {
		t.Error("opened a log file in a directory that does not exist")
	}
}

func TestHost(t *testing.T) {
	var sb strings.Builder
	n := 0
	h := &Host{log: &sb, ready: func() { n++ }}
	if h.Log() != &sb {
		t.Error("Log is not the log")
	}
	w, err := h.OpenLog(t.TempDir())
	if err != nil || w != &sb {
		t.Errorf("OpenLog without a log file: %v, %v", w, err)
	}
	h.Ready()
	h.Ready()
	if n != 1 {
		t.Errorf("ready called %d times, want once", n)
	}
	(&Host{}).Ready() // no ready function: nothing happens
}
