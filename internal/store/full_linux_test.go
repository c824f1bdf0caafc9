package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testfs"
)

// TestIsFull: a write to a store whose file system is full fails with an
// error IsFull recognizes, and IsBusy does not; once there is space, the
// same write succeeds.
func TestIsFull(t *testing.T) {
	dir := testfs.Tmpfs(t, "1m")
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = f.Write(make([]byte, 4096))
	}
	f.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	evs := make([]steward.Event, 200)
	for i := range evs {
		evs[i] = steward.Event{Type: steward.EventLog, Reason: strings.Repeat("x", 1000)}
	}
	err = s.AppendEvents(ctx, evs)
	if !IsFull(err) || IsBusy(err) {
		t.Fatalf("append to a full disk: IsFull(%v) = %v, IsBusy = %v, want true, false", err, IsFull(err), IsBusy(err))
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvents(ctx, evs); err != nil {
		t.Errorf("append once there is space: %v", err)
	}
}
