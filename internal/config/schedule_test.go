package config

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		spec, zone string
		from       time.Time
		want       []time.Time
	}{
		{"*/15 * * * * *", "UTC", utc("2026-01-01T00:00:00Z"),
			[]time.Time{utc("2026-01-01T00:00:15Z"), utc("2026-01-01T00:00:30Z")}},
		{"0 3 * * *", "UTC", utc("2026-01-01T04:00:00Z"),
			[]time.Time{utc("2026-01-02T03:00:00Z"), utc("2026-01-03T03:00:00Z")}},
		{"@every 90s", "", utc("2026-01-01T00:00:00Z"),
			[]time.Time{utc("2026-01-01T00:01:30Z"), utc("2026-01-01T00:03:00Z")}},
		{"@hourly", "UTC", utc("2026-01-01T00:30:00Z"),
			[]time.Time{utc("2026-01-01T01:00:00Z"), utc("2026-01-01T02:00:00Z")}},
		// Spring forward in Berlin, 2026-03-29: 02:00 becomes 03:00. The
		// 02:30 that does not exist runs right after the gap, once.
		{"30 2 * * *", "Europe/Berlin", time.Date(2026, 3, 28, 12, 0, 0, 0, berlin),
			[]time.Time{time.Date(2026, 3, 29, 3, 0, 0, 0, berlin), time.Date(2026, 3, 30, 2, 30, 0, 0, berlin)}},
		{"30 2 * * *", "Europe/Berlin", time.Date(2026, 3, 29, 3, 0, 0, 0, berlin),
			[]time.Time{time.Date(2026, 3, 30, 2, 30, 0, 0, berlin)}},
		// A wildcard job runs by the clock through both transitions.
		{"*/30 * * * *", "Europe/Berlin", utc("2026-10-25T00:15:00Z"),
			[]time.Time{utc("2026-10-25T00:30:00Z"), utc("2026-10-25T01:00:00Z"), utc("2026-10-25T01:30:00Z")}},
		{"@daily", "Europe/Berlin", time.Date(2026, 3, 28, 12, 0, 0, 0, berlin),
			[]time.Time{time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), time.Date(2026, 3, 30, 0, 0, 0, 0, berlin)}},
		// Fall back, 2026-10-25: 02:00–03:00 happens twice; 02:30 runs at its
		// first occurrence only (00:30 UTC), not again at 01:30 UTC.
		{"30 2 * * *", "Europe/Berlin", time.Date(2026, 10, 24, 12, 0, 0, 0, berlin),
			[]time.Time{utc("2026-10-25T00:30:00Z"), utc("2026-10-26T01:30:00Z")}},
	} {
		s, err := ParseSchedule(tt.spec, tt.zone)
		if err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		at := tt.from
		for i, want := range tt.want {
			at = s.Next(at)
			if !at.Equal(want) {
				t.Errorf("%s in %q from %v: time %d = %v, want %v", tt.spec, tt.zone, tt.from, i, at.UTC(), want.UTC())
			}
		}
	}
}

// FuzzSchedule checks that ParseSchedule never panics, and that a schedule
// it accepts moves forward: Next is after its argument, or zero.
func FuzzSchedule(f *testing.F) {
	// Five fields, minute first, with lists, ranges, steps and names.
	f.Add("0 3 * * *", "")
	f.Add("*/5 9-17 * * MON-FRI", "Europe/Berlin")
	f.Add("0 0 1,15 JAN,JUL *", "UTC")
	// Six fields, seconds first.
	f.Add("*/10 * * * * *", "")
	f.Add("59 59 23 31 12 *", "Asia/Tokyo")
	// Descriptors.
	f.Add("@every 1s", "")
	f.Add("@every 1h30m", "America/New_York")
	f.Add("@daily", "Australia/Lord_Howe") // a 30-minute DST shift
	f.Add("@yearly", "")
	// Invalid: out of range, too many fields, bad zone, empty, a zone prefix.
	f.Add("61 * * * *", "")
	f.Add("* * * * * * *", "")
	f.Add("@every -1s", "")
	f.Add("@daily", "Mars/Olympus")
	f.Add("", "")
	f.Add("TZ=UTC 0 * * * *", "")
	f.Add("0 0 30 2 *", "") // February 30th: never
	f.Fuzz(func(t *testing.T, spec, zone string) {
		s, err := ParseSchedule(spec, zone)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Errorf("ParseSchedule(%q, %q): empty error", spec, zone)
			}
			return
		}
		from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		if next := s.Next(from); !next.IsZero() && !next.After(from) {
			t.Errorf("ParseSchedule(%q, %q).Next(%v) = %v, not after it", spec, zone, from, next)
		}
	})
}
