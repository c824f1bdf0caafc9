package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// natsServer starts a standalone nats-server (Debian's package; scripts/
// test.sh installs it) with JetStream and one user, steward with password,
// and returns its client address. Without the binary the test skips.
func natsServer(t *testing.T, password string) string {
	t.Helper()
	return natsServerWith(t, fmt.Sprintf("authorization {users: [{user: steward, password: %q}]}", password))
}

// natsServerWith starts a standalone nats-server with JetStream and the
// configuration extra (its authorization), and returns its client address.
func natsServerWith(t *testing.T, extra string) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/nats-server"); err != nil {
			t.Skip("nats-server is not installed (apt-get install nats-server; scripts/test.sh does)")
		}
		bin = "/usr/sbin/nats-server"
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf(`host: %s
port: %s
jetstream {store_dir: %q, max_memory_store: 64MB, max_file_store: 256MB}
%s
`, host, port, dir, extra)
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "-c", path)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("nats-server's log:\n%s", logs)
		}
	})
	testwait.NoError(t, 20*time.Second, func() error {
		select {
		case <-done:
			t.Fatalf("nats-server exited:\n%s", logs)
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err
	})
	return addr
}

// TestBusURLE2E: with bus.url steward joins a standalone nats-server of
// another make (Debian's build) instead of embedding one: its streams, its
// events, the dead letters and the micro services are there, and the
// services get a NATS_URL to it.
func TestBusURLE2E(t *testing.T) {
	addr := natsServer(t, "s3cret pass")
	e := newEnv(t, fmt.Sprintf(`node: edge
bus:
  url: nats://%s
  user: steward
  password: "s3cret pass"
  streams:
    orders: {subjects: ["orders.>"], dead_letter: {max_deliver: 2}}
services:
  plugin:
    command: [sh, -c, 'printf %%s "$NATS_URL" > "{{dir}}/url.tmp" && mv "{{dir}}/url.tmp" "{{dir}}/worker.url" && exec "{{prog}}" -micro adder']
`, addr))
	e.run()
	e.waitState("plugin", steward.StateRunning)

	var streams []steward.BusStream
	testwait.NoError(t, 20*time.Second, func() error {
		code, out, stderr := e.steward("bus", "streams", "-o", "json")
		if code != 0 {
			return fmt.Errorf("bus streams: exit %d: %s", code, stderr)
		}
		if err := json.Unmarshal([]byte(out), &streams); err != nil {
			return err
		}
		var names []string
		for _, s := range streams {
			names = append(names, s.Name)
		}
		// The deployment is shared: steward's streams carry the node's name.
		if got := strings.Join(names, " "); !strings.Contains(got, "STEWARD_EVENTS_edge") || !strings.Contains(got, "orders") {
			return fmt.Errorf("streams %s, want STEWARD_EVENTS_edge and orders", got)
		}
		return nil
	})
	code, out, stderr := e.steward("bus", "sub", "steward.edge.event.state.plugin", "--since", "1h", "--count", "1", "-o", "json")
	var m steward.BusMessage
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m.Stream != "STEWARD_EVENTS_edge" || m.Type != "event" {
		t.Errorf("an event from the standalone server: exit %d: %s%s", code, out, stderr)
	}

	// The plugin, with the NATS_URL it got, is a micro service there.
	testwait.NoError(t, 20*time.Second, func() error {
		code, out, stderr := e.steward("bus", "services")
		if code != 0 || !strings.Contains(out, "adder.echo") {
			return fmt.Errorf("bus services: exit %d: %s%s", code, out, stderr)
		}
		return nil
	})
	if code, out, stderr := e.steward("bus", "req", "adder.echo", "over there"); code != 0 || strings.TrimSpace(out) != "over there" {
		t.Errorf("bus req adder.echo: exit %d: %q %s", code, out, stderr)
	}

	// Dead letters work with that server's advisories.
	_, js := workerJS(t, e, "")
	cons, err := js.CreateOrUpdateConsumer(context.Background(), "orders", jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 2})
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr = e.steward("bus", "pub", "orders.new", "order 1")
	if code != 0 || !strings.Contains(out, "stored in orders as 1") {
		t.Fatalf("bus pub: exit %d: %s%s", code, out, stderr)
	}
	nakToDeath(t, cons)
	d := deadLetters(t, e, 1)[0]
	if d.Subject != "orders.new" || d.Consumer != "worker" || d.Reason != "max_deliveries" {
		t.Errorf("dead letter %+v", d)
	}
	if code, out, stderr := e.steward("bus", "dlq", "replay", fmt.Sprint(d.ID)); code != 0 || !strings.Contains(out, "stored in orders as 2") {
		t.Errorf("bus dlq replay: exit %d: %s%s", code, out, stderr)
	}
}
