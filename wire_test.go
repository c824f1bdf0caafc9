package steward_test

import (
	"testing"

	"github.com/stewardhq/steward"
)

func TestCheckTarget(t *testing.T) {
	for _, tc := range []struct {
		c    steward.CheckConfig
		want string
	}{
		{steward.CheckConfig{}, ""},
		{steward.CheckConfig{HTTP: "http://x"}, "http http://x"},
		{steward.CheckConfig{TCP: ":1"}, "tcp :1"},
		{steward.CheckConfig{Exec: []string{"a", "b"}}, "exec a b"},
		{steward.CheckConfig{File: "/f"}, "file /f"},
		{steward.CheckConfig{Process: "nginx"}, "process nginx"},
		{steward.CheckConfig{OSService: "sshd.service"}, "os_service sshd.service"},
	} {
		if got := tc.c.Target(); got != tc.want {
			t.Errorf("Target of %+v = %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestProblemString(t *testing.T) {
	for _, tc := range []struct {
		p    steward.Problem
		want string
	}{
		{steward.Problem{File: "s.yaml", Line: 2, Col: 3, Message: "bad"}, "s.yaml:2:3: bad"},
		{steward.Problem{Line: 1, Col: 1, Message: "bad"}, "1:1: bad"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.p, got, tc.want)
		}
	}
}
