package proc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testprog is the path of the helper program TestMain builds.
var testprog string

// helperEnv switches the test binary into a helper program (see helpers).
const helperEnv = "PROC_TEST_HELPER"

func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		runHelper(h)
		os.Exit(0)
	}
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "proctest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Readable by all, for the test that runs testprog as another user.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	testprog = filepath.Join(dir, "testprog"+exeSuffix())
	build := exec.Command("go", "build", "-o", testprog, "github.com/stewardhq/steward/internal/testprog")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build testprog:", err)
		return 1
	}
	if err := Prepare(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

var tags atomic.Int64

// uniqueTag returns a tag no other process on this machine carries, so that
// KillTree and Sweep in these tests touch only what the tests started.
func uniqueTag(t *testing.T) string {
	return fmt.Sprintf("proctest.%d.%d.%s", os.Getpid(), tags.Add(1), strings.ReplaceAll(t.Name(), "/", "_"))
}

// spec returns a Spec that runs testprog with args and a unique tag.
func spec(t *testing.T, args ...string) Spec {
	return Spec{Path: testprog, Args: append([]string{testprog}, args...), Tag: uniqueTag(t)}
}

// child is a started process whose Wait runs in the background.
type child struct {
	*Process
	done  chan struct{}
	state *os.ProcessState
	err   error
}

// launch starts s and makes the test's cleanup kill its tree and wait for it.
func launch(t *testing.T, s Spec) *child {
	t.Helper()
	p, err := Start(s)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	c := &child{Process: p, done: make(chan struct{})}
	go func() {
		c.state, c.err = p.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		if err := p.KillTree(); err != nil {
			t.Errorf("cleanup: KillTree: %v", err)
		}
		<-c.done
	})
	return c
}

// wait returns the state Wait returned, failing the test after a while.
func (c *child) wait(t *testing.T) *os.ProcessState {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("process %d did not exit", c.Pid())
	}
	if c.err != nil {
		t.Fatalf("Wait: %v", c.err)
	}
	return c.state
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"-exit", "0"}, 0},
		{[]string{"-exit", "3"}, 3},
		{[]string{"-exit", "7", "-after", "20ms"}, 7},
		{[]string{"-sleep", "1ms"}, 0},
		{[]string{"-no-such-flag"}, 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			c := launch(t, spec(t, tt.args...))
			if got := c.wait(t).ExitCode(); got != tt.want {
				t.Errorf("exit code: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestStdoutStderr(t *testing.T) {
	dir := t.TempDir()
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	s := spec(t, "-print", "3", "-stderr", "hello", "-exit", "0")
	s.Stdout, s.Stderr = stdout, stderr
	launch(t, s).wait(t)

	out, _ := os.ReadFile(stdout.Name())
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "line 3 ") {
		t.Errorf("stdout: got %q, want 3 lines ending with line 3", out)
	}
	if got, _ := os.ReadFile(stderr.Name()); strings.TrimSpace(string(got)) != "hello" {
		t.Errorf("stderr: got %q, want %q", got, "hello\n")
	}
}

func TestNilOutputsGoToNullDevice(t *testing.T) {
	c := launch(t, spec(t, "-print", "1000", "-stderr", "x", "-exit", "4"))
	if got := c.wait(t).ExitCode(); got != 4 {
		t.Errorf("exit code: got %d, want 4", got)
	}
}

func TestLookPathInEnvPath(t *testing.T) {
	dir := filepath.Dir(testprog)
	s := spec(t, "-exit", "5")
	s.Path = "testprog"
	s.Env = append(os.Environ(), "PATH="+filepath.Join(dir, "nonexistent")+string(filepath.ListSeparator)+dir)
	if got := launch(t, s).wait(t).ExitCode(); got != 5 {
		t.Errorf("exit code: got %d, want 5", got)
	}
}

func TestStartErrors(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, filepath.Dir(testprog))
	if err != nil {
		t.Skip("testprog not reachable by a relative path:", err)
	}
	tests := []struct {
		name string
		spec Spec
		want error
	}{
		{"not in PATH", Spec{Path: "testprog", Env: []string{"PATH=" + t.TempDir()}}, exec.ErrNotFound},
		{"relative PATH entry", Spec{Path: "testprog", Env: []string{"PATH=" + rel}}, exec.ErrDot},
		{"missing file", Spec{Path: filepath.Join(t.TempDir(), "missing")}, os.ErrNotExist},
		{"missing dir", Spec{Path: testprog, Dir: filepath.Join(t.TempDir(), "missing")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start(tt.spec)
			if err == nil {
				p.KillTree()
				p.Wait()
				t.Fatal("Start: got no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Start: got %v, want an error wrapping %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "start ") {
				t.Errorf("Start: got %q, want it to start with the operation", err)
			}
		})
	}
}

func TestSignalUnknown(t *testing.T) {
	c := launch(t, spec(t))
	if err := c.Signal("BOGUS"); err == nil {
		t.Error("Signal(BOGUS): got no error")
	}
}

func TestSignalAfterWait(t *testing.T) {
	c := launch(t, spec(t, "-exit", "0"))
	c.wait(t)
	if err := c.Signal("TERM"); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("Signal after Wait: got %v, want os.ErrProcessDone", err)
	}
}

func TestKillTreeIsIdempotent(t *testing.T) {
	c := launch(t, spec(t, "-spawn", "1"))
	for i := range 2 {
		if err := c.KillTree(); err != nil {
			t.Fatalf("KillTree #%d: %v", i+1, err)
		}
	}
	c.wait(t)
	if err := c.KillTree(); err != nil {
		t.Fatalf("KillTree after Wait: %v", err)
	}
}

func TestChildEnv(t *testing.T) {
	env := []string{"A=1", TagVar + "=old", "B=2"}
	got := childEnv(env, "new")
	want := []string{"A=1", "B=2", TagVar + "=new"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("childEnv: got %q, want %q", got, want)
	}
	if got := childEnv(env, ""); strings.Join(got, ",") != strings.Join(env, ",") {
		t.Errorf("childEnv without tag: got %q, want %q", got, env)
	}
	if got := childEnv(nil, ""); len(got) != len(os.Environ()) {
		t.Errorf("childEnv(nil): got %d entries, want steward's %d", len(got), len(os.Environ()))
	}
	if v, ok := envValue([]string{"PATH=/a", "PATHX=/b", "PATH=/c"}, "PATH"); !ok || v != "/c" {
		t.Errorf("envValue: got %q, %v, want /c, true", v, ok)
	}
}

func TestSignalName(t *testing.T) {
	for _, s := range []string{"TERM", "term", "SIGTERM", "sigterm"} {
		if got := signalName(s); got != "TERM" {
			t.Errorf("signalName(%q): got %q, want TERM", s, got)
		}
	}
}

func BenchmarkStartWait(b *testing.B) {
	for b.Loop() {
		p, err := Start(Spec{Path: testprog, Args: []string{testprog, "-exit", "0"}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStartWaitKillTree(b *testing.B) {
	for b.Loop() {
		p, err := Start(Spec{Path: testprog, Args: []string{testprog, "-exit", "0"}, Tag: "proctest.bench"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Wait(); err != nil {
			b.Fatal(err)
		}
		if err := p.KillTree(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestErrUnsupported(t *testing.T) {
	err := errUnsupported("frobnicate")
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), runtime.GOOS) {
		t.Errorf("errUnsupported: got %v, want it to wrap errors.ErrUnsupported and name %s", err, runtime.GOOS)
	}
}
