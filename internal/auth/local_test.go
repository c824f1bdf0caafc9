package auth

import (
	"os"
	"os/user"
	"slices"
	"testing"

	"github.com/stewardhq/steward"
)

func TestLocalPrincipal(t *testing.T) {
	l := NewLocal(1000, []Rule{
		{Match: "uid:2001", Role: steward.RoleOperator},
		{Match: "user:carol", Role: steward.RoleAdmin},
		{Match: "group:ops", Role: steward.RoleOperator},
		{Match: "group:staff", Role: steward.RoleViewer}, // a lesser rule does not lower a greater one
		{Match: "group:", Role: steward.RoleAdmin},       // names no group: matches nobody
		{Match: "host:x", Role: steward.RoleAdmin},       // not a kind: matches nobody
		{Match: "uid:3001", Role: steward.RoleViewer, Tenant: "acme"},
		{Match: "group:acme-ops", Role: steward.RoleOperator, Tenant: "acme"},
		{Match: "group:globex", Role: steward.RoleAdmin, Tenant: "globex"}, // a second tenant's: the first one's wins
	})
	lookups := 0
	l.groups = func(uid string) []string {
		lookups++
		switch uid {
		case "2003":
			return []string{"staff", "ops"}
		case "3001":
			return []string{"ops", "acme-ops", "globex"}
		}
		return []string{"staff"}
	}
	tests := []struct {
		peer, who, role string
		tenant          string
	}{
		{"local", "local", steward.RoleAdmin, ""},
		{"", "local", steward.RoleAdmin, ""},
		{"0:root", "uid:0:root", steward.RoleAdmin, ""},
		{"1000:steward", "uid:1000:steward", steward.RoleAdmin, ""},
		{"2001:alice", "uid:2001:alice", steward.RoleOperator, ""},
		{"2002:carol", "uid:2002:carol", steward.RoleAdmin, ""},
		{"2003:dave", "uid:2003:dave", steward.RoleOperator, ""},
		{"2004:erin", "uid:2004:erin", steward.RoleViewer, ""},
		{"2005", "uid:2005", steward.RoleViewer, ""},
		// ops would make it an operator of no tenant; acme's rules scope
		// it to acme, as the greatest of them (operator); globex's admin
		// rule gives it nothing.
		{"3001:wile", "uid:3001:wile", steward.RoleOperator, "acme"},
		{"0:root", "uid:0:root", steward.RoleAdmin, ""}, // root stays of no tenant
	}
	for _, tt := range tests {
		p := l.LocalPrincipal(tt.peer)
		if p.Who != tt.who || p.Role != tt.role || p.Tenant != tt.tenant || p.Via != "socket" {
			t.Errorf("LocalPrincipal(%q) = %+v, want who %s, role %s, tenant %q, via socket", tt.peer, p, tt.who, tt.role, tt.tenant)
		}
	}
	if lookups != 6 { // once per caller that reaches a group rule
		t.Errorf("groups looked up %d times, want 5", lookups)
	}
	l.SetRules(nil)
	if p := l.LocalPrincipal("2002:carol"); p.Role != steward.RoleViewer {
		t.Errorf("after SetRules(nil): %+v, want a viewer", p)
	}
}

func TestUserGroups(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Skip(err)
	}
	if got := userGroups(u.Uid); !slices.Contains(got, g.Name) {
		t.Errorf("userGroups(%s) = %q, want it to hold the primary group %s", u.Uid, got, g.Name)
	}
	if got := userGroups("4294967294"); got != nil && os.Getuid() != 4294967294 {
		t.Errorf("userGroups(no such user) = %q, want none", got)
	}
	// A rule on the caller's own group grants its role.
	l := NewLocal(0, []Rule{{Match: "group:" + g.Name, Role: steward.RoleOperator}})
	if p := l.LocalPrincipal(u.Uid + ":" + u.Username); u.Uid != "0" && p.Role != steward.RoleOperator {
		t.Errorf("caller in group %s = %+v, want an operator", g.Name, p)
	}
}
