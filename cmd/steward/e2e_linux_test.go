package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// The integration tests run the real steward binary, built once in
// TestMain (with -cover when STEWARD_COVDIR names a directory for its
// coverage data, and with -race when the tests run with it), against the
// helper program internal/testprog.
var (
	stewardBin string
	testprog   string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "steward-e2e")
	if err != nil {
		panic(err)
	}
	stewardBin = filepath.Join(dir, "steward")
	testprog = filepath.Join(dir, "testprog")
	args := []string{"build", "-o", stewardBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	if os.Getenv("STEWARD_COVDIR") != "" {
		args = append(args, "-cover", "-coverpkg=github.com/stewardhq/steward/...")
	}
	for _, build := range [][]string{
		append(args, "."),
		{"build", "-o", testprog, "github.com/stewardhq/steward/internal/testprog"},
	} {
		if out, err := exec.Command("go", build...).CombinedOutput(); err != nil {
			panic(fmt.Sprintf("go %s: %v\n%s", strings.Join(build, " "), err, out))
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is a directory with a config file for one steward.
type env struct {
	t      *testing.T
	dir    string
	config string
}

// newEnv writes yaml (with {{prog}} and {{dir}} replaced) as the config of a
// fresh data dir.
func newEnv(t *testing.T, yaml string) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	e.config = filepath.Join(e.dir, "steward.yaml")
	e.write(yaml)
	return e
}

func (e *env) write(yaml string) {
	e.t.Helper()
	yaml = strings.ReplaceAll(yaml, "{{prog}}", testprog)
	yaml = strings.ReplaceAll(yaml, "{{dir}}", e.dir)
	if err := os.WriteFile(e.config, []byte("data_dir: .\n"+yaml), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// command returns steward with args, its coverage going to STEWARD_COVDIR.
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(stewardBin, args...)
	// A race-enabled binary otherwise sleeps a second at every exit.
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	if d := os.Getenv("STEWARD_COVDIR"); d != "" {
		cmd.Env = append(cmd.Env, "GOCOVERDIR="+d)
	}
	return cmd
}

// steward runs a client command against e's steward and returns its exit
// code, stdout and stderr.
func (e *env) steward(args ...string) (int, string, string) {
	e.t.Helper()
	cmd := command(append([]string{"-c", e.config}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("steward %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, out.String(), errOut.String()
}

// runningSteward is a running `steward run`.
type runningSteward struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed when the process has exited, with err set
	err  error
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// run starts `steward run` and waits until its API answers.
func (e *env) run() *runningSteward {
	e.t.Helper()
	return e.start(command("run", "-c", e.config), func() error {
		if code, _, stderr := e.steward("ps"); code != 0 {
			return fmt.Errorf("ps: %s", stderr)
		}
		return nil
	})
}

// start starts cmd, a `steward run`, stops it when the test ends, and
// waits until answers returns nil.
func (e *env) start(cmd *exec.Cmd, answers func() error) *runningSteward {
	e.t.Helper()
	d := &runningSteward{cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	e.t.Cleanup(func() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(20 * time.Second):
			d.cmd.Process.Kill()
		}
		if e.t.Failed() {
			e.t.Logf("steward's log:\n%s", d.logs)
		}
	})
	testwait.NoError(e.t, 20*time.Second, func() error {
		select {
		case <-d.done:
			e.t.Fatalf("steward run exited: %v\n%s", d.err, d.logs)
		default:
		}
		return answers()
	})
	return d
}

// ps returns the services as `steward ps -o json` reports them.
// stewardStatus returns the status of service name from the API at socket.
func (e *env) stewardStatus(socket, name string) steward.ServiceStatus {
	e.t.Helper()
	code, out, stderr := e.steward("--socket", socket, "ps", "-o", "json")
	if code != 0 {
		e.t.Fatalf("ps -o json: exit %d: %s", code, stderr)
	}
	var list []steward.ServiceStatus
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatalf("ps -o json: %v\n%s", err, out)
	}
	for _, s := range list {
		if s.Name == name {
			return s
		}
	}
	e.t.Fatalf("no service %q in ps", name)
	return steward.ServiceStatus{}
}

func (e *env) ps() map[string]steward.ServiceStatus {
	e.t.Helper()
	// By socket: ps must work while the config file has errors.
	code, out, stderr := e.steward("--socket", filepath.Join(e.dir, "steward.sock"), "ps", "-o", "json")
	if code != 0 {
		e.t.Fatalf("ps -o json: exit %d: %s", code, stderr)
	}
	var list []steward.ServiceStatus
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatalf("ps -o json: %v\n%s", err, out)
	}
	m := map[string]steward.ServiceStatus{}
	for _, s := range list {
		m[s.Name] = s
	}
	return m
}

// waitState waits until service name is in state want and returns it.
func (e *env) waitState(name string, want steward.State) steward.ServiceStatus {
	e.t.Helper()
	var st steward.ServiceStatus
	testwait.NoError(e.t, 20*time.Second, func() error {
		st = e.ps()[name]
		if st.State != want {
			return fmt.Errorf("%s is %q (%s), want %s", name, st.State, st.Reason, want)
		}
		return nil
	})
	return st
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || !bytes.HasPrefix(stat[i+1:], []byte(" Z"))
}

func readPids(t *testing.T, path string, want int) []int {
	t.Helper()
	var pids []int
	testwait.NoError(t, 10*time.Second, func() error {
		data, _ := os.ReadFile(path)
		pids = pids[:0]
		for _, f := range strings.Fields(string(data)) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return err
			}
			pids = append(pids, n)
		}
		if len(pids) < want {
			return fmt.Errorf("%s lists %d pids, want %d", path, len(pids), want)
		}
		return nil
	})
	return pids
}

func TestValidate(t *testing.T) {
	e := newEnv(t, `
services:
  a:
    command: ["{{prog}}"]
    depends_on: [b]
  b:
    command: ["{{prog}}"]
    depends_on: [a]
    restart: {backoff: soon}
  c:
    comand: x
`)
	code, _, stderr := e.steward("validate")
	if code != 1 {
		t.Fatalf("validate of a bad file: exit %d, want 1", code)
	}
	for _, want := range []string{
		e.config + ":10:24: ",                      // bad duration
		e.config + ":12:5: unknown key \"comand\"", // typo
		"dependency cycle: a -> b -> a",            // the cycle
		e.config + ":11:3: ",                       // c has no command
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	e.write("services:\n  a: {command: [\"{{prog}}\"]}\n")
	if code, out, stderr := e.steward("validate"); code != 0 || !strings.Contains(out, "ok, 1 services") {
		t.Errorf("validate of a good file: exit %d, %q %q", code, out, stderr)
	}
	if code, _, _ := e.steward("validate", "extra"); code != 2 {
		t.Errorf("validate with an argument: exit %d, want 2", code)
	}
}

func TestRunControlAndShutdown(t *testing.T) {
	e := newEnv(t, `
services:
  db:
    command: ["{{prog}}", "-ready-line", "db ready", "-ready-after", "100ms"]
    ready: {log: "db ready", timeout: 10s}
  api:
    command: ["{{prog}}", "-spawn", "1", "-orphan", "1", "-pidfile", "{{dir}}/api.pids", "-stderr", "api says hi"]
    depends_on: [db]
  job:
    command: ["{{prog}}", "-exit", "0"]
`)
	d := e.run()
	db := e.waitState("db", steward.StateRunning)
	api := e.waitState("api", steward.StateRunning)
	e.waitState("job", steward.StateExited)
	if db.Kind != "exec" || db.Health != steward.HealthUnknown || db.Since.IsZero() || db.PID <= 0 {
		t.Errorf("ps -o json fields: %+v", db)
	}
	pids := append(readPids(t, filepath.Join(e.dir, "api.pids"), 2), api.PID, db.PID)

	// The table names every service.
	if code, out, _ := e.steward("ps"); code != 0 || !strings.Contains(out, "api") || !strings.Contains(out, "running") {
		t.Errorf("ps: exit %d:\n%s", code, out)
	}
	// Stop and start one service by name.
	if code, _, stderr := e.steward("stop", "api"); code != 0 {
		t.Fatalf("stop api: exit %d: %s", code, stderr)
	}
	if st := e.ps()["api"]; st.State != steward.StateStopped {
		t.Errorf("after stop: %s", st.State)
	}
	if code, _, stderr := e.steward("start", "api"); code != 0 {
		t.Fatalf("start api: exit %d: %s", code, stderr)
	}
	if st := e.ps()["api"]; st.State != steward.StateRunning || st.PID == api.PID {
		t.Errorf("after start: %s pid %d (old %d)", st.State, st.PID, api.PID)
	}
	pids = append(pids, readPids(t, filepath.Join(e.dir, "api.pids"), 2)...)
	if code, _, stderr := e.steward("stop", "nope"); code != 1 || !strings.Contains(stderr, "nope") {
		t.Errorf("stop nope: exit %d: %s", code, stderr)
	}
	// stderr lines of the service come out on stderr.
	if code, _, stderr := e.steward("logs", "-n", "5", "api"); code != 0 || !strings.Contains(stderr, "api says hi") {
		t.Errorf("logs api: exit %d:\n%s", code, stderr)
	}
	if code, out, _ := e.steward("events", "-o", "json"); code != 0 || !strings.Contains(out, `"to": "running"`) {
		t.Errorf("events: exit %d:\n%s", code, out)
	}

	// SIGTERM: everything stops in order, steward exits 0, nothing survives.
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		if d.err != nil {
			t.Fatalf("steward run after SIGTERM: %v\n%s", d.err, d.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("steward did not exit after SIGTERM")
	}
	testwait.NoError(t, 5*time.Second, func() error {
		for _, p := range pids {
			if alive(p) {
				return fmt.Errorf("pid %d outlived steward", p)
			}
		}
		return nil
	})
	if code, _, stderr := e.steward("ps"); code != 1 || !strings.Contains(stderr, "not running") {
		t.Errorf("ps without steward: exit %d: %q", code, stderr)
	}
}

func TestSIGKILLLeavesNoOrphans(t *testing.T) {
	e := newEnv(t, `
services:
  tree:
    command: ["{{prog}}", "-spawn", "2", "-orphan", "2", "-pidfile", "{{dir}}/tree.pids"]
`)
	d := e.run()
	st := e.waitState("tree", steward.StateRunning)
	pids := readPids(t, filepath.Join(e.dir, "tree.pids"), 4)
	os.Remove(filepath.Join(e.dir, "tree.pids"))

	d.cmd.Process.Kill()
	<-d.done
	// The direct child dies with steward (pdeathsig).
	testwait.NoError(t, 5*time.Second, func() error {
		if alive(st.PID) {
			return fmt.Errorf("direct child %d outlived steward's SIGKILL", st.PID)
		}
		return nil
	})
	// The next steward on the same data dir sweeps the rest at start-up.
	e.run()
	testwait.NoError(t, 10*time.Second, func() error {
		for _, p := range pids {
			if alive(p) {
				return fmt.Errorf("grandchild %d survived steward's SIGKILL and restart", p)
			}
		}
		return nil
	})
	e.waitState("tree", steward.StateRunning)
}
