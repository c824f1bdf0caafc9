package backoff

import (
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	const ms = time.Millisecond
	none := func(time.Duration) time.Duration { return 0 }
	most := func(n time.Duration) time.Duration { return n - 1 }
	tests := []struct {
		name     string
		p        Policy
		failures int
		random   func(time.Duration) time.Duration
		want     time.Duration
	}{
		{"first, no jitter", Policy{100 * ms, time.Second}, 1, none, 100 * ms},
		{"first, most jitter", Policy{100 * ms, time.Second}, 1, most, 125 * ms},
		{"doubled", Policy{100 * ms, time.Second}, 3, none, 400 * ms},
		{"doubled, most jitter", Policy{100 * ms, time.Second}, 3, most, 500 * ms},
		{"jitter capped at max", Policy{100 * ms, time.Second}, 4, most, time.Second},
		{"at max", Policy{100 * ms, time.Second}, 60, most, time.Second},
		{"max below min", Policy{100 * ms, 0}, 2, most, 100 * ms},
		{"zero failures as one", Policy{100 * ms, time.Second}, 0, none, 100 * ms},
		{"no min, no delay", Policy{0, time.Second}, 3, most, 0},
	}
	for _, tt := range tests {
		if got := tt.p.delay(tt.failures, tt.random); got != tt.want {
			t.Errorf("%s: delay(%d) = %v, want %v", tt.name, tt.failures, got, tt.want)
		}
	}
}

// TestDelayRandom checks the bounds of the random jitter: never below the
// doubled delay, never a quarter above it, never above Max.
func TestDelayRandom(t *testing.T) {
	p := Policy{Min: 40 * time.Millisecond, Max: time.Second}
	for failures, lo := range map[int]time.Duration{1: 40 * time.Millisecond, 2: 80 * time.Millisecond, 5: 640 * time.Millisecond, 9: time.Second} {
		hi := min(lo*5/4, p.Max)
		for range 200 {
			if got := p.Delay(failures); got < lo || got > hi {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", failures, got, lo, hi)
			}
		}
	}
}
