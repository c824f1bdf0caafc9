package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// natsCLI returns the nats CLI (scripts/test.sh installs it), or skips t.
func natsCLI(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nats"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "nats")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("the nats CLI is not installed: go install github.com/nats-io/natscli/nats@v0.5.0")
	return ""
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestBusE2E: a service that is the nats CLI, with nothing but its
// NATS_URL, hears what `steward bus pub` publishes; steward's events are on
// the bus; wrong credentials are refused.
func TestBusE2E(t *testing.T) {
	nats := natsCLI(t)
	addr := freeAddr(t)
	config := `node: e2e.node
bus: {listen: %s%s}
services:
  listener:
    command: [%s, sub, --raw, "greet.>"]
    env: {XDG_CONFIG_HOME: "{{dir}}", HOME: "{{dir}}"}
    restart: {policy: always, backoff: 100ms, max_restarts: 100}
`
	e := newEnv(t, fmt.Sprintf(config, addr, "", nats))
	e.run()
	e.waitState("listener", steward.StateRunning)

	testwait.NoError(t, 20*time.Second, func() error {
		if code, _, stderr := e.steward("bus", "pub", "greet.world", "hello from steward"); code != 0 {
			return fmt.Errorf("bus pub: exit %d: %s", code, stderr)
		}
		_, out, _ := e.steward("logs", "-n", "50", "listener")
		if !strings.Contains(out, "hello from steward") {
			return errors.New("the listener has not printed the message yet:\n" + out)
		}
		return nil
	})

	// The listener's start is an event on the bus, replayed from its stream.
	code, out, stderr := e.steward("bus", "sub", "steward.e2e_node.event.state.listener", "--since", "1h", "--count", "1", "-o", "json")
	if code != 0 {
		t.Fatalf("bus sub: exit %d: %s", code, stderr)
	}
	var m steward.BusMessage
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("bus sub -o json: %v\n%s", err, out)
	}
	var ev steward.Event
	if err := json.Unmarshal([]byte(m.Data), &ev); err != nil || ev.Type != steward.EventState || ev.Service != "listener" || m.Stream != "STEWARD_EVENTS" || m.Type != "event" {
		t.Errorf("event on the bus: %+v (data %+v, %v)", m, ev, err)
	}

	code, out, _ = e.steward("bus", "streams", "-o", "json")
	var streams []steward.BusStream
	if code != 0 || json.Unmarshal([]byte(out), &streams) != nil || len(streams) != 1 || streams[0].Messages == 0 {
		t.Errorf("bus streams: exit %d: %s", code, out)
	}

	// A reload that adds a stream and changes the events' max age restarts
	// no service, and the stream takes what is published on its subjects.
	pid := e.waitState("listener", steward.StateRunning).PID
	e.write(fmt.Sprintf(config, addr, ", events: {max_age: 48h}, streams: {greetings: {subjects: [\"greet.>\"]}}", nats))
	if code, out, stderr := e.steward("reload"); code != 0 {
		t.Fatalf("reload: exit %d: %s%s", code, out, stderr)
	}
	code, out, stderr = e.steward("bus", "pub", "greet.kept", "stored")
	if code != 0 || !strings.Contains(out, "stored in greetings as 1") {
		t.Errorf("bus pub into a stream: exit %d: %s%s", code, out, stderr)
	}
	code, out, _ = e.steward("bus", "streams", "-o", "json")
	if code != 0 || json.Unmarshal([]byte(out), &streams) != nil || len(streams) != 2 {
		t.Errorf("bus streams after the reload: exit %d: %s", code, out)
	}
	for _, st := range streams {
		if st.Name == "STEWARD_EVENTS" && st.MaxAge != 48*time.Hour {
			t.Errorf("STEWARD_EVENTS max age %v after the reload, want 48h", st.MaxAge)
		}
	}
	if now := e.ps()["listener"]; now.PID != pid || now.State != steward.StateRunning {
		t.Errorf("the listener after the reload of bus: pid %d (%s), want %d running", now.PID, now.State, pid)
	}

	// No one answers: a clear error, exit 1.
	code, _, stderr = e.steward("bus", "req", "nobody.home", "hi", "--timeout", "2s")
	if code != 1 || !strings.Contains(stderr, "no service answers on nobody.home") {
		t.Errorf("bus req without responders: exit %d: %s", code, stderr)
	}
	// Bad input: exit 1 with the reason, or 2 for a usage error.
	if code, _, stderr := e.steward("bus", "pub", "greet.*", "x"); code != 1 || !strings.Contains(stderr, "wildcards") {
		t.Errorf("bus pub on a wildcard: exit %d: %s", code, stderr)
	}
	if code, _, _ := e.steward("bus", "pub"); code != 2 {
		t.Errorf("bus pub without a subject: exit %d, want 2", code)
	}

	// Wrong or no credentials are refused.
	for _, url := range []string{"nats://listener:wrong@" + addr, "nats://" + addr} {
		cmd := exec.Command(nats, "--server", url, "pub", "greet.x", "intruder")
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+e.dir, "HOME="+e.dir)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(strings.ToLower(string(out)), "authorization violation") {
			t.Errorf("nats pub to %s: %v\n%s, want refused", url, err, out)
		}
	}
}

// TestNoBusE2E: a configuration without bus: starts nothing of NATS.
func TestNoBusE2E(t *testing.T) {
	e := newEnv(t, `services:
  a: {command: ["{{prog}}"]}
`)
	e.run()
	code, _, stderr := e.steward("bus", "streams")
	if code != 1 || !strings.Contains(stderr, "no bus configured") {
		t.Errorf("bus streams without a bus: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "bus")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data_dir/bus: %v, want none", err)
	}
}
