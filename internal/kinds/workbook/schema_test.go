package workbook

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

func registry() config.Registry {
	return config.Registry{Kinds: map[string]config.KindSchema{Name: Definition().Schema}}
}

// TestDecode: the settings and their defaults; dir relative to the file.
func TestDecode(t *testing.T) {
	c, err := config.Parse("/etc/steward/steward.yaml", []byte(`
services:
  excel: {kind: workbook, dir: books, max_sessions: 3, idle_timeout: 5m, callers: [app, app]}
  app: {command: [app]}
  plain: {kind: workbook, dir: /srv/wb}
`), registry())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *c.Services["excel"].Spec.(*Spec), (Spec{Dir: filepath.FromSlash("/etc/steward/books"), MaxSessions: 3, IdleTimeout: 5 * time.Minute, Callers: []string{"app"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("excel = %+v, want %+v", got, want)
	}
	if got, want := *c.Services["plain"].Spec.(*Spec), (Spec{Dir: filepath.FromSlash("/srv/wb"), MaxSessions: DefaultMaxSessions, IdleTimeout: DefaultIdleTimeout}); !reflect.DeepEqual(got, want) {
		t.Errorf("plain = %+v, want %+v", got, want)
	}
}

// TestDecodeErrors: each problem at its position.
func TestDecodeErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"services:\n  x: {kind: workbook}\n", "steward.yaml:2:3: a workbook service needs dir"},
		{"services:\n  x: {kind: workbook, dir: d, max_sessions: 0}\n", "steward.yaml:2:45: max_sessions must be at least 1"},
		{"services:\n  x: {kind: workbook, dir: d, idle_timeout: 0s}\n", "steward.yaml:2:45: idle_timeout must be more than 0"},
		{"services:\n  x: {kind: workbook, dir: d, sessions: 2}\n", "steward.yaml:2:"},
		{"services:\n  x: {kind: workbook, dir: d, callers: [nobody]}\n", `steward.yaml:2:41: callers: "nobody" is not a service`},
		{"services:\n  x: {kind: workbook, dir: d, callers: x}\n", "steward.yaml:2:40: callers: a workbook service cannot call itself"},
		{"services:\n  x: {kind: workbook, dir: d, callers: [{a: 1}]}\n", "steward.yaml:2:41: callers must be a string or a list"},
		{"tenants: [acme, other]\nservices:\n  x: {kind: workbook, dir: d, callers: [app], tenant: acme}\n  app: {command: [app], tenant: other}\n",
			`steward.yaml:3:41: callers: service "app" is of tenant other, x of tenant acme: a caller must be of the same tenant`},
		{"services:\n  x: {kind: workbook, dir: d, callers: [app]}\n  app: {command: [app], tenant: acme}\ntenants: [acme]\n",
			`steward.yaml:2:41: callers: service "app" is of tenant acme, x of no tenant`},
		{"bus: {cluster: {name: f, listen: 127.0.0.1:6222, routes: [nats-route://127.0.0.1:6223]}, fleet_secret_file: s}\nservices:\n  x: {kind: workbook, dir: d, callers: [app]}\n  app: {command: [app]}\n",
			"steward.yaml:3:40: callers: a workbook service takes commands from services over the bus of one node only"},
		{"bus: {leafnodes: {remotes: [nats-leaf://127.0.0.1:7422]}, fleet_secret_file: s}\nservices:\n  x: {kind: workbook, dir: d, callers: [app]}\n  app: {command: [app]}\n",
			"steward.yaml:3:40: callers: a workbook service takes commands from services over the bus of one node only, not in a fleet (bus.cluster, bus.leafnodes)"},
	} {
		_, err := config.Parse("steward.yaml", []byte(tt.src), registry())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.src, err, tt.want)
		}
	}
}

// TestCallers: the workbook services of a config, each with its callers.
func TestCallers(t *testing.T) {
	c, err := config.Parse("steward.yaml", []byte(`
services:
  excel: {kind: workbook, dir: d, callers: [app]}
  plain: {kind: workbook, dir: e}
  app: {command: [app]}
`), registry())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Callers(c), map[string][]string{"excel": {"app"}, "plain": nil}; !reflect.DeepEqual(got, want) {
		t.Errorf("Callers = %v, want %v", got, want)
	}
}
