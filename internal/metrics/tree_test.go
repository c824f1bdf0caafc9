package metrics

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

// startTree starts a process tree: sh running script. It and its children
// are killed when the test ends.
func startTree(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	cmd := exec.Command("sh", "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("pkill", "-KILL", "-P", strconv.Itoa(cmd.Process.Pid)).Run()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// TestTreeSampler samples a real process tree: a shell with two sleeping
// children, one of which burns CPU.
func TestTreeSampler(t *testing.T) {
	cmd := startTree(t, "sleep 30 & (while :; do :; done) & wait")
	var ts TreeSampler
	roots := map[string]int{"burn": cmd.Process.Pid, "gone": 1 << 30}
	var u map[string]Usage
	testwait.For(t, 10*time.Second, "3 processes burning CPU", func() bool {
		var err error
		if u, err = ts.Sample(roots); err != nil {
			t.Fatal(err)
		}
		return u["burn"].Procs == 3 && u["burn"].CPUPercent > 10
	})
	b := u["burn"]
	if b.RSS == 0 || b.Threads < 3 || b.OpenFiles < 3 {
		t.Errorf("usage = %+v", b)
	}
	if _, ok := u["gone"]; ok {
		t.Error("a root that does not run has usage")
	}
	if u, _ := ts.Sample(nil); len(u) != 0 {
		t.Error("no roots gave usage")
	}
}

// TestTreeSamplerNewChild has a child born into a tree between full scans:
// the samples that skip the processes outside the trees still find it.
func TestTreeSamplerNewChild(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "go")
	born := flag + ".born"
	cmd := startTree(t, "while [ ! -e "+flag+" ]; do sleep 0.01; done; sleep 30 & echo $! > "+born+"; wait")
	var ts TreeSampler
	roots := map[string]int{"a": cmd.Process.Pid}
	u, err := ts.Sample(roots) // the full scan
	if err != nil {
		t.Fatal(err)
	}
	if u["a"].Procs < 1 || !ts.outside[os.Getpid()] || ts.outside[cmd.Process.Pid] {
		t.Fatalf("after a full scan: usage %+v; this test outside: %v, the root outside: %v",
			u["a"], ts.outside[os.Getpid()], ts.outside[cmd.Process.Pid])
	}
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "the child to be born", func() bool {
		b, _ := os.ReadFile(born)
		return len(strings.TrimSpace(string(b))) > 0
	})
	if u, err = ts.Sample(roots); err != nil { // a partial scan
		t.Fatal(err)
	}
	if u["a"].Procs != 2 {
		t.Fatalf("usage %+v after a partial scan, want the new child counted", u["a"])
	}
}
