package check

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether pid names a process that has not exited: one with
// a /proc entry whose state is not Z (zombie) or X (dead).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	state := strings.Fields(string(b[i+1:]))[0]
	return state != "Z" && state != "X"
}

// TestExecLeavesNoOrphan runs exec checks that leave a backgrounded
// grandchild, one exiting at once and one overrunning its timeout: once
// the check's result is in, no process of theirs is alive.
func TestExecLeavesNoOrphan(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		want    Status
		msg     string
	}{
		{"exits", `sleep 60 & echo $! > "$PF"; echo "DISK CRITICAL - full"; exit 2`, 5 * time.Second, Critical, "DISK CRITICAL - full"},
		{"overruns", `sleep 60 & echo $! > "$PF"; echo $$ >> "$PF"; sleep 60`, time.Second, Critical, "timed out after 1s: killed: context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf := filepath.Join(dir, tt.name)
			p := &Exec{Command: []string{"sh", "-c", tt.script}, Env: append(os.Environ(), "PF="+pf), Tag: "checktest." + tt.name}
			r := Run(ctx, p, tt.timeout, nil)
			if r.Status != tt.want || r.Message != tt.msg {
				t.Errorf("result: got %s %q, want %s %q", r.Status, r.Message, tt.want, tt.msg)
			}
			b, err := os.ReadFile(pf)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range strings.Fields(string(b)) {
				pid, err := strconv.Atoi(f)
				if err != nil {
					t.Fatal(err)
				}
				if alive(pid) {
					t.Errorf("process %d: alive after the check, want it killed", pid)
					syscall.Kill(pid, syscall.SIGKILL) // do not leave it to the next tests
				}
			}
		})
	}
}
