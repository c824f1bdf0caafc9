package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
)

func TestAuthLocal(t *testing.T) {
	c := mustParse(t, `auth:
  local:
    - {match: "uid:1001", role: operator}
    - {match: "user:alice", role: admin}
    - {match: "group:staff", role: viewer}
services: {}
`)
	want := []LocalRule{
		{Match: "uid:1001", Role: steward.RoleOperator},
		{Match: "user:alice", Role: steward.RoleAdmin},
		{Match: "group:staff", Role: steward.RoleViewer},
	}
	if !reflect.DeepEqual(c.Auth.Local, want) {
		t.Errorf("auth.local = %+v, want %+v", c.Auth.Local, want)
	}
	if c := mustParse(t, "auth: {local: null}\nservices: {}\n"); c.Auth.Local != nil {
		t.Errorf("auth.local null = %+v, want none", c.Auth.Local)
	}
	other := mustParse(t, "auth: {local: [{match: \"uid:1\", role: viewer}]}\nservices: {}\n")
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
			"steward.yaml:1:15: auth.local must be a list of {match, role}"}},
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
