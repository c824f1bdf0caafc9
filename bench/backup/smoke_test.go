//go:build linux

package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stewardhq/steward/internal/backup"
)

// TestSmoke archives a small generated tree as the benchmark does and
// verifies the archive; it measures nothing.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	bytes, files, err := Tree(filepath.Join(dir, "src"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	in, err := Archive(context.Background(), filepath.Join(dir, "src"), filepath.Join(dir, "out"), "bench-1")
	if err != nil {
		t.Fatal(err)
	}
	if in.Files != files || in.Bytes != bytes {
		t.Errorf("archived %d files, %d bytes; want %d, %d", in.Files, in.Bytes, files, bytes)
	}
	c, err := backup.Verify(context.Background(), in, nil)
	if err != nil || !c.OK || c.Files != files {
		t.Errorf("Verify = %+v, %v", c, err)
	}
}
