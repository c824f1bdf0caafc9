package osservice

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseLaunchctlList(t *testing.T) {
	out := "PID\tStatus\tLabel\n" +
		"327\t0\tcom.apple.Finder\n" +
		"-\t0\tcom.apple.idle\n" +
		"-\t78\tcom.example.broken\n" +
		"-\t-9\tcom.example.killed\n" +
		"412\t-15\tcom.example.again\n" +
		"\n"
	got, err := parseLaunchctlList(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []Service{
		{Name: "com.apple.Finder", State: StateRunning, PID: 327},
		{Name: "com.apple.idle", State: StateStopped},
		{Name: "com.example.broken", State: StateFailed, Detail: "last exit status 78"},
		{Name: "com.example.killed", State: StateFailed, Detail: "last exit: signal 9"},
		{Name: "com.example.again", State: StateRunning, PID: 412, Detail: "last exit: signal 15"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestParseLaunchctlListErrors(t *testing.T) {
	for _, tt := range []struct{ out, wantErr string }{
		{"PID\tStatus\tLabel\nnot a job line\n", `line 2: "not a job line" is not PID, status and label`},
		{"x\t0\tlabel\n", `line 1: pid "x"`},
		{"1\tbad\tlabel\n", `line 1: status "bad"`},
	} {
		_, err := parseLaunchctlList(tt.out)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: got %v, want %q", tt.out, err, tt.wantErr)
		}
	}
}
