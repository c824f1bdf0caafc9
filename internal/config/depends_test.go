package config

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestDependsOnConditions(t *testing.T) {
	c := mustParse(t, `
services:
  db: {command: x}
  cache: {command: x}
  web: {command: x, health: {tcp: "127.0.0.1:80"}}
  migrate: {command: x, restart: {policy: never}}
  api:
    command: x
    depends_on: {migrate: completed, db: ready, cache: started, web: healthy}
  worker: {command: x, depends_on: [api, db]}
  watch: {kind: bare, depends_on: {migrate: completed}}
`)
	api := c.Services["api"]
	if got, want := api.DependsOn, []string{"migrate", "db", "cache", "web"}; !slices.Equal(got, want) {
		t.Errorf("api DependsOn = %v, want %v", got, want)
	}
	wantCond := map[string]Condition{"migrate": ConditionCompleted, "cache": ConditionStarted, "web": ConditionHealthy}
	if !maps.Equal(api.DependsOnCond, wantCond) {
		t.Errorf("api DependsOnCond = %v, want %v (ready left out)", api.DependsOnCond, wantCond)
	}
	for dep, want := range map[string]Condition{"migrate": ConditionCompleted, "db": ConditionReady, "cache": ConditionStarted, "web": ConditionHealthy} {
		if got := api.DependencyCondition(dep); got != want {
			t.Errorf("api DependencyCondition(%s) = %s, want %s", dep, got, want)
		}
	}
	worker := c.Services["worker"]
	if worker.DependsOnCond != nil || worker.DependencyCondition("api") != ConditionReady {
		t.Errorf("list form: DependsOnCond = %v, condition of api %s, want nil and ready", worker.DependsOnCond, worker.DependencyCondition("api"))
	}
	if got := c.Services["watch"].DependencyCondition("migrate"); got != ConditionCompleted {
		t.Errorf("the built-in kind's condition of migrate = %s, want completed", got)
	}
	if got := c.Dependents("migrate"); !slices.Equal(got, []string{"api", "watch"}) {
		t.Errorf("Dependents(migrate) = %v", got)
	}
}

func TestDependsOnErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"not a list or mapping", "services:\n  db: {command: x}\n  api: {command: x, depends_on: db}\n", []string{
			"steward.yaml:3:33: depends_on must be a list of service names or a mapping of service names to conditions (started, ready, healthy or completed)",
		}},
		{"bad conditions", "services:\n  db: {command: x}\n  api: {command: x, depends_on: {db: done, dbb: ready, api: started, x: ~, y: [a]}}\n", []string{
			`steward.yaml:3:38: depends_on db: unknown condition "done", want started, ready, healthy or completed`,
			`steward.yaml:3:44: depends_on: unknown service "dbb" (did you mean "db"?)`,
			`steward.yaml:3:56: service "api" depends on itself`,
			"steward.yaml:3:73: depends_on x: want a condition: started, ready, healthy or completed",
			"steward.yaml:3:79: depends_on y must be a string",
		}},
		{"typo", "services:\n  db: {command: x}\n  api: {command: x, depends_on: {db: helthy}}\n", []string{
			`steward.yaml:3:38: depends_on db: unknown condition "helthy", want started, ready, healthy or completed (did you mean "healthy"?)`,
		}},
		{"twice", "services:\n  db: {command: x}\n  api:\n    command: x\n    depends_on:\n      db: ready\n      db: started\n", []string{
			`steward.yaml:7:7: depends_on lists "db" twice (first at 6:7)`,
		}},
		{"healthy without a health check", "services:\n  db: {command: x}\n  api: {command: x, depends_on: {db: healthy}}\n", []string{
			`steward.yaml:3:34: depends_on db: healthy, but service "db" has no health: check`,
		}},
		{"completed that restarts always", "services:\n  db: {command: x, restart: {policy: always}}\n  api: {command: x, depends_on: {db: completed}}\n", []string{
			`steward.yaml:3:34: depends_on db: completed, but service "db" has restart policy always and never completes`,
		}},
		{"cycle through the mapping form", "services:\n  a: {command: x, depends_on: {b: started}}\n  b: {command: x, depends_on: [a]}\n", []string{
			"steward.yaml:2:32: dependency cycle: a -> b -> a",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestDependsOnConditionDiff: a change of condition changes the service,
// and the mapping form with ready everywhere is the list form.
func TestDependsOnConditionDiff(t *testing.T) {
	base := "services:\n  db: {command: x}\n  api: {command: x, depends_on: %s}\n"
	parse := func(deps string) *Config { return mustParse(t, strings.Replace(base, "%s", deps, 1)) }
	list := parse("[db]")
	if d := Compare(list, parse("{db: ready}")); len(d.Changed) != 0 {
		t.Errorf("list form to {db: ready}: changed %v, want nothing", d.Changed)
	}
	if d := Compare(list, parse("{db: started}")); !slices.Equal(d.Changed, []string{"api"}) {
		t.Errorf("ready to started: changed %v, want [api]", d.Changed)
	}
}

// TestDependsOnRestart checks the long form of a dependency, {condition,
// restart}, next to the short one.
func TestDependsOnRestart(t *testing.T) {
	c := mustParse(t, `services:
  db: {command: x}
  cache: {command: x}
  queue: {command: x}
  api:
    command: x
    depends_on:
      db: {condition: ready, restart: true}
      cache: {restart: true}
      queue: {condition: started, restart: false}
`)
	api := c.Services["api"]
	if got, want := api.DependsOn, []string{"db", "cache", "queue"}; !slices.Equal(got, want) {
		t.Errorf("DependsOn = %v, want %v", got, want)
	}
	if got, want := api.DependsOnRestart, []string{"db", "cache"}; !slices.Equal(got, want) {
		t.Errorf("DependsOnRestart = %v, want %v", got, want)
	}
	if got := api.DependencyCondition("queue"); got != ConditionStarted {
		t.Errorf("condition of queue = %s, want started", got)
	}
	got := parseErrors(t, "services:\n  db: {command: x}\n  api: {command: x, depends_on: {db: {condition: done, restart: yes, when: x}}}\n")
	want := []string{
		`steward.yaml:3:50: depends_on db: unknown condition "done", want started, ready, healthy or completed`,
		`steward.yaml:3:65: depends_on db.restart must be true or false`,
		`steward.yaml:3:70: unknown key "when"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
