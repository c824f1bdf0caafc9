// Package auth decides who may do what: the actions every API route names,
// the roles that grant them, API tokens (shown once, stored hashed,
// prefixed and checksummed) and the hash-chained audit log with its signed
// checkpoints. It stores nothing itself: the store keeps tokens and audit
// records, and this package checks them.
package auth

import (
	"slices"

	"github.com/stewardhq/steward"
)

// Action is what a request does, as the route table names it. The role an
// action needs is fixed here, in actions.
type Action string

// Actions, by the least role they need. ActionPublic needs no principal.
const (
	ActionPublic Action = "public"

	ActionRead Action = "read" // status, logs, events, alerts, metrics, runs, config

	ActionControl    Action = "control"     // start, stop, restart services
	ActionAck        Action = "ack"         // acknowledge alerts
	ActionSilence    Action = "silence"     // add and delete silences
	ActionRunJob     Action = "run-job"     // run and cancel jobs and workflows
	ActionNotify     Action = "notify"      // retry notifications
	ActionPushMetric Action = "push"        // push metrics
	ActionPublish    Action = "publish"     // publish and request on the bus
	ActionWorkbook   Action = "workbook"    // create, write, save and close workbooks
	ActionBackup     Action = "backup"      // verify backups, apply their retention
	ActionReload     Action = "reload"      // reload the config file as it is
	ActionConfig     Action = "config"      // change or roll back the config
	ActionOSService  Action = "os-service"  // start, stop, restart OS services
	ActionTokens     Action = "tokens"      // create and revoke tokens
	ActionListTokens Action = "list-tokens" // list tokens (never their secrets)
	ActionAudit      Action = "audit"       // verify the audit log, checkpoint it
	ActionReadAudit  Action = "read-audit"  // read the audit log
	ActionRestore    Action = "restore"     // restore a backup into a directory
	ActionRegister   Action = "register"    // register, heartbeat and deregister registry instances
	// ActionFleet carries a request to other nodes (--node, --fleet): each
	// target authorizes it for the original principal against its own
	// route, so it needs no more than a viewer here and changes nothing
	// itself.
	ActionFleet Action = "fleet"
)

// actions maps every action to the least role that may take it.
var actions = map[Action]string{
	ActionPublic:     "",
	ActionRead:       steward.RoleViewer,
	ActionControl:    steward.RoleOperator,
	ActionAck:        steward.RoleOperator,
	ActionSilence:    steward.RoleOperator,
	ActionRunJob:     steward.RoleOperator,
	ActionNotify:     steward.RoleOperator,
	ActionPushMetric: steward.RoleOperator,
	ActionPublish:    steward.RoleOperator,
	ActionWorkbook:   steward.RoleOperator,
	ActionBackup:     steward.RoleOperator,
	ActionReload:     steward.RoleOperator,
	ActionConfig:     steward.RoleAdmin,
	ActionOSService:  steward.RoleAdmin,
	ActionTokens:     steward.RoleAdmin,
	ActionListTokens: steward.RoleAdmin,
	ActionAudit:      steward.RoleAdmin,
	ActionRestore:    steward.RoleAdmin,
	ActionReadAudit:  steward.RoleAdmin,
	ActionRegister:   steward.RoleOperator,
	ActionFleet:      steward.RoleViewer,
}

// reads are the actions that change nothing. ActionFleet is one: the
// target audits what the forwarded request does.
var reads = []Action{ActionPublic, ActionRead, ActionListTokens, ActionReadAudit, ActionFleet}

// roles orders the roles: each grants what those before it grant.
var roles = []string{steward.RoleViewer, steward.RoleOperator, steward.RoleAdmin}

// Roles returns the roles, least first.
func Roles() []string { return slices.Clone(roles) }

// ValidRole reports whether role is one of the roles.
func ValidRole(role string) bool { return slices.Contains(roles, role) }

// Known reports whether a is an action this package decides on.
func Known(a Action) bool {
	_, ok := actions[a]
	return ok
}

// Mutates reports whether taking a changes something: those are audited.
func Mutates(a Action) bool { return !slices.Contains(reads, a) }

// Needs returns the least role that may take a; "" for a public action or
// one that is not known.
func Needs(a Action) string { return actions[a] }

// Allowed reports whether p may take action a. Default deny: an action
// that is not known, a principal without a known role, and a role below
// the action's are refused.
func Allowed(p steward.Principal, a Action) bool {
	need, ok := actions[a]
	if !ok {
		return false
	}
	if need == "" {
		return true
	}
	have := slices.Index(roles, p.Role)
	return have >= 0 && have >= slices.Index(roles, need)
}
