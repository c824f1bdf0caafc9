package logwatch

import (
	"strings"
	"testing"
	"time"
)

func TestParseWhen(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want When
		err  string
	}{
		{"", When{}, ""},
		{"  ", When{}, ""},
		{"5 in 1m", When{5, time.Minute}, ""},
		{" 1  in\t30s ", When{1, 30 * time.Second}, ""},
		{"10000 in 24h", When{10000, 24 * time.Hour}, ""},
		{"3 in 1m30s", When{3, 90 * time.Second}, ""},
		{"2 in 1.5s", When{2, 1500 * time.Millisecond}, ""},
		{"5", When{}, "want COUNT in DURATION"},
		{"5 per 1m", When{}, "want COUNT in DURATION"},
		{"5 in 1m extra", When{}, "want COUNT in DURATION"},
		{"five in 1m", When{}, "want a whole number"},
		{"+5 in 1m", When{}, "want a whole number"},
		{"-5 in 1m", When{}, "want a whole number"},
		{"0 in 1m", When{}, "want 1 to 10000"},
		{"05 in 1m", When{}, "want 1 to 10000"},
		{"10001 in 1m", When{}, "want 1 to 10000"},
		{"99999999999999999999 in 1m", When{}, "want 1 to 10000"},
		{"5 in 60", When{}, "needs a unit"},
		{"5 in soon", When{}, "want a duration"},
		{"5 in 0s", When{}, "more than 0"},
		{"5 in -1m", When{}, "more than 0"},
		{"5 in 25h", When{}, "at most 24h0m0s"},
		{"5 IN 1m", When{}, "want COUNT in DURATION"},
	} {
		got, err := ParseWhen(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseWhen(%q) = %v, %v, want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseWhen(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	if s := (When{5, time.Minute}).String(); s != "5 in 1m0s" {
		t.Errorf("String = %q", s)
	}
	if s := (When{}).String(); s != "" {
		t.Errorf("zero String = %q", s)
	}
}

// FuzzParseWhen checks that ParseWhen never panics, that what it accepts is
// within its limits, and that String gives text that parses to the same.
func FuzzParseWhen(f *testing.F) {
	for _, seed := range []string{
		"5 in 1m",      // the documented example
		"1 in 1ns",     // smallest window
		"10000 in 24h", // the limits
		"",             // no condition
		"0 in 1m",      // count too small
		"5 in",         // missing window
		"5 in 1m 2",    // extra field
		"٣ in 1m",      // non-ASCII digit
		"5 in 1e3s",    // odd duration
		"5\u00a0in 1m", // no-break space
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWhen(s)
		if err != nil {
			return
		}
		if w.IsZero() {
			if strings.TrimSpace(s) != "" {
				t.Fatalf("ParseWhen(%q) = zero without error", s)
			}
			return
		}
		if w.Count < 1 || w.Count > MaxWhenCount || w.Window <= 0 || w.Window > MaxWhenWindow {
			t.Fatalf("ParseWhen(%q) = %+v, out of limits", s, w)
		}
		back, err := ParseWhen(w.String())
		if err != nil || back != w {
			t.Fatalf("ParseWhen(%q) = %+v; its String %q parses to %+v, %v", s, w, w.String(), back, err)
		}
	})
}
