package config

import (
	"slices"
	"testing"
)

// TestTenants: tenants: declares the tenants; tenant: on a service (of
// any kind), a check, a job and a workflow names one of them.
func TestTenants(t *testing.T) {
	c := mustParse(t, `
tenants: [acme, globex]
services:
  web: {command: [sleep, "1"], tenant: acme, depends_on: [shared]}
  probe: {kind: bare, tenant: globex}
  shared: {command: [sleep, "1"]}
checks:
  up: {tcp: "127.0.0.1:1", tenant: acme}
jobs:
  nightly: {command: [true], tenant: globex}
workflows:
  deploy: {tenant: acme, steps: {a: {command: [true]}}}
`)
	if !slices.Equal(c.Tenants, []string{"acme", "globex"}) {
		t.Errorf("tenants %q", c.Tenants)
	}
	for what, got := range map[string]string{
		"web": c.Services["web"].Tenant, "probe": c.Services["probe"].Tenant, "shared": c.Services["shared"].Tenant,
		"check up": c.Checks["up"].Tenant, "job nightly": c.Jobs["nightly"].Tenant, "workflow deploy": c.Workflows["deploy"].Tenant,
	} {
		want := map[string]string{"web": "acme", "probe": "globex", "check up": "acme", "job nightly": "globex", "workflow deploy": "acme"}[what]
		if got != want {
			t.Errorf("%s: tenant %q, want %q", what, got, want)
		}
	}
	if one := mustParse(t, "tenants: acme\n"); !slices.Equal(one.Tenants, []string{"acme"}) {
		t.Errorf("tenants: acme gives %q", one.Tenants)
	}
}

func TestTenantErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"undeclared", "services:\n  web: {command: x, tenant: acme}\n",
			[]string{`steward.yaml:2:29: tenant "acme" is not declared: none are declared (tenants: [...])`}},
		{"not among the declared", "tenants: [a, b]\njobs:\n  j: {command: [x], tenant: c}\n",
			[]string{`steward.yaml:3:29: tenant "c" is not declared: tenants: declares a, b`}},
		{"declared twice", "tenants: [a, a]\n",
			[]string{`steward.yaml:1:14: tenant "a" is declared twice`}},
		{"bad name", "tenants: [\"a b\"]\n",
			[]string{`steward.yaml:1:11: tenant "a b" must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit`}},
		{"not a string", "tenants: [a]\nchecks:\n  c: {tcp: \"h:1\", tenant: [a]}\n",
			[]string{`steward.yaml:3:27: tenant must be a string`}},
		{"another tenant's dependency", "tenants: [a, b]\nservices:\n  db: {command: [x], tenant: b}\n  web: {command: [x], tenant: a, depends_on: [db]}\n",
			[]string{`steward.yaml:4:47: depends_on: service "db" is of tenant b, "web" of tenant a: a service may depend on its own tenant's services and on services of no tenant`}},
		{"tenants not a list", "tenants: {a: 1}\n",
			[]string{`steward.yaml:1:10: tenants must be a string or a list of strings`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErrors(t, tc.src); !slices.Equal(got, tc.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// TestTenantChangeRestartsNothing: a service that moves to another tenant
// is the same service; the tenants are a section of their own.
func TestTenantChangeRestartsNothing(t *testing.T) {
	a := mustParse(t, "tenants: [x]\nservices:\n  web: {command: [sleep, \"1\"]}\n")
	b := mustParse(t, "tenants: [x, y]\nservices:\n  web: {command: [sleep, \"1\"], tenant: y}\n")
	d := Compare(a, b)
	if !slices.Equal(d.Unchanged, []string{"web"}) || !slices.Equal(d.Sections, []string{"tenants"}) {
		t.Errorf("diff %+v, want web unchanged and the tenants section changed", d)
	}
}
