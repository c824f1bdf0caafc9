package logwatch

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits of a When.
const (
	MaxWhenCount  = 10000
	MaxWhenWindow = 24 * time.Hour
)

// When is a count condition: Count matches within Window. The zero When
// means every match.
type When struct {
	Count  int
	Window time.Duration
}

// ParseWhen parses a condition such as "5 in 1m": a whole number from 1 to
// MaxWhenCount, the word "in", and a Go duration with a unit, more than 0
// and at most MaxWhenWindow, separated by spaces. The empty string is the
// zero When.
func ParseWhen(s string) (When, error) {
	if strings.TrimSpace(s) == "" {
		return When{}, nil
	}
	f := strings.Fields(s)
	if len(f) != 3 || f[1] != "in" {
		return When{}, fmt.Errorf("invalid condition %q: want COUNT in DURATION, e.g. \"5 in 1m\"", s)
	}
	for _, c := range f[0] {
		if c < '0' || c > '9' {
			return When{}, fmt.Errorf("invalid count %q in %q: want a whole number", f[0], s)
		}
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 || n > MaxWhenCount || (len(f[0]) > 1 && f[0][0] == '0') {
		return When{}, fmt.Errorf("invalid count %q in %q: want 1 to %d", f[0], s, MaxWhenCount)
	}
	d, err := time.ParseDuration(f[2])
	if err != nil {
		if _, err := strconv.ParseFloat(f[2], 64); err == nil {
			return When{}, fmt.Errorf("window %q in %q needs a unit, e.g. 1m", f[2], s)
		}
		return When{}, fmt.Errorf("invalid window %q in %q: want a duration such as 30s, 1m or 1h", f[2], s)
	}
	if d <= 0 || d > MaxWhenWindow {
		return When{}, fmt.Errorf("window %q in %q: want more than 0 and at most %v", f[2], s, MaxWhenWindow)
	}
	return When{Count: n, Window: d}, nil
}

// IsZero reports whether w is the zero When: every match counts.
func (w When) IsZero() bool { return w == When{} }

// String returns w as ParseWhen reads it, or "" for the zero When.
func (w When) String() string {
	if w.IsZero() {
		return ""
	}
	return strconv.Itoa(w.Count) + " in " + w.Window.String()
}
