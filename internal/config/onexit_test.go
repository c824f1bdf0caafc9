package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestOnExitAndNotifyErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"on_exit unknown", "services:\n  a: {command: x, on_exit: die}\n",
			[]string{`steward.yaml:2:28: on_exit "die" is not one of restart, ignore, stop-all and exit`}},
		{"exit_code without exit", "services:\n  a: {command: x, on_exit: ignore, exit_code: 3}\n",
			[]string{`steward.yaml:2:3: service "a": exit_code needs on_exit: exit`}},
		{"exit_code too big", "services:\n  a: {command: x, on_exit: exit, exit_code: 300}\n",
			[]string{`steward.yaml:2:45: exit_code must be 0 to 255`}},
		{"watchdog without notify", "services:\n  a: {command: x, ready: {watchdog: 5s}}\n",
			[]string{`steward.yaml:2:27: ready.watchdog needs ready.notify: true`}},
		{"notify and tcp", "services:\n  a: {command: x, ready: {tcp: \"127.0.0.1:1\", notify: true}}\n",
			[]string{`steward.yaml:2:47: ready: notify and tcp (at 2:27) cannot both be set, use one of after, tcp, http, exec, log and notify`}},
		{"notify not a bool", "services:\n  a: {command: x, ready: {notify: yes please}}\n",
			[]string{`steward.yaml:2:35: ready.notify must be true or false`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

func TestOnExitAndNotifyParse(t *testing.T) {
	cfg, err := Parse("steward.yaml", []byte(`services:
  a: {command: x, on_exit: exit, exit_code: 7, ready: {notify: true, watchdog: 2s}}
  b: {command: x, on_exit: stop-all, ready: {notify: false, tcp: "127.0.0.1:9"}}
`), Registry{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Services["a"], cfg.Services["b"]
	if a.OnExit != OnExitExit || a.ExitCode == nil || *a.ExitCode != 7 || !a.Ready.Notify || a.Ready.Watchdog != 2*time.Second {
		t.Errorf("a = on_exit %q, exit_code %v, ready %+v; want exit, 7, notify with a 2s watchdog", a.OnExit, a.ExitCode, a.Ready)
	}
	if b.OnExit != OnExitStopAll || b.Ready.Notify || b.Ready.TCP == "" {
		t.Errorf("b = on_exit %q, ready %+v; want stop-all, tcp without notify", b.OnExit, b.Ready)
	}
}
