// Package testwait holds the waits that tests share: for a condition that
// another goroutine or process brings about, and for the goroutines a test
// started to end. Only tests import it.
package testwait

import (
	"runtime"
	"testing"
	"time"
)

// pollEvery is how often a condition is checked again.
const pollEvery = 5 * time.Millisecond

// For checks cond until it holds, and fails t, naming what it waited for,
// when d passes first.
func For(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
			return
		}
		time.Sleep(pollEvery)
	}
}

// NoError calls f until it returns nil, and fails t with f's last error
// when d passes first.
func NoError(t testing.TB, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
			return
		}
		time.Sleep(pollEvery)
	}
}

// leakWait is how long NoLeak lets goroutines take to end.
const leakWait = 5 * time.Second

// NoLeak fails t when goroutines started during it are still running
// leakWait after it ends. Call it first in the test.
func NoLeak(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(leakWait)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
