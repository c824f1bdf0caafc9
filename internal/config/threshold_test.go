package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseThreshold(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Threshold // Text is filled in
	}{
		{"> 80%", Threshold{Op: ">", Value: 80, Unit: "%"}},
		{">80% for 5m", Threshold{Op: ">", Value: 80, Unit: "%", For: 5 * time.Minute}},
		{"  >=  85.5 %  for  1m30s ", Threshold{Op: ">=", Value: 85.5, Unit: "%", For: 90 * time.Second}},
		{"< 2", Threshold{Op: "<", Value: 2}},
		{"<= 0.5 for 10s", Threshold{Op: "<=", Value: 0.5, For: 10 * time.Second}},
		{"== 0", Threshold{Op: "==", Value: 0}},
		{"!= 1", Threshold{Op: "!=", Value: 1}},
		{"> 500MB", Threshold{Op: ">", Value: 5e8, Unit: "B"}},
		{"> 2 GiB for 1h", Threshold{Op: ">", Value: 2 << 30, Unit: "B", For: time.Hour}},
		{"> 10mb/s", Threshold{Op: ">", Value: 1e7, Unit: "B"}},
		{"> 80% FOR 0", Threshold{Op: ">", Value: 80, Unit: "%"}},
	} {
		got, err := ParseThreshold(tt.in)
		tt.want.Text = tt.in
		if err != nil || got != tt.want {
			t.Errorf("ParseThreshold(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseThresholdErrors(t *testing.T) {
	for _, tt := range []struct {
		in     string
		offset int
		msg    string
	}{
		{"", 0, "empty condition"},
		{"   ", 3, "empty condition"},
		{"80%", 0, "want a comparison"},
		{"=> 80", 0, "want a comparison"},
		{"> ", 2, "want a number"},
		{"> -5", 2, "must not be negative"},
		{"> 1.2.3", 2, "invalid number"},
		{"> .5", 2, "invalid number"},
		{"> 5.", 2, "invalid number"},
		{"> 101%", 2, "not be more than 100"},
		{"> 80 percent", 5, "unknown unit"},
		{"> 10/s", 4, "unknown unit"},
		{"> 80% for", 9, "want a duration"},
		{"> 80% for ", 10, "want a duration"},
		{"> 80% for 5", 10, "needs a unit"},
		{"> 80% for -5m", 10, "must not be negative"},
		{"> 80% for 5m later", 13, "after the duration"},
		{"> 80% during 5m", 6, "unexpected"},
		{"> 80%for 5m", 4, "unknown unit \"%for\""},
		{"> 80for 5m", 4, "want a blank before for"},
		{"> 80% forever", 6, "unexpected"},
		{"> 1e9", 3, "unknown unit"},
	} {
		_, err := ParseThreshold(tt.in)
		var te *ThresholdError
		if !errors.As(err, &te) {
			t.Errorf("ParseThreshold(%q) = %v, want a *ThresholdError", tt.in, err)
			continue
		}
		if te.Offset != tt.offset || !strings.Contains(te.Msg, tt.msg) {
			t.Errorf("ParseThreshold(%q) = offset %d %q, want offset %d and %q", tt.in, te.Offset, te.Msg, tt.offset, tt.msg)
		}
		if !strings.Contains(te.Error(), "at offset") {
			t.Errorf("Error() = %q", te.Error())
		}
	}
}

func TestThresholdHolds(t *testing.T) {
	for _, tt := range []struct {
		op   string
		v    float64
		want bool
	}{
		{">", 81, true}, {">", 80, false}, {">=", 80, true}, {"<", 79, true}, {"<", 80, false},
		{"<=", 80, true}, {"==", 80, true}, {"==", 81, false}, {"!=", 81, true}, {"??", 80, false},
	} {
		if got := (Threshold{Op: tt.op, Value: 80}).Holds(tt.v); got != tt.want {
			t.Errorf("%v %s 80 = %v, want %v", tt.v, tt.op, got, tt.want)
		}
	}
}

// FuzzParseThreshold: threshold expressions come from config files; the
// parser must not panic, must point inside the text, and must accept only
// what it can print back.
func FuzzParseThreshold(f *testing.F) {
	f.Add("> 80% for 5m")      // the documented form
	f.Add(">=85.5%")           // no blanks
	f.Add("> 500MiB/s for 1h") // a rate with a size unit
	f.Add("< 0.5")             // a plain number
	f.Add("> 80% for")         // a missing duration
	f.Add("!= 1e5")            // an exponent is not a unit
	f.Add("\t>\t1\tfor\t1s\t") // tabs
	f.Add("> 9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999")
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			var te *ThresholdError
			if !errors.As(err, &te) || te.Offset < 0 || te.Offset > len(s) {
				t.Fatalf("ParseThreshold(%q): %v", s, err)
			}
			return
		}
		if th.Value < 0 || th.For < 0 || (th.Unit == "%" && th.Value > 100) || th.Text != s {
			t.Fatalf("ParseThreshold(%q) = %+v", s, th)
		}
		switch th.Op {
		case ">", ">=", "<", "<=", "==", "!=":
		default:
			t.Fatalf("ParseThreshold(%q): op %q", s, th.Op)
		}
	})
}
