package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

func TestReloadOnSIGHUP(t *testing.T) {
	e := newEnv(t, `
services:
  keep: {command: ["{{prog}}"]}
  drop: {command: ["{{prog}}"]}
`)
	d := e.run()
	keep := e.waitState("keep", steward.StateRunning)
	e.waitState("drop", steward.StateRunning)

	// An invalid file changes nothing.
	e.write("services:\n  keep: {command: []}\n")
	d.cmd.Process.Signal(syscall.SIGHUP)
	testwait.NoError(t, 10*time.Second, func() error {
		if !strings.Contains(d.logs.String(), "reload on SIGHUP rejected") {
			return fmt.Errorf("no rejection logged")
		}
		return nil
	})
	if ps := e.ps(); ps["keep"].PID != keep.PID || ps["drop"].State != steward.StateRunning {
		t.Fatalf("invalid reload changed services: %+v", ps)
	}

	e.write(`
services:
  keep: {command: ["{{prog}}"]}
  add: {command: ["{{prog}}"]}
`)
	d.cmd.Process.Signal(syscall.SIGHUP)
	e.waitState("add", steward.StateRunning)
	ps := e.ps()
	if _, ok := ps["drop"]; ok {
		t.Errorf("removed service still listed")
	}
	if ps["keep"].PID != keep.PID {
		t.Errorf("unchanged service restarted: pid %d → %d", keep.PID, ps["keep"].PID)
	}
}

// TestReloadMovesTheAPI changes api and web with a reload: the API moves to
// its new socket and ports at once, the services keep running, and a port
// that cannot be had leaves the API where it was.
func TestReloadMovesTheAPI(t *testing.T) {
	e := newEnv(t, "services:\n  a: {command: [\"{{prog}}\"]}\n")
	e.run()
	a := e.waitState("a", steward.StateRunning)
	oldSocket, newSocket := filepath.Join(e.dir, "steward.sock"), filepath.Join(e.dir, "moved.sock")
	port, webPort := freePort(t), freePort(t)
	moved := fmt.Sprintf("api: {socket: moved.sock, listen: \"127.0.0.1:%d\"}\nweb: {listen: \"127.0.0.1:%d\"}\n", port, webPort)
	e.write(moved + "services:\n  a: {command: [\"{{prog}}\"]}\n")
	code, out, stderr := e.steward("--socket", oldSocket, "reload")
	if code != 0 || !strings.Contains(out, "changed api, web: applied") {
		t.Fatalf("reload moving the API: exit %d: %s%s", code, out, stderr)
	}
	if _, err := os.Stat(oldSocket); err == nil {
		t.Error("the old socket is still there")
	}
	code, out, stderr = e.steward("ps") // finds moved.sock in the file
	if code != 0 || !strings.Contains(out, "a ") {
		t.Fatalf("ps on the new socket: exit %d: %s%s", code, out, stderr)
	}
	if st := e.stewardStatus(newSocket, "a"); st.PID != a.PID {
		t.Errorf("a restarted by moving the API: pid %d → %d", a.PID, st.PID)
	}
	status := func(port int) int {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/v1/services", port))
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, p := range []int{port, webPort} {
		if got := status(p); got != http.StatusUnauthorized {
			t.Errorf("GET /v1/services on :%d after the reload: %d, want 401", p, got)
		}
	}

	// A port another process holds: the reload fails and changes nothing.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	e.write(fmt.Sprintf("api: {socket: moved.sock, listen: %q}\nservices:\n  a: {command: [\"{{prog}}\"]}\n", taken.Addr().String()))
	code, out, stderr = e.steward("reload")
	if code != 1 || !strings.Contains(stderr, "the API listens as before") {
		t.Errorf("reload onto a taken port: exit %d: %s%s", code, out, stderr)
	}
	for _, p := range []int{port, webPort} {
		if got := status(p); got != http.StatusUnauthorized {
			t.Errorf("GET /v1/services on :%d after the failed reload: %d, want 401", p, got)
		}
	}
	if code, out, stderr := e.steward("config", "history"); code != 0 || strings.Count(out, "\n") != 3 {
		t.Errorf("config history after a failed reload, want the header and 2 versions: exit %d:\n%s%s", code, out, stderr)
	}
}

func TestConfigHistoryDiffRollback(t *testing.T) {
	e := newEnv(t, `
services:
  a: {command: ["{{prog}}"]}
`)
	e.run()
	a := e.waitState("a", steward.StateRunning)

	e.write(`
services:
  a: {command: ["{{prog}}"]}
  b: {command: ["{{prog}}"]}
`)
	code, out, stderr := e.steward("reload")
	if code != 0 || !strings.Contains(out, "config version 2 applied: 1 (b) added, 0 changed, 0 removed") {
		t.Fatalf("reload: exit %d: %s %s", code, out, stderr)
	}
	e.waitState("b", steward.StateRunning)

	// An invalid file is rejected with its positions and changes nothing.
	os.WriteFile(e.config, []byte("data_dir: .\nservices:\n  a: {command: [\"x\"], restart: {policy: sometimes}}\n"), 0o600)
	code, _, stderr = e.steward("--socket", filepath.Join(e.dir, "steward.sock"), "reload")
	if code != 1 || !strings.Contains(stderr, e.config+":3:") {
		t.Fatalf("invalid reload: exit %d: %s", code, stderr)
	}
	sock := []string{"--socket", filepath.Join(e.dir, "steward.sock")}
	var versions []struct {
		N      int    `json:"n"`
		Source string `json:"source"`
	}
	code, out, stderr = e.steward(append(sock, "config", "history", "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &versions); code != 0 || err != nil {
		t.Fatalf("config history: exit %d: %v %s %s", code, err, out, stderr)
	}
	if len(versions) != 2 || versions[0].N != 2 || versions[1].Source != "startup" {
		t.Errorf("versions = %+v, want 2 (newest first, the first from startup)", versions)
	}
	code, out, _ = e.steward(append(sock, "config", "diff", "1", "2")...)
	if code != 0 || !strings.Contains(out, "+  b: {command:") {
		t.Errorf("config diff 1 2: exit %d:\n%s", code, out)
	}
	code, out, stderr = e.steward(append(sock, "config", "rollback", "1")...)
	if code != 0 || !strings.Contains(out, "config version 3 applied") {
		t.Fatalf("rollback: exit %d: %s %s", code, out, stderr)
	}
	ps := e.ps()
	if _, ok := ps["b"]; ok {
		t.Error("b still there after rolling back to version 1")
	}
	if ps["a"].PID != a.PID {
		t.Errorf("rollback restarted the unchanged service a")
	}
	if code, _, stderr := e.steward(append(sock, "config", "rollback", "99")...); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("rollback 99: exit %d: %s", code, stderr)
	}
	if code, out, _ := e.steward(append(sock, "config", "show")...); code != 0 || strings.Contains(out, "  b:") {
		t.Errorf("config show after rollback: exit %d:\n%s", code, out)
	}
}

// TestReloadOutlivesKilledClient: `steward reload` is killed while a
// changed service that ignores SIGTERM is still stopping. The reload
// completes all the same: the changed service runs again, the added one
// runs, and the history holds the version.
func TestReloadOutlivesKilledClient(t *testing.T) {
	const slow = `  slow: {command: ["{{prog}}", "-ignore-term"], env: {V: "%d"}, stop: {timeout: 1500ms}}` + "\n"
	e := newEnv(t, "services:\n"+fmt.Sprintf(slow, 1))
	e.run()
	old := e.waitState("slow", steward.StateRunning)
	e.write("services:\n" + fmt.Sprintf(slow, 2) + "  fresh: {command: [\"{{prog}}\"]}\n")

	reload := command("-c", e.config, "reload")
	if err := reload.Start(); err != nil {
		t.Fatal(err)
	}
	kill := time.AfterFunc(500*time.Millisecond, func() { reload.Process.Kill() })
	defer kill.Stop()
	var ee *exec.ExitError
	if err := reload.Wait(); !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("steward reload ended before it was killed (%v): the test proves nothing", err)
	}

	testwait.NoError(t, 15*time.Second, func() error {
		if st := e.ps()["slow"]; st.State != steward.StateRunning || st.PID == old.PID {
			return fmt.Errorf("slow is %s, pid %d (%s); want running again, not pid %d", st.State, st.PID, st.Reason, old.PID)
		}
		return nil
	})
	e.waitState("fresh", steward.StateRunning)
	testwait.NoError(t, 10*time.Second, func() error {
		if code, out, stderr := e.steward("config", "history"); code != 0 || strings.Count(out, "\n") != 3 {
			return fmt.Errorf("config history, want the header and 2 versions: exit %d:\n%s%s", code, out, stderr)
		}
		return nil
	})
}
