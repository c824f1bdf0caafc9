package supervise

import (
	"slices"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
)

// TestDependencyRestartRestartsDependents: when a dependency crashes after
// it was ready and steward restarts it, a dependent with restart: true on
// it restarts once the dependency runs again, and one without keeps
// running untouched.
func TestDependencyRestartRestartsDependents(t *testing.T) {
	f := startFakes(t, `
services:
  db:
    command: [db]
    restart: {policy: always, backoff: 0s}
  api:
    command: [api]
    depends_on: {db: {condition: ready, restart: true}}
  worker:
    command: [worker]
    depends_on: [db]
`)
	if err := f.sup.Start(f.ctx(), nil); err != nil {
		t.Fatal(err)
	}
	f.proc("db", 1)
	f.proc("api", 1)
	f.proc("worker", 1)
	f.waitState("api", steward.StateRunning)
	f.waitState("worker", steward.StateRunning)

	f.proc("db", 1).Exit(1)
	f.proc("db", 2)
	f.waitState("db", steward.StateRunning)
	f.proc("api", 2) // restarted with db
	st := f.waitState("api", steward.StateRunning)
	if st.Restarts != 1 {
		t.Errorf("api restarts = %d, want 1", st.Restarts)
	}
	if n := f.procs.count("worker"); n != 1 {
		t.Errorf("worker started %d times, want 1: without restart: true it keeps running", n)
	}
	if got := f.events.reasons("api", steward.EventState); !containsPrefix(got, "dependency db restarted") {
		t.Errorf("api's reasons %q lack the dependency's restart", got)
	}

}

func containsPrefix(list []string, prefix string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, prefix) })
}
