package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRunExitCodeAndOutput(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		stdoutOnly bool
		wantCode   int
		want       []string // lines Output must hold
		notWant    string
	}{
		{"both streams", []string{"-print", "2", "-stderr", "hello", "-exit", "3"}, false, 3, []string{"line 1 ", "line 2 ", "hello"}, ""},
		{"stdout only", []string{"-print", "1", "-stderr", "hello", "-exit", "0"}, true, 0, []string{"line 1 "}, "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), Command{
				Path: testprog, Args: append([]string{testprog}, tt.args...),
				MaxOutput: 1 << 10, StdoutOnly: tt.stdoutOnly, Tag: uniqueTag(t),
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.ExitCode != tt.wantCode || res.State == nil || res.State.ExitCode() != tt.wantCode {
				t.Errorf("exit code: got %d (state %v), want %d", res.ExitCode, res.State, tt.wantCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(res.Output), w) {
					t.Errorf("output: got %q, want it to hold %q", res.Output, w)
				}
			}
			if tt.notWant != "" && strings.Contains(string(res.Output), tt.notWant) {
				t.Errorf("output: got %q, want no %q", res.Output, tt.notWant)
			}
			if res.Truncated {
				t.Error("Truncated: got true, want false")
			}
			if err, want := res.Failed(), fmt.Sprintf("exit status %d", tt.wantCode); (tt.wantCode == 0) != (err == nil) || err != nil && err.Error() != want {
				t.Errorf("Failed: got %v, want %q (nil for 0)", err, want)
			}
		})
	}
}

// TestRunBoundsOutputWhileReading runs a command that writes 10 MB: Run
// must keep MaxOutput bytes, drain the rest without holding it, and return.
func TestRunBoundsOutputWhileReading(t *testing.T) {
	const limit = 4 << 10
	lines := (10 << 20) / lineSize
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Run(ctx, Command{
		Path: testprog, Args: []string{testprog, "-print", strconv.Itoa(lines), "-exit", "0"},
		MaxOutput: limit, Tag: uniqueTag(t),
	})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res.Output) != limit || !res.Truncated {
		t.Errorf("output: got %d bytes, truncated %v, want %d, true", len(res.Output), res.Truncated, limit)
	}
	if !bytes.HasPrefix(res.Output, []byte("line 1 x")) {
		t.Errorf("output: got %.20q…, want the first bytes written", res.Output)
	}
	// Reading through a bounded buffer allocates a copy buffer, not the
	// output: 10 MB buffered would show here.
	if got := after.TotalAlloc - before.TotalAlloc; got > 2<<20 {
		t.Errorf("Run allocated %d bytes for 10 MB of output, want less than 2 MB", got)
	}
	if res.ExitCode != 0 {
		t.Errorf("exit code: got %d, want 0", res.ExitCode)
	}
}

// lineSize is the length of each line testprog -print writes.
const lineSize = 62

func TestRunNotStarted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Command{Path: testprog}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a done context: got %v, want context.Canceled", err)
	}
	res, err := Run(context.Background(), Command{Path: testprog + ".missing", MaxOutput: 10})
	if err == nil || !strings.HasPrefix(err.Error(), "start ") {
		t.Errorf("Run of a missing program: got %v, want an error naming the operation", err)
	}
	if res.State != nil || res.ExitCode != -1 {
		t.Errorf("Run of a missing program: got state %v, code %d, want nil, -1", res.State, res.ExitCode)
	}
	if err := res.Failed(); err == nil {
		t.Error("Failed of a program that did not start: got nil")
	}
}

func TestBoundedBuffer(t *testing.T) {
	w := &boundedBuffer{max: 5}
	for _, s := range []string{"abc", "def", "gh"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q): got %d, %v, want %d, nil", s, n, err, len(s))
		}
	}
	if string(w.b) != "abcde" || !w.truncated {
		t.Errorf("got %q, truncated %v, want %q, true", w.b, w.truncated, "abcde")
	}
	exact := &boundedBuffer{max: 3}
	exact.Write([]byte("abc"))
	if exact.truncated {
		t.Error("a write that fills the buffer exactly: got truncated")
	}
	for _, tt := range []struct {
		writes    []string
		want      string
		truncated bool
	}{
		{[]string{"abc", "def", "gh"}, "defgh", true},
		{[]string{"ab", "cde"}, "abcde", false},
		{[]string{"a", "0123456789"}, "56789", true},
		{[]string{"abcdef", "g"}, "cdefg", true},
		{[]string{"a", "bcdef"}, "bcdef", true},
		{[]string{"abcde"}, "abcde", false},
	} {
		tail := &boundedBuffer{max: 5, last: true}
		for _, s := range tt.writes {
			if n, err := tail.Write([]byte(s)); n != len(s) || err != nil {
				t.Fatalf("Write(%q): got %d, %v", s, n, err)
			}
		}
		if string(tail.b) != tt.want || tail.truncated != tt.truncated {
			t.Errorf("last 5 of %q: got %q, truncated %v; want %q, %v", tt.writes, tail.b, tail.truncated, tt.want, tt.truncated)
		}
	}
}
