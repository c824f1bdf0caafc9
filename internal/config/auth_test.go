package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestAuthLocal(t *testing.T) {
	c := mustParse(t, `auth:
  local:
    - {match: "uid:1001", role: operator}
    - {match: "user:alice", role: admin}
    - {match: "group:staff", role: viewer}
    - {match: "group:acme-ops", role: operator, tenant: acme}
tenants: [acme]
services: {}
`)
	want := []LocalRule{
		{Match: "uid:1001", Role: steward.RoleOperator},
		{Match: "user:alice", Role: steward.RoleAdmin},
		{Match: "group:staff", Role: steward.RoleViewer},
		{Match: "group:acme-ops", Role: steward.RoleOperator, Tenant: "acme"},
	}
	if !reflect.DeepEqual(c.Auth.Local, want) {
		t.Errorf("auth.local = %+v, want %+v", c.Auth.Local, want)
	}
	if c := mustParse(t, "auth: {local: null}\nservices: {}\n"); c.Auth.Local != nil {
		t.Errorf("auth.local null = %+v, want none", c.Auth.Local)
	}
	other := mustParse(t, "auth: {local: [{match: \"uid:1\", role: viewer}]}\ntenants: [acme]\nservices: {}\n")
	if d := Compare(c, other); !reflect.DeepEqual(d.Sections, []string{"auth"}) {
		t.Errorf("Compare sections = %q, want auth", d.Sections)
	}
}

func TestAuthLocalErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"not a list", "auth: {local: {match: x}}\n", []string{
			"steward.yaml:1:15: auth.local must be a list of {match, role, tenant}"}},
		{"undeclared tenant", "tenants: [acme]\nauth:\n  local:\n    - {match: \"uid:5\", role: admin, tenant: globex}\n", []string{
			`steward.yaml:4:45: tenant "globex" is not declared: tenants: declares acme`}},
		{"tenant not a string", "tenants: [acme]\nauth:\n  local:\n    - {match: \"uid:5\", role: admin, tenant: [acme]}\n", []string{
			`steward.yaml:4:45: tenant must be a string`}},
		{"unknown key", "auth: {locals: []}\n", []string{
			`steward.yaml:1:8: unknown key "locals" (did you mean "local"?)`}},
		{"item not a mapping", "auth:\n  local: [admin]\n", []string{
			"steward.yaml:2:11: auth.local[0] must be a mapping"}},
		{"bad role", "auth:\n  local:\n    - {match: \"uid:5\", role: root}\n", []string{
			`steward.yaml:3:30: auth.local[0].role "root" must be viewer, operator or admin`}},
		{"no role", "auth:\n  local:\n    - {match: \"uid:5\"}\n", []string{
			`steward.yaml:3:7: auth.local[0].role "" must be viewer, operator or admin`}},
		{"no match", "auth:\n  local:\n    - {role: admin}\n", []string{
			"steward.yaml:3:7: auth.local[0] needs match: uid:N, user:NAME or group:NAME"}},
		{"bad matches", "auth:\n  local:\n    - {match: \"uid:x\", role: admin}\n    - {match: alice, role: admin}\n    - {match: \"group:\", role: admin}\n    - {match: \"host:a\", role: admin}\n", []string{
			`steward.yaml:3:15: auth.local[0].match "uid:x" must be uid:N, user:NAME or group:NAME`,
			`steward.yaml:4:15: auth.local[1].match "alice" must be uid:N, user:NAME or group:NAME`,
			`steward.yaml:5:15: auth.local[2].match "group:" must be uid:N, user:NAME or group:NAME`,
			`steward.yaml:6:15: auth.local[3].match "host:a" must be uid:N, user:NAME or group:NAME`}},
		{"not a string", "auth:\n  local:\n    - {match: [a], role: admin}\n", []string{
			"steward.yaml:3:15: auth.local[0].match must be a string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src+"services: {}\n")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

func TestAuditCheckpointEvery(t *testing.T) {
	if got := mustParse(t, "audit: {checkpoint: {every: 1h}}\n").Audit.CheckpointEvery; got != time.Hour {
		t.Errorf("every 1h: %v", got)
	}
	if got := mustParse(t, "audit: {}\n").Audit.CheckpointEvery; got != 0 {
		t.Errorf("no period: %v", got)
	}
	c := mustParse(t, "notify:\n  hook: {hook: {url: 'https://h/'}}\n  log: {hook: {url: 'https://l/'}}\naudit: {checkpoint: {notify: [hook, log]}}\n")
	if got := c.Audit.CheckpointNotify; !reflect.DeepEqual(got, []string{"hook", "log"}) {
		t.Errorf("checkpoint notify: %q, want hook and log", got)
	}
	for src, want := range map[string]string{
		"notify:\n  hook: {hook: {url: 'https://h/'}}\naudit: {checkpoint: {notify: [hook, hoook]}}\n": `steward.yaml:3:37: audit.checkpoint.notify: notifier "hoook" is not declared in notify (did you mean "hook"?)`,
		"audit: {checkpoint: {notify: [[a]]}}\n":                                                       "steward.yaml:1:31: audit.checkpoint.notify must be a string",
		"audit: {checkpoint: {every: 10ms}}\n":                                                         "steward.yaml:1:29: audit.checkpoint.every 10ms is less than 1s",
		"audit: {checkpoint: {every: soon}}\n":                                                         "steward.yaml:1:29: audit.checkpoint.every",
		"audit: {checkpoint: {evry: 1h}}\n":                                                            `steward.yaml:1:22: unknown key "evry" (did you mean "every"?)`,
		"audit: {checkpoints: {every: 1h}}\n":                                                          `steward.yaml:1:9: unknown key "checkpoints" (did you mean "checkpoint"?)`,
	} {
		if got := parseErrors(t, src); len(got) != 1 || !strings.HasPrefix(got[0], want) {
			t.Errorf("%s: %q, want %q", src, got, want)
		}
	}
}

// TestAutoTLS: api.tls: auto makes the listeners' certificate files the
// ones steward keeps under data_dir/tls, and counts as TLS for a listener
// off loopback.
func TestAutoTLS(t *testing.T) {
	c := mustParse(t, "data_dir: /var/lib/st\napi: {listen: \"0.0.0.0:7070\", tls: auto}\n")
	if want := (TLS{Cert: "/var/lib/st/tls/server.pem", Key: "/var/lib/st/tls/server.key", Auto: true}); c.API.TLS != want {
		t.Errorf("api.tls: auto gives %+v, want %+v", c.API.TLS, want)
	}
	for src, want := range map[string]string{
		"api: {listen: \"127.0.0.1:7070\", tls: manual}\n": `steward.yaml:1:38: api.tls "manual": want auto, or {cert, key}`,
		"api: {tls: auto}\n": "steward.yaml:1:7: api.tls is for api.listen, web.listen and bus.listen, and none is set",
	} {
		if got := parseErrors(t, src); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %q, want %q", src, got, want)
		}
	}
	if c := mustParse(t, "api: {listen: \"127.0.0.1:7070\", tls: null}\n"); c.API.TLS != (TLS{}) {
		t.Errorf("api.tls: null gives %+v", c.API.TLS)
	}
}
