package auth

import (
	"os/user"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/stewardhq/steward"
)

// Rule gives role to the local callers that Match names: "uid:N",
// "user:NAME" or "group:NAME" (the user's primary or a supplementary
// group), scoped to Tenant when it is not "". It is an entry of the
// config's auth.local.
type Rule struct {
	Match  string
	Role   string
	Tenant string
}

// Local names the principals of the callers on the local endpoint (the
// Unix socket or the named pipe) from their peer credentials. Root and
// the user steward runs as are admins; the rules may grant others a role;
// every other caller, one the socket's permissions let in (a member of
// api.socket_group), is a viewer. A caller that a rule with a tenant
// matches is a principal of that tenant (the first such rule's), with the
// greatest role of the matching rules of that tenant: a tenant's rule
// narrows what the rules of no tenant would give it, never widens it. Where the OS gives no peer credentials
// ("local": Windows, macOS) the endpoint's permissions are all there is,
// and the caller is an admin. It is safe for concurrent use; SetRules
// takes effect for connections made after it.
type Local struct {
	owner string // the uid steward runs as
	rules atomic.Pointer[[]Rule]
	// groups returns the names of the groups of the user with uid; a
	// variable for the tests.
	groups func(uid string) []string
}

// NewLocal returns the Local of a steward that runs as the user with uid
// owner, with rules.
func NewLocal(owner int, rules []Rule) *Local {
	l := &Local{owner: strconv.Itoa(owner), groups: userGroups}
	l.SetRules(rules)
	return l
}

// SetRules replaces the rules.
func (l *Local) SetRules(rules []Rule) {
	rules = slices.Clone(rules)
	l.rules.Store(&rules)
}

// LocalPrincipal returns the principal of the caller whose peer
// credentials are peer: "UID:NAME", "UID", or "local" when there are none
// (ipc.PeerUser).
func (l *Local) LocalPrincipal(peer string) steward.Principal {
	if peer == "local" || peer == "" {
		return steward.Principal{Who: "local", Role: steward.RoleAdmin, Via: "socket"}
	}
	uid, name, _ := strings.Cut(peer, ":")
	p := steward.Principal{Who: "uid:" + peer, Role: steward.RoleViewer, Via: "socket"}
	if uid == "0" || uid == l.owner {
		p.Role = steward.RoleAdmin
		return p
	}
	var groups []string          // looked up when a rule needs them
	var scoped steward.Principal // the rules of the first tenant that match
	for _, r := range *l.rules.Load() {
		kind, val, _ := strings.Cut(r.Match, ":")
		var match bool
		switch kind {
		case "uid":
			match = val == uid
		case "user":
			match = name != "" && val == name
		case "group":
			if groups == nil {
				groups = append(l.groups(uid), "") // not nil: looked up
			}
			match = val != "" && slices.Contains(groups, val)
		}
		switch {
		case !match:
		case r.Tenant == "":
			if rank(r.Role) > rank(p.Role) {
				p.Role = r.Role
			}
		case scoped.Tenant == "" || scoped.Tenant == r.Tenant:
			scoped.Tenant = r.Tenant
			if rank(r.Role) > rank(scoped.Role) {
				scoped.Role = r.Role
			}
		}
	}
	if scoped.Tenant != "" {
		p.Role, p.Tenant = scoped.Role, scoped.Tenant
	}
	return p
}

// rank orders role among the roles; -1 when it is none of them.
func rank(role string) int { return slices.Index(roles, role) }

// userGroups returns the names of the groups of the user with uid.
func userGroups(uid string) []string {
	u, err := user.LookupId(uid)
	if err != nil {
		return nil
	}
	ids, err := u.GroupIds()
	if err != nil {
		ids = []string{u.Gid}
	}
	var names []string
	for _, id := range ids {
		if g, err := user.LookupGroupId(id); err == nil {
			names = append(names, g.Name)
		}
	}
	return names
}
