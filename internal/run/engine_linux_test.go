package run

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/proc"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/testwait"
)

func TestMain(m *testing.M) {
	if err := proc.Prepare(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The spawner threads proc starts on first use live as long as the
	// process: start them before any test counts goroutines.
	if _, err := proc.Run(context.Background(), proc.Command{Path: "true"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// realEngine is an engine with the real actions and clock over a real
// store, with the jobs of the YAML text jobs.
func realEngine(t *testing.T, jobs string) *Engine {
	t.Helper()
	testwait.NoLeak(t)
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{Store: st, Tag: "test." + strconv.Itoa(os.Getpid())})
	t.Cleanup(func() {
		e.Close()
		st.Close()
	})
	cfg, err := config.Parse("", []byte("data_dir: "+dir+"\njobs:\n"+jobs), config.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// gone reports whether process pid has exited (and is no zombie).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}

func TestTimeoutKillsTheWholeTree(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	e := realEngine(t, fmt.Sprintf("  slow: {command: ['sh', '-c', 'sleep 60 & echo $! > %s; echo started; wait'], timeout: 300ms}\n", pidFile))
	r, err := e.Trigger(context.Background(), "slow")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = e.Wait(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	if r.Status != steward.RunTimedOut || r.ExitCode == nil || *r.ExitCode != -1 {
		t.Fatalf("run: %s exit %v, want timed_out exit -1", r.Status, r.ExitCode)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	testwait.For(t, 5*time.Second, "the backgrounded sleep to be killed", func() bool { return gone(pid) })
	l, err := e.Logs(context.Background(), r.ID)
	if err != nil || l.Output != "started\n" {
		t.Errorf("logs = %q, %v; want %q", l.Output, err, "started\n")
	}
}

func TestCommandEnvAndExitCode(t *testing.T) {
	e := realEngine(t, "  env: {command: 'sh -c \"echo $GREETING $STEWARD_JOB $STEWARD_ATTEMPT; exit 3\"', env: {GREETING: hi}}\n")
	r, _ := e.Trigger(context.Background(), "env")
	r, err := e.Wait(context.Background(), r.ID)
	if err != nil || r.Status != steward.RunFailed || r.ExitCode == nil || *r.ExitCode != 3 {
		t.Fatalf("run: %+v, %v; want failed with exit 3", r, err)
	}
	if l, _ := e.Logs(context.Background(), r.ID); l.Output != "hi env 1\n" {
		t.Errorf("output %q, want %q", l.Output, "hi env 1\n")
	}
}

func TestCommandKeepsTheEndOfItsOutput(t *testing.T) {
	e := realEngine(t, "  chatty: {command: ['sh', '-c', 'head -c 100000 /dev/zero | tr \"\\\\0\" x; echo END']}\n")
	r, _ := e.Trigger(context.Background(), "chatty")
	if r, err := e.Wait(context.Background(), r.ID); err != nil || r.Status != steward.RunSucceeded {
		t.Fatalf("run: %+v, %v", r, err)
	}
	l, err := e.Logs(context.Background(), r.ID)
	if err != nil || len(l.Output) != MaxOutput || !strings.HasSuffix(l.Output, "xxxEND\n") || !l.Truncated {
		t.Errorf("logs: %d bytes ending %q, truncated %v, %v; want the last %d, ending END", len(l.Output), l.Output[max(len(l.Output)-8, 0):], l.Truncated, err, MaxOutput)
	}
}

func TestHTTPAction(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, "queued")
	}))
	defer srv.Close()
	e := realEngine(t, fmt.Sprintf("  ok: {http: {url: %q, method: POST, expect: 202}}\n  bad: {http: {url: %q}}\n", srv.URL, srv.URL))
	for _, tt := range []struct {
		job  string
		want steward.RunStatus
		code int
	}{{"ok", steward.RunSucceeded, 202}, {"bad", steward.RunFailed, 405}} {
		r, _ := e.Trigger(context.Background(), tt.job)
		r, err := e.Wait(context.Background(), r.ID)
		if err != nil || r.Status != tt.want || r.ExitCode == nil || *r.ExitCode != tt.code {
			t.Errorf("%s: %+v, %v; want %s with %d", tt.job, r, err, tt.want, tt.code)
		}
	}
}
