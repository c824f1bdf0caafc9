package testfs

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestTmpfsFillsUp: the file system is as small as asked, so a write past
// its size fails with ENOSPC.
func TestTmpfsFillsUp(t *testing.T) {
	dir := Tmpfs(t, "64k")
	err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, 1<<20), 0o600)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("write 1 MiB to a 64k tmpfs: got %v, want ENOSPC", err)
	}
}
