package auth

import (
	"testing"

	"github.com/stewardhq/steward"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		role string
		a    Action
		want bool
	}{
		{"", ActionPublic, true},
		{"", ActionRead, false},
		{steward.RoleViewer, ActionRead, true},
		{steward.RoleViewer, ActionControl, false},
		{steward.RoleOperator, ActionControl, true},
		{steward.RoleOperator, ActionRead, true},
		{steward.RoleOperator, ActionConfig, false},
		{steward.RoleOperator, ActionTokens, false},
		{steward.RoleAdmin, ActionConfig, true},
		{steward.RoleAdmin, ActionAudit, true},
		{steward.RoleOperator, ActionBackup, true},
		{steward.RoleViewer, ActionBackup, false},
		{steward.RoleOperator, ActionRestore, false},
		{steward.RoleAdmin, ActionRestore, true},
		{steward.RoleAdmin, Action("made-up"), false},
		{"root", ActionRead, false},
	}
	for _, tt := range tests {
		if got := Allowed(steward.Principal{Who: "x", Role: tt.role}, tt.a); got != tt.want {
			t.Errorf("Allowed(%q, %s) = %v, want %v", tt.role, tt.a, got, tt.want)
		}
	}
}

// TestRolesAreAdditive: whatever a role may do, every role above it may.
func TestRolesAreAdditive(t *testing.T) {
	rs := Roles()
	for a := range actions {
		for i, r := range rs {
			if !Allowed(steward.Principal{Role: r}, a) {
				continue
			}
			for _, above := range rs[i+1:] {
				if !Allowed(steward.Principal{Role: above}, a) {
					t.Errorf("%s may %s but %s may not", r, a, above)
				}
			}
		}
		if !Known(a) || (Mutates(a) && Needs(a) == steward.RoleViewer) {
			t.Errorf("action %s: known %v, mutates %v, needs %q", a, Known(a), Mutates(a), Needs(a))
		}
	}
	if !ValidRole(steward.RoleAdmin) || ValidRole("superuser") {
		t.Error("ValidRole")
	}
}

func TestPrincipalString(t *testing.T) {
	p := steward.Principal{Who: "token:deploy", Role: "operator", Tenant: "shop", Via: "tcp"}
	if got, want := p.String(), "token:deploy (operator, tenant shop, via tcp)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
