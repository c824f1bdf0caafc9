package supervise

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/proc"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

// testprog is the path of the helper program built once for all tests.
var testprog string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "supervise-test")
	if err != nil {
		panic(err)
	}
	testprog = filepath.Join(dir, "testprog")
	out, err := exec.Command("go", "build", "-o", testprog, "github.com/stewardhq/steward/internal/testprog").CombinedOutput()
	if err != nil {
		panic(fmt.Sprintf("build testprog: %v\n%s", err, out))
	}
	if err := proc.Prepare(); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// harness is a supervisor over a real store, with the config given as YAML.
type harness struct {
	t     *testing.T
	dir   string
	sup   *Supervisor
	rec   *events.Recorder
	store *store.Store
}

// start parses yaml (with {{prog}} replaced by the helper program's path)
// and returns a supervisor over it, closed when the test ends.
func start(t *testing.T, yaml string) *harness {
	t.Helper()
	h, _ := startWith(t, yaml, nil, nil)
	return h
}

func (h *harness) parse(yaml string) *config.Config {
	h.t.Helper()
	yaml = strings.ReplaceAll(yaml, "{{prog}}", testprog)
	yaml = strings.ReplaceAll(yaml, "{{dir}}", h.dir)
	if !strings.Contains(yaml, "data_dir:") {
		yaml = "data_dir: " + h.dir + "\n" + yaml
	}
	cfg, err := config.Parse(filepath.Join(h.dir, "steward.yaml"), []byte(yaml),
		config.Registry{Kinds: map[string]config.KindSchema{testKind: {}}})
	if err != nil {
		h.t.Fatalf("parse config: %v", err)
	}
	return cfg
}

// waitState waits until the service is in state want.
func (h *harness) waitState(name string, want steward.State) steward.ServiceStatus {
	h.t.Helper()
	var st steward.ServiceStatus
	testwait.NoError(h.t, 10*time.Second, func() error {
		var err error
		st, err = h.sup.Get(name)
		if err != nil {
			return err
		}
		if st.State != want {
			return fmt.Errorf("%s is %s (%s), want %s", name, st.State, st.Reason, want)
		}
		return nil
	})
	return st
}

// events returns the state events of the service, oldest first.
func (h *harness) events(name string) []steward.Event {
	h.t.Helper()
	evs, err := h.rec.List(context.Background(), store.EventFilter{Service: name, Limit: 100000})
	if err != nil {
		h.t.Fatal(err)
	}
	return evs
}

func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie has exited; field 3 is the state.
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || !strings.HasPrefix(string(stat[i+1:]), " Z")
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestStartRunStop(t *testing.T) {
	h := start(t, `
services:
  a:
    command: ["{{prog}}"]
`)
	if err := h.sup.Start(ctx(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	st := h.waitState("a", steward.StateRunning)
	if st.PID <= 0 || !alive(st.PID) {
		t.Fatalf("pid %d not alive", st.PID)
	}
	if err := h.sup.Stop(ctx(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if got := h.waitState("a", steward.StateStopped); got.PID != 0 {
		t.Errorf("pid after stop = %d, want 0", got.PID)
	}
	testwait.NoError(t, 5*time.Second, func() error {
		if alive(st.PID) {
			return fmt.Errorf("pid %d still alive", st.PID)
		}
		return nil
	})
	var got []string
	for _, e := range h.events("a") {
		got = append(got, string(e.From)+">"+string(e.To))
	}
	want := []string{"stopped>starting", "starting>running", "running>stopping", "stopping>stopped"}
	if !slices.Equal(got, want) {
		t.Errorf("transitions = %v, want %v", got, want)
	}
}

func TestUnknownService(t *testing.T) {
	h := start(t, `
services:
  a: {command: ["{{prog}}"]}
`)
	for name, err := range map[string]error{
		"start":   h.sup.Start(ctx(t), []string{"nope"}),
		"stop":    h.sup.Stop(ctx(t), []string{"nope"}),
		"restart": h.sup.Restart(ctx(t), []string{"nope"}),
	} {
		if steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("%s: err = %v, want not found", name, err)
		}
	}
	if _, err := h.sup.Get("nope"); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("get: err = %v", err)
	}
	if _, err := h.sup.Log("nope"); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("log: err = %v", err)
	}
}

func TestRestartPolicy(t *testing.T) {
	tests := []struct {
		name, policy string
		code         int
		want         steward.State
		restarts     bool
	}{
		{"on-failure clean exit", "on-failure", 0, steward.StateExited, false},
		{"on-failure crash", "on-failure", 3, steward.StateFailed, true},
		{"never crash", "never", 3, steward.StateFailed, false},
		{"never clean", "never", 0, steward.StateExited, false},
		{"always clean exit", "always", 0, steward.StateFailed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, fmt.Sprintf(`
services:
  a:
    command: ["{{prog}}", "-exit", "%d", "-after", "10ms"]
    restart: {policy: %s, backoff: 0s, max_restarts: 3, window: 1m}
`, tt.code, tt.policy))
			h.sup.StartAll()
			st := h.waitState("a", tt.want)
			if got := st.Restarts > 0; got != tt.restarts {
				t.Errorf("restarts = %d, want restarts: %v", st.Restarts, tt.restarts)
			}
			if tt.restarts && st.Restarts != 3 {
				t.Errorf("restarts = %d, want 3 (max_restarts)", st.Restarts)
			}
			if tt.restarts && !strings.Contains(st.Reason, "restart intensity exceeded: 3 restarts within 1m0s") {
				t.Errorf("reason = %q", st.Reason)
			}
			if st.ExitCode == nil || *st.ExitCode != tt.code {
				t.Errorf("exit code = %v, want %d", st.ExitCode, tt.code)
			}
		})
	}
}

func TestManualStopIsNotUndone(t *testing.T) {
	h := start(t, `
services:
  a:
    command: ["{{prog}}"]
    restart: {policy: always, backoff: 0s}
`)
	if err := h.sup.Start(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	if err := h.sup.Stop(ctx(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	// A second request is answered only after the loop handled the exit.
	h.sup.service("a").send(reqStop)
	st, _ := h.sup.Get("a")
	if st.State != steward.StateStopped || st.Restarts != 0 {
		t.Fatalf("after manual stop: %s, %d restarts (%s)", st.State, st.Restarts, st.Reason)
	}
}

func TestStopEscalatesToKill(t *testing.T) {
	h := start(t, `
services:
  a:
    command: ["{{prog}}", "-ignore-term"]
    ready: {after: 100ms}
    stop: {timeout: 200ms}
`)
	if err := h.sup.Start(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := h.sup.Stop(ctx(t), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 200*time.Millisecond {
		t.Errorf("stopped after %s, before stop.timeout: TERM was not ignored?", took)
	}
	if st := h.waitState("a", steward.StateStopped); !strings.Contains(st.Reason, "killed") {
		t.Errorf("reason = %q, want it to say killed", st.Reason)
	}
}

func TestStopKillsWholeTree(t *testing.T) {
	h := start(t, `
services:
  a:
    command: ["{{prog}}", "-spawn", "2", "-orphan", "2", "-pidfile", "{{dir}}/pids"]
`)
	if err := h.sup.Start(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	var pids []int
	testwait.NoError(t, 5*time.Second, func() error {
		data, _ := os.ReadFile(filepath.Join(h.dir, "pids"))
		pids = pids[:0]
		for _, f := range strings.Fields(string(data)) {
			n, _ := strconv.Atoi(f)
			pids = append(pids, n)
		}
		if len(pids) < 4 {
			return fmt.Errorf("pids = %v, want 4", pids)
		}
		return nil
	})
	for _, p := range pids {
		if !alive(p) {
			t.Fatalf("grandchild %d not running before the stop", p)
		}
	}
	if err := h.sup.Stop(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	testwait.NoError(t, 5*time.Second, func() error {
		for _, p := range pids {
			if alive(p) {
				return fmt.Errorf("grandchild %d survived the stop", p)
			}
		}
		return nil
	})
}

func TestDependencyOrder(t *testing.T) {
	h := start(t, `
services:
  db:
    command: ["{{prog}}", "-ready-line", "db up", "-ready-after", "150ms"]
    ready: {log: "db up", timeout: 5s}
  api:
    command: ["{{prog}}"]
    depends_on: [db]
  web:
    command: ["{{prog}}"]
    depends_on: [api]
`)
	if err := h.sup.Start(ctx(t), []string{"web"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"db", "api", "web"} {
		h.waitState(n, steward.StateRunning)
	}
	runningAt := func(name string) int64 {
		for _, e := range h.events(name) {
			if e.To == steward.StateRunning {
				return e.ID
			}
		}
		t.Fatalf("%s never ran", name)
		return 0
	}
	db, api, web := runningAt("db"), runningAt("api"), runningAt("web")
	if !(db < api && api < web) {
		t.Errorf("running event ids db=%d api=%d web=%d, want increasing", db, api, web)
	}
	var waited bool
	for _, e := range h.events("api") {
		waited = waited || (e.To == steward.StateStarting && strings.Contains(e.Reason, "waiting for db"))
	}
	if !waited {
		t.Errorf("api never said it waited for db: %v", h.events("api"))
	}

	// Shutdown stops dependents first.
	if err := h.sup.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
	stoppedAt := func(name string) int64 {
		evs := h.events(name)
		return evs[len(evs)-1].ID
	}
	if !(stoppedAt("web") < stoppedAt("api") && stoppedAt("api") < stoppedAt("db")) {
		t.Errorf("stop order: web=%d api=%d db=%d, want web, api, db", stoppedAt("web"), stoppedAt("api"), stoppedAt("db"))
	}
}

func TestFailedDependency(t *testing.T) {
	h := start(t, `
services:
  db:
    command: ["{{prog}}", "-exit", "2", "-after", "20ms"]
    ready: {after: 5s}
    restart: {policy: never}
  api:
    command: ["{{prog}}"]
    depends_on: [db]
`)
	err := h.sup.Start(ctx(t), []string{"api"})
	if err == nil {
		t.Fatal("start succeeded although db failed")
	}
	st := h.waitState("api", steward.StateFailed)
	if !strings.Contains(st.Reason, "dependency db failed") {
		t.Errorf("reason = %q", st.Reason)
	}
	for _, e := range h.events("api") {
		if e.PID != 0 {
			t.Errorf("api was started: %+v", e)
		}
	}
}

func TestReadiness(t *testing.T) {
	port := freePort(t)
	httpPort := freePort(t)
	tests := []struct {
		name, svc string
		ok        bool
	}{
		{"after", `{command: ["{{prog}}"], ready: {after: 50ms}}`, true},
		{"tcp", fmt.Sprintf(`{command: ["{{prog}}", "-listen", "127.0.0.1:%d", "-listen-after", "100ms"], ready: {tcp: "127.0.0.1:%d", timeout: 5s}}`, port, port), true},
		{"http", fmt.Sprintf(`{command: ["{{prog}}", "-http", "127.0.0.1:%d"], ready: {http: "http://127.0.0.1:%d/health", timeout: 5s}}`, httpPort, httpPort), true},
		{"exec", `{command: ["{{prog}}"], ready: {exec: ["{{prog}}", "-exit", "0"], timeout: 5s}}`, true},
		{"exec fails", `{command: ["{{prog}}"], ready: {exec: ["{{prog}}", "-exit", "1"], timeout: 300ms}, restart: {policy: never}}`, false},
		{"log", `{command: ["{{prog}}", "-ready-line", "listening now", "-ready-after", "50ms"], ready: {log: "listening \\w+", timeout: 5s}}`, true},
		{"log after a burst", `{command: ["{{prog}}", "-print", "20000", "-ready-line", "burst over"], ready: {log: "burst over", timeout: 10s}}`, true},
		{"log timeout", `{command: ["{{prog}}"], ready: {log: "never", timeout: 200ms}, restart: {policy: never}}`, false},
		{"tcp timeout", `{command: ["{{prog}}"], ready: {tcp: "127.0.0.1:1", timeout: 200ms}, restart: {policy: never}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, "services:\n  a: "+tt.svc+"\n")
			err := h.sup.Start(ctx(t), nil)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				st := h.waitState("a", steward.StateRunning)
				if st.Reason != "ready" {
					t.Errorf("reason = %q, want ready", st.Reason)
				}
				return
			}
			if err == nil {
				t.Fatal("start succeeded, want not ready")
			}
			st := h.waitState("a", steward.StateFailed)
			if !strings.Contains(st.Reason, "not ready within") || !strings.HasSuffix(st.Reason, "; restart policy never") {
				t.Errorf("reason = %q", st.Reason)
			}
		})
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestStartFailsPermanently(t *testing.T) {
	h := start(t, `
services:
  a: {command: ["/nonexistent/program"]}
`)
	if err := h.sup.Start(ctx(t), nil); err == nil {
		t.Fatal("start of a missing program succeeded")
	}
	st := h.waitState("a", steward.StateFailed)
	if !strings.HasPrefix(st.Reason, "start: ") || !strings.HasSuffix(st.Reason, "no such file or directory; not retried") {
		t.Errorf("reason = %q", st.Reason)
	}
}

func TestEnvironmentAndLogs(t *testing.T) {
	h := start(t, `
services:
  a:
    command: ["sh", "-c", "echo A=$A B=$B S=$STEWARD_SERVICE; pwd; echo oops >&2; printf partial"]
    env: {A: "1"}
    env_file: {{dir}}/env
    working_dir: {{dir}}
`)
	os.WriteFile(filepath.Join(h.dir, "env"), []byte("# comment\nexport B=\"two words\"\nA=overridden\n"), 0o600)
	if err := h.sup.Start(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	h.waitState("a", steward.StateExited) // exit 0 under the default policy, on-failure
	lg, _ := h.sup.Log("a")
	testwait.NoError(t, 5*time.Second, func() error {
		var got []string
		for _, l := range lg.Tail(10) {
			got = append(got, l.Stream+":"+l.Text)
		}
		want := []string{"stdout:A=1 B=two words S=a", "stdout:" + h.dir, "stderr:oops", "stdout:partial"}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return fmt.Errorf("lines = %q, want %q", got, want)
		}
		return nil
	})
}

func TestApply(t *testing.T) {
	h := start(t, `
services:
  keep: {command: ["{{prog}}"]}
  change: {command: ["{{prog}}"]}
  drop: {command: ["{{prog}}"]}
`)
	if err := h.sup.Start(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	before := map[string]int{}
	for _, st := range h.sup.List() {
		before[st.Name] = st.PID
	}
	cfg := h.parse(`
services:
  keep: {command: ["{{prog}}"]}
  change: {command: ["{{prog}}", "-stderr", "v2"]}
  add: {command: ["{{prog}}"], depends_on: [keep]}
`)
	diff, err := h.sup.Apply(ctx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Diff{Added: []string{"add"}, Removed: []string{"drop"}, Changed: []string{"change"}, Unchanged: []string{"keep"}}
	if fmt.Sprint(diff) != fmt.Sprint(want) {
		t.Errorf("diff = %+v, want %+v", diff, want)
	}
	if st := h.waitState("keep", steward.StateRunning); st.PID != before["keep"] {
		t.Errorf("unchanged service restarted: pid %d → %d", before["keep"], st.PID)
	}
	if st := h.waitState("change", steward.StateRunning); st.PID == before["change"] {
		t.Errorf("changed service kept pid %d", st.PID)
	}
	h.waitState("add", steward.StateRunning)
	if _, err := h.sup.Get("drop"); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("removed service still listed: %v", err)
	}
	testwait.NoError(t, 5*time.Second, func() error {
		if alive(before["drop"]) {
			return fmt.Errorf("removed service's pid %d alive", before["drop"])
		}
		return nil
	})
	if got := h.sup.Config(); got != cfg {
		t.Error("Config() is not the applied config")
	}
}

// TestApplyLogLimits changes a service's logs settings: the restarted
// service's output rotates by the new ones.
func TestApplyLogLimits(t *testing.T) {
	const chatty = `["sh", "-c", "i=0; while [ $i -lt 40 ]; do echo line-$i-padded-to-about-sixty-bytes-xxxxxxxxxxxxxxxxx; i=$((i+1)); done; echo done; exec sleep 1000"]`
	h := start(t, "services:\n  a: {command: "+chatty+"}\n")
	if err := h.sup.Start(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	lg, _ := h.sup.Log("a")
	// waitDone waits for the n-th instance to have written all its lines.
	waitDone := func(n int) {
		t.Helper()
		testwait.NoError(t, 5*time.Second, func() error {
			done := 0
			for _, l := range lg.Tail(1000) {
				if l.Text == "done" {
					done++
				}
			}
			if done != n {
				return fmt.Errorf("%d instances done, want %d", done, n)
			}
			return nil
		})
	}
	waitDone(1)
	if rotated, _ := filepath.Glob(lg.Path() + ".*"); len(rotated) > 0 {
		t.Fatalf("rotated under the default max size: %q", rotated)
	}
	if _, err := h.sup.Apply(ctx(t), h.parse("services:\n  a: {command: "+chatty+", logs: {max_size: 1KB, keep: 1, compress: gzip}}\n")); err != nil {
		t.Fatal(err)
	}
	h.waitState("a", steward.StateRunning)
	waitDone(2)
	if st, err := os.Stat(lg.Path()); err != nil || st.Size() > 1000 {
		t.Errorf("%s after the new max size of 1KB: %v, %v", lg.Path(), st, err)
	}
	// Compression and pruning run in the background.
	testwait.NoError(t, 10*time.Second, func() error {
		rotated, _ := filepath.Glob(lg.Path() + ".*")
		if len(rotated) != 1 || !strings.HasSuffix(rotated[0], ".gz") {
			return fmt.Errorf("rotated files %q, want one compressed under keep: 1", rotated)
		}
		return nil
	})
}

func TestRestart(t *testing.T) {
	h := start(t, `
services:
  a: {command: ["{{prog}}"]}
  b: {command: ["{{prog}}"], disabled: true}
`)
	if err := h.sup.Start(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.sup.Get("b"); st.State != steward.StateStopped {
		t.Errorf("disabled service started by start --all: %s", st.State)
	}
	old, _ := h.sup.Get("a")
	if err := h.sup.Restart(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	st := h.waitState("a", steward.StateRunning)
	if st.PID == old.PID {
		t.Errorf("restart kept pid %d", st.PID)
	}
	if st, _ := h.sup.Get("b"); st.State != steward.StateStopped {
		t.Errorf("restart --all started the stopped service b: %s", st.State)
	}
	if err := h.sup.Restart(ctx(t), []string{"b"}); err != nil {
		t.Fatal(err)
	}
	h.waitState("b", steward.StateRunning)
}
