package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// runUnder starts `steward run` from sh after the shell command limit (a
// ulimit) and waits until its API answers.
func (e *env) runUnder(limit string) *runningSteward {
	e.t.Helper()
	sh := exec.Command("/bin/sh", "-c", limit+` && exec "$0" "$@"`, stewardBin, "run", "-c", e.config)
	sh.Env = command().Env
	return e.start(sh, func() error { return e.psWithin(5 * time.Second) })
}

// psWithin runs `steward ps` on the socket and fails when it does not
// succeed within d.
func (e *env) psWithin(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, stewardBin, "--socket", filepath.Join(e.dir, "steward.sock"), "ps")
	cmd.Env = command().Env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ps on the socket: %v (within %v: %v)\n%s", err, d, ctx.Err() == nil, out)
	}
	return nil
}

// TestTCPFloodSparesSupervision opens many more kept-alive TCP connections
// than steward has descriptors (a ulimit -n of 128): the local socket
// must keep answering and a crashing service keep being restarted.
func TestTCPFloodSparesSupervision(t *testing.T) {
	port := freePort(t)
	e := newEnv(t, fmt.Sprintf(`
api: {listen: "127.0.0.1:%d"}
services:
  crash:
    command: ["{{prog}}", "-exit", "1", "-after", "50ms"]
    restart: {policy: always, backoff: 20ms, max_backoff: 50ms, max_restarts: 1000, window: 1s}
`, port))
	e.runUnder("ulimit -n 128")

	const conns = 400
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		for _, c := range open {
			c.Close()
		}
	})
	for range conns {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			// One request, then the connection stays open, idle.
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: steward\r\n\r\n")
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()

	if err := e.psWithin(10 * time.Second); err != nil {
		t.Fatalf("with %d TCP connections opened: %v", conns, err)
	}
	before := e.ps()["crash"].Restarts
	testwait.NoError(t, 20*time.Second, func() error {
		st := e.ps()["crash"]
		if st.State == steward.StateFailed {
			t.Fatalf("crash failed for good: %s", st.Reason)
		}
		if st.Restarts < before+3 {
			return fmt.Errorf("crash restarted %d times since the flood, want 3 (%s: %s)", st.Restarts-before, st.State, st.Reason)
		}
		return nil
	})
	// The TCP listener still answers too.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	if err != nil {
		t.Fatalf("GET /healthz after the flood: %v", err)
	}
	resp.Body.Close()
}

// TestChildrenKeepTheSoftFileLimit starts steward with a soft
// RLIMIT_NOFILE below the hard one: steward runs with the hard one (Go's
// runtime raises it at start), its services get the soft one back.
func TestChildrenKeepTheSoftFileLimit(t *testing.T) {
	e := newEnv(t, `
services:
  nap: {command: ["sh", "-c", "ulimit -n > {{dir}}/nofile.tmp && mv {{dir}}/nofile.tmp {{dir}}/nofile && exec sleep 1000"]}
`)
	d := e.runUnder("ulimit -S -n 200")
	var got []byte
	testwait.NoError(t, 10*time.Second, func() error {
		var err error
		got, err = os.ReadFile(filepath.Join(e.dir, "nofile"))
		return err
	})
	if strings.TrimSpace(string(got)) != "200" {
		t.Errorf("the service's soft RLIMIT_NOFILE is %q, want 200, steward's own soft limit at start", got)
	}
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", d.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Max open files\s+(\d+)\s+(\d+)`).FindSubmatch(limits)
	if m == nil {
		t.Fatalf("no open files limit in:\n%s", limits)
	}
	soft, _ := strconv.Atoi(string(m[1]))
	hard, _ := strconv.Atoi(string(m[2]))
	if soft < hard-1 {
		t.Errorf("steward's own RLIMIT_NOFILE is %d (hard %d), want it raised to the hard limit", soft, hard)
	}
}
