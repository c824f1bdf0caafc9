package daemon

import (
	"os"
	"testing"
)

func TestParseMarker(t *testing.T) {
	dir := dataDirTag("/var/lib/steward")
	for _, tc := range []struct {
		tag  string
		ok   bool
		want marker
	}{
		{dir + ".p42.18a2b3c4d5e6f708.api.3", true, marker{pid: 42, service: "api"}},
		{dir + ".p42.18a2b3c4d5e6f708.web.v2.1", true, marker{pid: 42, service: "web.v2"}},
		{dir + ".18a2b3c4d5e6f708.api.3", true, marker{service: "api"}}, // before markers named the steward
		{dir + ".p42.18a2b3c4d5e6f708", true, marker{pid: 42}},
		{dataDirTag("/srv/other") + ".p42.18a2b3c4d5e6f708.api.3", false, marker{}},
		{dir + "x.p42.1.api.3", false, marker{}},
	} {
		got, ok := parseMarker(dir, tc.tag)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseMarker(%q) = %+v, %v; want %+v, %v", tc.tag, got, ok, tc.want, tc.ok)
		}
	}
	// This run's own markers parse as naming this steward.
	run := runTag("/var/lib/steward")
	if got, ok := parseMarker(dir, run+".api.1"); !ok || got.pid != os.Getpid() || got.service != "api" {
		t.Errorf("parseMarker(runTag + .api.1) = %+v, %v; want pid %d, service api", got, ok, os.Getpid())
	}
}

func TestSweptReason(t *testing.T) {
	s := swept{pids: []int{11, 12, 13}, stewards: []int{7, 9}, services: []string{"api", "db"}}
	if got, want := s.reason(), "killed 3 processes (pid 11, 12, 13) left by a previous run of steward (pid 7, 9): services api, db"; got != want {
		t.Errorf("reason() = %q, want %q", got, want)
	}
}
