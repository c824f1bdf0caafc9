package metrics

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

// startSleep starts sleep with extra more open files than stdin, stdout
// and stderr, and returns its pid once it has exec'ed.
func startSleep(t *testing.T, extra int) int {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	for range extra {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Until sleep has exec'ed, the fork holds the descriptors of this test.
	pid := cmd.Process.Pid
	testwait.For(t, 10*time.Second, "sleep to have exec'ed", func() bool {
		exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		return exe != "" && exe != self
	})
	return pid
}

// TestOpenFilesCountsEntries counts the files of two processes that differ
// by five open files: the counts must differ by five, in openFiles and in
// the trees' usage. (A process also inherits what this test inherited
// without close-on-exec, so the difference is what the test controls; and
// sleep opens and closes files as it starts, so the counts are read until
// they settle.)
func TestOpenFilesCountsEntries(t *testing.T) {
	const extra = 5
	base, more := startSleep(t, 0), startSleep(t, extra)
	testwait.NoError(t, 10*time.Second, func() error {
		if got := openFiles(more) - openFiles(base); got != extra {
			return fmt.Errorf("openFiles: got %d more, want %d", got, extra)
		}
		return nil
	})
	if got := openFiles(base); got < 3 {
		t.Errorf("openFiles of a process with stdin, stdout and stderr: got %d", got)
	}
	var ts TreeSampler
	testwait.NoError(t, 10*time.Second, func() error {
		ts.files = nil // count again
		u, err := ts.Sample(map[string]int{"base": base, "more": more})
		if err != nil {
			return err
		}
		if got := u["more"].OpenFiles - u["base"].OpenFiles; got != extra || u["base"].Procs != 1 || u["more"].Procs != 1 {
			return fmt.Errorf("usage: got %+v and %+v, want one process each, %d more open files in the second", u["base"], u["more"], extra)
		}
		return nil
	})
}
