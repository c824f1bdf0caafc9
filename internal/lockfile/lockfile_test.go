package lockfile

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.lock")
	first, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q (%v), want this process's pid %d", data, err, os.Getpid())
	}

	// A second Lock, through another open of the file, is refused and names
	// the holder.
	second, err := Lock(path)
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second Lock: %v, %v; want a *HeldError", second, err)
	}
	if got, want := held.PID, os.Getpid(); got != want {
		t.Errorf("HeldError.PID = %d, want %d", got, want)
	}
	if held.Path != path {
		t.Errorf("HeldError.Path = %q, want %q", held.Path, path)
	}

	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	third, err := Lock(path)
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	if err := third.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestLockMissingDir(t *testing.T) {
	if _, err := Lock(filepath.Join(t.TempDir(), "missing", "steward.lock")); err == nil {
		t.Error("Lock in a missing directory: no error")
	}
}
