package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

// TestOnExitExitEndsRun: a service with on_exit: exit ends `steward run`
// with its exit status (or exit_code), after every service has stopped.
func TestOnExitExitEndsRun(t *testing.T) {
	for _, tt := range []struct {
		name, extra string
		want        int
	}{
		{"status", "", 7},
		{"exit_code", "\n    exit_code: 3", 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, `
services:
  other:
    command: ["{{prog}}", "-sleep", "1h", "-write-pid", "{{dir}}/other.pid"]
  job:
    command: ["{{prog}}", "-exit", "7", "-after", "500ms"]
    depends_on: [other]
    on_exit: exit`+tt.extra+`
`)
			d := e.run()
			select {
			case <-d.done:
			case <-time.After(20 * time.Second):
				t.Fatal("steward run did not exit")
			}
			ee, ok := d.err.(*exec.ExitError)
			if !ok || ee.ExitCode() != tt.want {
				t.Fatalf("steward run ended with %v, want exit status %d\n%s", d.err, tt.want, d.logs)
			}
			if pid := readPids(t, e.dir+"/other.pid", 1)[0]; alive(pid) {
				t.Errorf("other (pid %d) still runs after steward exited", pid)
			}
		})
	}
}

// TestOnExitStopAllKeepsRunning: on_exit: stop-all stops every service and
// steward keeps serving.
func TestOnExitStopAllKeepsRunning(t *testing.T) {
	e := newEnv(t, `
services:
  db:
    command: ["{{prog}}", "-sleep", "1h"]
  job:
    command: ["{{prog}}", "-exit", "0", "-after", "300ms"]
    depends_on: [db]
    on_exit: stop-all
`)
	e.run()
	if st := e.waitState("job", steward.StateExited); !strings.Contains(st.Reason, "on_exit: stop-all") {
		t.Errorf("job reason %q", st.Reason)
	}
	e.waitState("db", steward.StateStopped)
}

// TestInfo: steward info names the OS, the data dir and the capabilities,
// with the tree mechanism proc reports.
func TestInfo(t *testing.T) {
	e := newEnv(t, "services:\n  a: {command: [\"{{prog}}\", \"-sleep\", \"1h\"]}\n")
	e.run()
	code, out, stderr := e.steward("info", "-o", "json")
	if code != 0 {
		t.Fatalf("info: exit %d: %s", code, stderr)
	}
	var info steward.Info
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("info -o json: %v\n%s", err, out)
	}
	caps := map[string]steward.Capability{}
	for _, c := range info.Capabilities {
		caps[c.Name] = c
	}
	if info.OS != "linux" || info.PID == 0 || info.DataDir != e.dir || info.ServiceManager == "" {
		t.Errorf("info = %+v", info)
	}
	tree := caps["tree mechanism"]
	if tree.Detail != "marker" && tree.Detail != "cgroup v1 (pids)" && tree.Detail != "cgroup v2" {
		t.Errorf("tree mechanism = %+v", tree)
	}
	for _, name := range []string{"process groups", "pidfd", "subreaper", "sd_notify", "oom detection", "syslog", "event log", "job objects", "kernel limits"} {
		if _, ok := caps[name]; !ok {
			t.Errorf("no capability %q in %+v", name, info.Capabilities)
		}
	}
	if !caps["subreaper"].Available || caps["job objects"].Available {
		t.Errorf("subreaper %+v, job objects %+v; want only the first on linux", caps["subreaper"], caps["job objects"])
	}
	if code, out, _ := e.steward("info"); code != 0 || !strings.Contains(out, "CAPABILITY") || !strings.Contains(out, tree.Detail) {
		t.Errorf("info: exit %d:\n%s", code, out)
	}
}
