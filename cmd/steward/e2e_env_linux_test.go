package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestChildEnvironment checks that a service gets its base environment and
// what inherit_env names, and never a variable the config references as a
// secret unless inherit_env lists it by name.
func TestChildEnvironment(t *testing.T) {
	t.Setenv("STEWARD_E2E_ENVSECRET", "hunter2")
	t.Setenv("STEWARD_E2E_PLAIN", "plain")
	e := newEnv(t, `
notify:
  hook: {webhook: {url: "https://127.0.0.1:1/hook?t=${env:STEWARD_E2E_ENVSECRET}"}}
services:
  base:
    command: ["/bin/sh", "-c", "env > {{dir}}/base.env"]
    restart: {policy: never}
  named:
    command: ["/bin/sh", "-c", "env > {{dir}}/named.env"]
    inherit_env: [STEWARD_E2E_ENVSECRET]
    restart: {policy: never}
  all:
    command: ["/bin/sh", "-c", "env > {{dir}}/all.env"]
    inherit_env: true
    env: {OWN: "1"}
    restart: {policy: never}
`)
	e.run()
	read := func(name string) map[string]string {
		t.Helper()
		e.waitState(name, steward.StateExited)
		path := filepath.Join(e.dir, name+".env")
		var data []byte
		testwait.NoError(t, 10*time.Second, func() error {
			var err error
			data, err = os.ReadFile(path)
			return err
		})
		vars := map[string]string{}
		for line := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				vars[k] = v
			}
		}
		return vars
	}
	for _, c := range []struct {
		service       string
		secret, plain bool
	}{
		{"base", false, false},
		{"named", true, false},
		{"all", false, true},
	} {
		vars := read(c.service)
		if got := vars["STEWARD_E2E_ENVSECRET"] == "hunter2"; got != c.secret {
			t.Errorf("%s: has the secret: %v, want %v", c.service, got, c.secret)
		}
		if got := vars["STEWARD_E2E_PLAIN"] == "plain"; got != c.plain {
			t.Errorf("%s: has STEWARD_E2E_PLAIN: %v, want %v", c.service, got, c.plain)
		}
		for _, k := range []string{"PATH", "STEWARD_TAG", "STEWARD_SERVICE"} {
			if vars[k] == "" {
				t.Errorf("%s: no %s in %v", c.service, k, vars)
			}
		}
	}
}
