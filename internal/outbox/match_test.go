package outbox

import (
	"testing"

	"github.com/stewardhq/steward/internal/notify"
)

func TestMatchGlobs(t *testing.T) {
	a := notify.Alert{Severity: "critical", Service: "web-1", Rule: "disk:/srv", Subject: "machine", Labels: map[string]string{"team": "ops"}}
	for _, tt := range []struct {
		m    Match
		want bool
	}{
		{Match{}, true},
		{Match{Severity: []string{"warning", "crit*"}}, true},
		{Match{Service: []string{"web-?"}}, true},
		{Match{Service: []string{"web"}}, false},
		{Match{Rule: []string{"disk:*"}}, true}, // '/' is an ordinary character
		{Match{Rule: []string{"disk:/"}}, false},
		{Match{Subject: []string{"mach[i]ne"}}, true},
		{Match{Labels: map[string]string{"team": "o*"}}, true},
		{Match{Labels: map[string]string{"team": "dev"}}, false},
		{Match{Labels: map[string]string{"nope": "*"}}, false},
		{Match{Severity: []string{"["}}, false}, // a bad pattern matches nothing
	} {
		if got := tt.m.Matches(a); got != tt.want {
			t.Errorf("%+v.Matches = %v, want %v", tt.m, got, tt.want)
		}
	}
}
