package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/testwait"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update after checking):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

var psNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func psStatuses() []steward.ServiceStatus {
	one := 1
	return []steward.ServiceStatus{
		{Name: "web", Kind: "exec", State: steward.StateRunning, PID: 1234, Restarts: 2, Health: steward.HealthHealthy,
			Since: psNow.Add(-5*time.Minute - 3*time.Second), DependsOn: []string{"db"},
			CPUPercent: 12.5, RSSBytes: 39 << 20, Threads: 7, OpenFiles: 12},
		{Name: "db", Kind: "exec", State: steward.StateStopped, Health: steward.HealthUnknown,
			Since: psNow.Add(-3*time.Hour - 4*time.Minute), Reason: "stopped by 0:root"},
		{Name: "worker", Kind: "exec", State: steward.StateBackoff, Restarts: 5, Health: steward.HealthUnhealthy,
			Since: psNow.Add(-42 * time.Second), Reason: "exited with status 1", ExitCode: &one},
		{Name: "machine", Kind: "sysmon", State: steward.StateRunning, Health: steward.HealthUnknown,
			Since: psNow.Add(-51 * time.Hour)},
		{Name: "migrate", Kind: "exec", State: steward.StateExited, Health: steward.HealthUnknown},
	}
}

func TestPSGolden(t *testing.T) {
	for _, tt := range []struct {
		file   string
		asJSON bool
	}{
		{"ps.golden", false},
		{"ps.json.golden", true},
	} {
		var buf bytes.Buffer
		if err := printServices(&buf, psStatuses(), tt.asJSON, psNow); err != nil {
			t.Fatal(err)
		}
		golden(t, tt.file, buf.Bytes())
	}
}

// TestPSJSONContract checks the fields scripts rely on.
func TestPSJSONContract(t *testing.T) {
	var buf bytes.Buffer
	printServices(&buf, psStatuses(), true, psNow)
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"name", "kind", "state", "pid", "restarts", "health", "since"} {
		if _, ok := got[0][key]; !ok {
			t.Errorf("ps -o json lacks %q", key)
		}
	}
	if _, err := time.Parse(time.RFC3339, got[0]["since"].(string)); err != nil {
		t.Errorf("since is not RFC 3339: %v", err)
	}
	buf.Reset()
	printServices(&buf, nil, true, psNow)
	if got := strings.TrimSpace(buf.String()); got != "[]" {
		t.Errorf("no services as JSON = %q, want []", got)
	}
}

// cli is a steward API over in-memory parts, and the CLI pointed at it.
type cli struct {
	services *apitest.Services
	events   *apitest.Events
	configs  *apitest.Configs
	socket   string
	file     string
}

const cliConfig = "services:\n  web:\n    command: [sleep, \"100\"]\n  db:\n    command: [sleep, \"100\"]\n"

func newCLI(t *testing.T) *cli {
	t.Helper()
	t.Setenv("STEWARD_SOCKET", "")
	t.Setenv("STEWARD_CONFIG", "")
	t.Setenv("STEWARD_TOKEN", "")
	file := filepath.Join(t.TempDir(), "steward.yaml")
	if err := os.WriteFile(file, []byte(cliConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	configs, err := apitest.NewConfigs(file, []byte(cliConfig))
	if err != nil {
		t.Fatal(err)
	}
	c := &cli{
		services: apitest.NewServices(
			steward.ServiceStatus{Name: "web", Kind: "exec", State: steward.StateRunning, PID: 7, Health: steward.HealthHealthy, Since: time.Now()},
			steward.ServiceStatus{Name: "db", Kind: "exec", State: steward.StateStopped, Health: steward.HealthUnknown, Since: time.Now()},
		),
		events:  &apitest.Events{},
		configs: configs,
		file:    file,
	}
	s := api.New(api.Options{Services: c.services, Events: c.events, Configs: c.configs, Version: "test"})
	c.socket = apitest.Serve(t, s.Handler())
	return c
}

// run runs the CLI with --socket and returns the exit code and output.
func (c *cli) run(args ...string) (int, string, string) {
	return run(append([]string{"--socket", c.socket}, args...)...)
}

func run(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := execute(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// want checks a run's exit code and that its output contains each of out.
func want(t *testing.T, args []string, code int, gotCode int, stdout, stderr string, out ...string) {
	t.Helper()
	if gotCode != code {
		t.Errorf("%q: exit %d, want %d\nstdout: %s\nstderr: %s", args, gotCode, code, stdout, stderr)
	}
	for _, o := range out {
		if !strings.Contains(stdout+stderr, o) {
			t.Errorf("%q: output lacks %q\nstdout: %s\nstderr: %s", args, o, stdout, stderr)
		}
	}
	if code != 0 && strings.Count(stderr, "\n") > 1 && !strings.Contains(stderr, "nothing changed") {
		t.Errorf("%q: error takes more than one line: %q", args, stderr)
	}
}

func TestClientCommands(t *testing.T) {
	c := newCLI(t)
	c.services.LogOf("web").Add(
		logcap.Line{Time: time.Now(), Stream: logcap.Stdout, Text: "to stdout"},
		logcap.Line{Time: time.Now(), Stream: logcap.Stderr, Text: "to stderr"},
	)
	c.events.Record(steward.Event{Type: steward.EventState, Service: "web", From: steward.StateStarting, To: steward.StateRunning, PID: 7, Reason: "ready"})
	c.events.Record(steward.Event{Type: steward.EventSystem, Reason: "steward started"})

	tests := []struct {
		args []string
		code int
		out  []string
	}{
		{[]string{"ps"}, 0, []string{"NAME", "UPTIME/SINCE", "web", "running", "healthy", "db", "stopped"}},
		{[]string{"ps", "-o", "json"}, 0, []string{`"name": "web"`, `"since": "`}},
		{[]string{"ps", "-o", "yaml"}, 2, []string{`-o "yaml"`}},
		{[]string{"ps", "extra"}, 2, []string{"takes no arguments"}},
		{[]string{"ps", "--bogus"}, 2, []string{"unknown flag"}},
		{[]string{"start", "db"}, 0, []string{"db", "running", "4242"}},
		{[]string{"stop", "web", "db"}, 0, []string{"web", "stopped"}},
		{[]string{"restart", "--all", "-o", "json"}, 0, []string{`"state": "running"`}},
		{[]string{"stop", "--all"}, 0, []string{"stopped"}},
		{[]string{"start", "--all"}, 0, []string{"running"}},
		{[]string{"start"}, 2, []string{"name at least one service"}},
		{[]string{"stop", "--all", "web"}, 2, []string{"not both"}},
		{[]string{"restart", "nope"}, 1, []string{`steward: no service "nope"`}},
		{[]string{"logs", "web"}, 0, []string{"to stdout", "to stderr"}},
		{[]string{"logs", "-n", "1", "-o", "json", "web"}, 0, []string{`"stream":"stderr"`}},
		{[]string{"logs"}, 2, []string{"accepts 1 arg"}},
		{[]string{"logs", "-n", "-1", "web"}, 2, []string{"-n -1"}},
		{[]string{"logs", "nope"}, 1, []string{`no service "nope"`}},
		{[]string{"events"}, 0, []string{"TIME", "starting -> running (7)", "ready", "steward started"}},
		{[]string{"events", "--service", "web", "-o", "json"}, 0, []string{`"reason": "ready"`}},
		{[]string{"events", "--since", "1h"}, 0, []string{"ready"}},
		{[]string{"events", "--since", "2000-01-01T00:00:00Z", "-o", "json"}, 0, []string{`"id": 2`}},
		{[]string{"events", "--since", "yesterday"}, 2, []string{"--since"}},
		{[]string{"events", "-n", "0"}, 2, []string{"-n 0"}},
		{[]string{"config", "show"}, 0, []string{"services:\n  web:"}},
		{[]string{"config", "show", "-o", "json"}, 0, []string{`"version": 1`}},
		{[]string{"config"}, 2, []string{"want a subcommand"}},
		{[]string{"config", "history"}, 0, []string{"VERSION", "1 *", "startup"}},
		{[]string{"config", "history", "-o", "json"}, 0, []string{`"n": 1`}},
		{[]string{"config", "diff", "1"}, 2, []string{"accepts 2 arg"}},
		{[]string{"config", "diff", "1", "x"}, 2, []string{`"x" is not a config version`}},
		{[]string{"config", "diff", "x", "1"}, 2, []string{`"x" is not a config version`}},
		{[]string{"config", "diff", "1", "9"}, 1, []string{"config version 9 not found"}},
		{[]string{"config", "rollback", "0"}, 2, []string{"not a config version"}},
		{[]string{"config", "rollback", "9"}, 1, []string{"config version 9 not found"}},
	}
	for _, tt := range tests {
		code, stdout, stderr := c.run(tt.args...)
		want(t, tt.args, tt.code, code, stdout, stderr, tt.out...)
	}

	code, stdout, stderr := c.run("logs", "web")
	if stdout != "to stdout\n" || stderr != "to stderr\n" {
		t.Errorf("logs: code %d stdout %q stderr %q, want each stream on its own", code, stdout, stderr)
	}
}

func TestConfigChanges(t *testing.T) {
	c := newCLI(t)
	next := cliConfig + "  cache:\n    command: [sleep, \"1\"]\n"
	os.WriteFile(c.file, []byte(next), 0o600)
	code, stdout, stderr := c.run("reload")
	want(t, []string{"reload"}, 0, code, stdout, stderr, "config version 2 applied: 1 (cache) added, 0 changed, 0 removed")

	code, stdout, stderr = c.run("config", "diff", "1", "2")
	want(t, []string{"config diff"}, 0, code, stdout, stderr, "--- version 1\n+++ version 2\n", "+  cache:")
	code, stdout, stderr = c.run("config", "diff", "1", "2", "-o", "json")
	want(t, []string{"config diff -o json"}, 0, code, stdout, stderr, `"diff": "--- version 1`)

	code, stdout, stderr = c.run("config", "rollback", "1")
	want(t, []string{"config rollback"}, 0, code, stdout, stderr, "rolled back to version 1: config version 3 applied: 0 added, 0 changed, 1 (cache) removed")
	code, stdout, stderr = c.run("config", "rollback", "2", "-o", "json")
	want(t, []string{"config rollback -o json"}, 0, code, stdout, stderr, `"version": 4`, `"cache"`)

	os.WriteFile(c.file, []byte("services:\n  web: {}\n  db:\n    comand: [x]\n"), 0o600)
	code, stdout, stderr = c.run("reload")
	want(t, []string{"reload (invalid)"}, 1, code, stdout, stderr,
		c.file+`:2:3: service "web" has no command`, c.file+`:4:5: unknown key "comand"`, "nothing changed")
}

func TestSettingsChange(t *testing.T) {
	var buf bytes.Buffer
	cc := &clientCmd{stdout: &buf}
	a := steward.Applied{Version: 3}
	a.Diff.Changed = []string{"a", "b"}
	a.Diff.Settings = []string{"node"}
	a.Diff.Sections = []string{"checks", "notify"}
	printApplied(cc, "", a)
	if got, want := buf.String(), "config version 3 applied: 0 added, 2 (a, b) changed, 0 removed\n"+
		"changed checks, notify: applied\nchanged node: restart steward to apply\n"; got != want {
		t.Errorf("printApplied = %q, want %q", got, want)
	}
}

func TestFollowCommands(t *testing.T) {
	c := newCLI(t)
	type result struct {
		code           int
		stdout, stderr string
	}
	start := func(args ...string) chan result {
		ch := make(chan result, 1)
		go func() {
			code, stdout, stderr := c.run(args...)
			ch <- result{code, stdout, stderr}
		}()
		return ch
	}

	lg := c.services.LogOf("web")
	logs := start("logs", "-f", "web")
	testwait.For(t, 5*time.Second, "the logs subscription", func() bool { return lg.Subscribers() == 1 })
	lg.Add(logcap.Line{Time: time.Now(), Stream: logcap.Stdout, Text: "live line"})
	lg.Add(logcap.Line{Time: time.Now(), Stream: logcap.Stdout, Text: "after a gap", Missed: 3})
	lg.CloseSubscribers()
	r := <-logs
	want(t, []string{"logs -f"}, 0, r.code, r.stdout, r.stderr, "live line", "steward: 3 lines missed")

	evs := start("events", "-f")
	testwait.For(t, 5*time.Second, "the events subscription", func() bool { return c.events.Subscribers() == 1 })
	c.events.Record(steward.Event{Type: steward.EventConfig, Reason: "config version 2 applied"})
	c.events.CloseSubscribers()
	r = <-evs
	want(t, []string{"events -f"}, 0, r.code, r.stdout, r.stderr, "TIME", "config version 2 applied")

	evs = start("events", "-f", "-o", "json")
	testwait.For(t, 5*time.Second, "the events subscription", func() bool { return c.events.Subscribers() == 1 })
	c.events.CloseSubscribers()
	r = <-evs
	want(t, []string{"events -f -o json"}, 0, r.code, r.stdout, r.stderr, `{"id":1,`)
}

func TestFindTheAPI(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	withSocket := filepath.Join(dir, "with-socket.yaml")
	os.WriteFile(withSocket, []byte("api:\n  socket: "+c.socket+"\n"), 0o600)
	invalid := filepath.Join(dir, "invalid.yaml")
	os.WriteFile(invalid, []byte("api:\n  sockett: x\nnode: [\n"), 0o600)
	missing := filepath.Join(dir, "missing.yaml")
	gone := filepath.Join(dir, "gone.sock")
	// Errors outside data_dir and api.socket do not hide a running steward.
	elsewhere := filepath.Join(dir, "elsewhere.yaml")
	os.WriteFile(elsewhere, []byte("api:\n  socket: "+c.socket+"\n  listen: nowhere\nservices:\n  x: {}\nfuture_key: 1\n"), 0o600)
	badSocket := filepath.Join(dir, "bad-socket.yaml")
	os.WriteFile(badSocket, []byte("api:\n  socket: \"\"\n"), 0o600)

	code, stdout, stderr := run("-c", withSocket, "ps")
	want(t, []string{"-c FILE ps"}, 0, code, stdout, stderr, "web")

	t.Setenv("STEWARD_CONFIG", withSocket)
	code, stdout, stderr = run("ps")
	want(t, []string{"$STEWARD_CONFIG ps"}, 0, code, stdout, stderr, "web")

	code, stdout, stderr = run("-c", invalid, "ps")
	want(t, []string{"-c invalid ps"}, 1, code, stdout, stderr, "cannot find the API in "+invalid+", which has errors: "+invalid+":", "use --socket")
	code, stdout, stderr = run("-c", missing, "ps")
	want(t, []string{"-c missing ps"}, 1, code, stdout, stderr, "cannot find the API", "use --socket or -c")
	code, stdout, stderr = run("-c", elsewhere, "ps")
	want(t, []string{"-c elsewhere ps"}, 0, code, stdout, stderr, "web")
	code, stdout, stderr = run("-c", badSocket, "ps")
	want(t, []string{"-c bad-socket ps"}, 1, code, stdout, stderr, badSocket+":2:11: api.socket must not be empty", "use --socket")

	t.Setenv("STEWARD_SOCKET", c.socket)
	code, stdout, stderr = run("-c", missing, "ps")
	want(t, []string{"$STEWARD_SOCKET ps"}, 0, code, stdout, stderr, "web")

	code, stdout, stderr = run("--socket", gone, "ps")
	want(t, []string{"--socket gone ps"}, 1, code, stdout, stderr, "steward: steward is not running (no socket at "+gone+")\n")
	if stderr != "steward: steward is not running (no socket at "+gone+")\n" {
		t.Errorf("not running: stderr %q", stderr)
	}

	// With nothing set, the default config file, or the default socket.
	t.Setenv("STEWARD_SOCKET", "")
	t.Setenv("STEWARD_CONFIG", "")
	code, stdout, stderr = run("ps")
	if code != 1 || !strings.Contains(stderr, "steward: ") {
		t.Errorf("ps with the defaults: %d %q %q", code, stdout, stderr)
	}

	// TCP with a token from the environment.
	t.Setenv("STEWARD_TOKEN", "tok")
	code, stdout, stderr = run("--socket", "http://127.0.0.1:1", "ps")
	want(t, []string{"ps over TCP"}, 1, code, stdout, stderr, "steward is not reachable at http://127.0.0.1:1")
}

func TestCompletion(t *testing.T) {
	c := newCLI(t)
	code, stdout, stderr := c.run("completion", "bash")
	if code != 0 || !strings.Contains(stdout, "bash completion") {
		t.Errorf("completion bash: %d %.80q %q", code, stdout, stderr)
	}
	code, stdout, _ = c.run("__complete", "stop", "w")
	if code != 0 || !strings.Contains(stdout, "web\n") || strings.Contains(stdout, "db\n") {
		t.Errorf("complete stop w: %d %q", code, stdout)
	}
	code, stdout, _ = c.run("__complete", "events", "--service", "")
	if code != 0 || !strings.Contains(stdout, "web\n") || !strings.Contains(stdout, "db\n") {
		t.Errorf("complete events --service: %d %q", code, stdout)
	}
	code, stdout, _ = run("--socket", filepath.Join(t.TempDir(), "none"), "__complete", "logs", "")
	if code != 0 || strings.Contains(stdout, "web") {
		t.Errorf("complete without steward: %d %q", code, stdout)
	}
	code, stdout, _ = run("-c", filepath.Join(t.TempDir(), "none.yaml"), "__complete", "logs", "")
	if code != 0 || strings.Contains(stdout, "web") {
		t.Errorf("complete without a config: %d %q", code, stdout)
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {1499 * time.Millisecond, "1s"}, {59 * time.Second, "59s"}, {61 * time.Second, "1m1s"},
		{3*time.Hour + 4*time.Minute + 5*time.Second, "3h4m"}, {49 * time.Hour, "2d1h"},
	} {
		if got := duration(tt.d); got != tt.want {
			t.Errorf("duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestEventsBeyondTheCap checks that events -n beyond what the server
// returns at once says so on stderr, and -n within it does not.
func TestEventsBeyondTheCap(t *testing.T) {
	c := newCLI(t)
	for range steward.MaxEventLimit + 1 {
		c.events.Record(steward.Event{Type: steward.EventSystem, Reason: "tick"})
	}
	const note = "showing the newest 10000 events, the most steward returns at once; use --since for more"
	code, stdout, stderr := c.run("events", "-n", "20000", "-o", "json")
	if code != 0 || !strings.Contains(stderr, note) {
		t.Errorf("events -n 20000: exit %d, stderr %q, want 0 and %q", code, stderr, note)
	}
	if got := strings.Count(stdout, `"reason": "tick"`); got != steward.MaxEventLimit {
		t.Errorf("events -n 20000: %d events, want %d", got, steward.MaxEventLimit)
	}
	if code, _, stderr := c.run("events", "-n", "10000"); code != 0 || strings.Contains(stderr, "showing") {
		t.Errorf("events -n 10000: exit %d, stderr %q, want 0 and no note", code, stderr)
	}
}
