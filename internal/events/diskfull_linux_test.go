package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testfs"
	"github.com/stewardhq/steward/internal/testwait"
)

// lockedBuffer is a bytes.Buffer safe for the journal's logger and the
// test to use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// fill writes to a file in dir until the file system is full, and returns
// the file.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

// TestFullDiskKeepsEvents: with the store's file system full, recorded
// events wait in memory, bounded, and are all stored, in order, once there
// is space again; none is given up.
func TestFullDiskKeepsEvents(t *testing.T) {
	dir := testfs.Tmpfs(t, "2m")
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	logs := &lockedBuffer{}
	r := NewRecorder(s, WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	r.j.retryMax = 20 * time.Millisecond
	defer func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := r.Close(cctx); err != nil {
			t.Error(err)
		}
	}()
	filler := fill(t, dir)

	const n = 300
	reason := strings.Repeat("x", 1000)
	for i := range n {
		if _, err := r.Record(ctx, steward.Event{Type: steward.EventLog, Service: fmt.Sprintf("s%d", i), Reason: reason}); err != nil {
			t.Fatalf("Record %d: %v", i, err)
		}
	}
	testwait.For(t, 10*time.Second, "the journal to meet the full disk", func() bool {
		return strings.Contains(logs.String(), "events wait in memory") || strings.Contains(logs.String(), "events not stored")
	})
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.Flush(fctx); err != nil {
		t.Fatalf("Flush once there is space: %v", err)
	}
	evs, err := s.Events(ctx, store.EventFilter{Limit: 2 * n})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != n {
		t.Fatalf("%d events stored, want %d; the journal said:\n%s", len(evs), n, logs)
	}
	for i, ev := range evs {
		if want := fmt.Sprintf("s%d", i); ev.Service != want {
			t.Fatalf("event %d is of %s, want %s: out of order", i, ev.Service, want)
		}
	}
}
