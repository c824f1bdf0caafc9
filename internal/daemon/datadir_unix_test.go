//go:build unix

package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
)

func TestSecondDaemonOnDataDir(t *testing.T) {
	dir := t.TempDir()
	first, err := New(t.Context(), testConfig(t, dir, "services: {}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(t.Context(), testConfig(t, dir, "api: {socket: other.sock}\nservices: {}\n"), Options{})
	want := fmt.Sprintf("steward is already running on %s (pid %d)", dir, os.Getpid())
	if steward.ErrorCode(err) != steward.ECONFLICT || err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("second New on the data dir: %v; want a conflict saying %q", err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := New(t.Context(), testConfig(t, dir, "services: {}\n"), Options{})
	if err != nil {
		t.Fatalf("New after Close: %v", err)
	}
	again.Close()
}

func TestProcessAlive(t *testing.T) {
	if !processAlive(os.Getpid()) {
		t.Error("processAlive(own pid) = false")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if processAlive(cmd.Process.Pid) {
		t.Errorf("processAlive(%d), a reaped child, = true", cmd.Process.Pid)
	}
}
