package testwait

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB that keeps what would fail the test.
type recorder struct {
	testing.TB
	failed   []string
	cleanups []func()
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func TestFor(t *testing.T) {
	var n atomic.Int32
	r := &recorder{}
	For(r, time.Second, "three calls", func() bool { return n.Add(1) == 3 })
	if len(r.failed) > 0 || n.Load() != 3 {
		t.Errorf("a condition that came true: %d calls, failures %q", n.Load(), r.failed)
	}
	For(r, 20*time.Millisecond, "never", func() bool { return false })
	if len(r.failed) != 1 || r.failed[0] != "after 20ms: never" {
		t.Errorf("a condition that never came true: failures %q", r.failed)
	}
}

func TestNoError(t *testing.T) {
	r := &recorder{}
	var n int
	NoError(r, time.Second, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if len(r.failed) > 0 || n != 3 {
		t.Errorf("an error that went away: %d calls, failures %q", n, r.failed)
	}
	NoError(r, 20*time.Millisecond, func() error { return errors.New("still broken") })
	if len(r.failed) != 1 || r.failed[0] != "after 20ms: still broken" {
		t.Errorf("an error that stayed: failures %q", r.failed)
	}
}

func TestNoLeak(t *testing.T) {
	r := &recorder{}
	NoLeak(r)
	done := make(chan struct{})
	go func() { <-done }()
	go func() { time.Sleep(10 * time.Millisecond); close(done) }()
	r.cleanups[0]()
	if len(r.failed) > 0 {
		t.Errorf("goroutines that ended: failures %q", r.failed)
	}

	if testing.Short() {
		t.Skip("a leak takes leakWait to be reported")
	}
	r = &recorder{}
	NoLeak(r)
	stop := make(chan struct{})
	go func() { <-stop }()
	r.cleanups[0]()
	close(stop)
	if len(r.failed) != 1 || !strings.Contains(r.failed[0], "goroutines before") {
		t.Errorf("a leaked goroutine: failures %q", r.failed)
	}
}
