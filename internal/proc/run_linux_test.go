package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

// alive reports whether pid names a process that has not exited.
func alive(pid int) bool {
	pi, err := readStat(pid)
	return err == nil && !pi.zombie
}

// pidsIn reads the pids in a file, one a line.
func pidsIn(t *testing.T, path string) []int {
	t.Helper()
	var pids []int
	for _, f := range strings.Fields(readFileWhenThere(t, path)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// noneAlive fails t for each of pids still alive, then waits for them to be
// reaped: Run leaves no zombie either.
func noneAlive(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d: alive after Run returned, want it killed", pid)
		}
	}
	for _, pid := range pids {
		testwait.For(t, 10*time.Second, fmt.Sprintf("process %d to be reaped", pid), func() bool {
			_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
			return err != nil
		})
	}
}

func TestRunKillsWhatTheMainProcessLeaves(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		pf   string
		want int
	}{
		{"backgrounded shell child", []string{"sh", "-c", "sleep 60 & echo $! > " + filepath.Join(dir, "sh") + "; exit 1"}, filepath.Join(dir, "sh"), 1},
		{"group child and setsid orphan", []string{testprog, "-spawn", "1", "-orphan", "1", "-pidfile", filepath.Join(dir, "tp"), "-exit", "1"}, filepath.Join(dir, "tp"), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), Command{Path: tt.args[0], Args: tt.args, Tag: uniqueTag(t)})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.ExitCode != 1 {
				t.Errorf("exit code: got %d, want 1", res.ExitCode)
			}
			pids := pidsIn(t, tt.pf)
			if len(pids) != tt.want {
				t.Fatalf("pidfile: got %d pids, want %d", len(pids), tt.want)
			}
			noneAlive(t, pids)
		})
	}
}

func TestRunTimeoutKillsTree(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "pids")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Command{
		Path: testprog, Args: []string{testprog, "-spawn", "1", "-orphan", "1", "-pidfile", pf, "-write-pid", pf + ".main"},
		MaxOutput: 100, Tag: uniqueTag(t),
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v past a 1s timeout", d)
	}
	if res.State == nil || res.ExitCode != -1 {
		t.Errorf("result: got state %v, code %d, want a killed process, -1", res.State, res.ExitCode)
	}
	pids := append(pidsIn(t, pf), pidsIn(t, pf+".main")...)
	if len(pids) != 3 {
		t.Fatalf("pidfiles: got %d pids, want 3", len(pids))
	}
	noneAlive(t, pids)
}

func TestRunTagAndStdin(t *testing.T) {
	tag := uniqueTag(t)
	res, err := Run(context.Background(), Command{
		Path: "sh", Args: []string{"sh", "-c", `echo "$STEWARD_TAG"; cat`},
		Stdin: strings.NewReader("from stdin\n"), MaxOutput: 1 << 10, Tag: tag,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(res.Output), "\n"), "\n")
	if len(got) != 2 || !strings.HasPrefix(got[0], tag+".") || got[1] != "from stdin" {
		t.Errorf("output: got %q, want the tag %s.<unique> and the input", res.Output, tag)
	}
	res, err = Run(context.Background(), Command{Path: "sh", Args: []string{"sh", "-c", `echo "$STEWARD_TAG"`}, MaxOutput: 100})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := fmt.Sprintf("oneshot.%d.", os.Getpid()); !strings.HasPrefix(string(res.Output), want) {
		t.Errorf("default tag: got %q, want %s<unique>", res.Output, want)
	}
}

// TestRunStdinNotRead gives more input than a pipe holds to a command that
// never reads it: Run must not wait for the copy.
func TestRunStdinNotRead(t *testing.T) {
	res, err := Run(context.Background(), Command{
		Path: testprog, Args: []string{testprog, "-exit", "4"},
		Stdin: bytes.NewReader(make([]byte, 1<<20)), Tag: uniqueTag(t),
	})
	if err != nil || res.ExitCode != 4 {
		t.Errorf("Run: got %d, %v, want 4, nil", res.ExitCode, err)
	}
}
