package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// natsJS returns node and the nats.js client script, or skips t: the
// script needs testdata/natsjs/node_modules, which scripts/test.sh makes
// with npm ci.
func natsJS(t *testing.T) (node, script string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the nats.js test needs Node.js 18 or newer")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "natsjs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "nats", "package.json")); err != nil {
		t.Skipf("nats.js is not installed: run npm ci in %s (scripts/test.sh does)", dir)
	}
	return node, filepath.Join(dir, "client.cjs")
}

// TestNatsJSE2E: a service that is a nats.js client connects to bus.listen
// with nothing but its NATS_URL, hears what steward publishes and steward's
// events, answers steward's requests, and publishes into a stream through
// JetStream, deduplicated by its message id.
func TestNatsJSE2E(t *testing.T) {
	node, script := natsJS(t)
	addr := freeAddr(t)
	e := newEnv(t, fmt.Sprintf(`node: e2e
bus:
  listen: %s
  streams: {JSORDERS: {subjects: ["jsorders.>"]}}
services:
  jsclient:
    command: [%s, %s]
  other:
    command: [{{prog}}, sleep, 1h]
`, addr, node, script))
	e.run()
	e.waitState("jsclient", steward.StateRunning)
	logs := func() string {
		_, out, _ := e.steward("logs", "-n", "200", "jsclient")
		return out
	}
	testwait.NoError(t, 30*time.Second, func() error {
		if out := logs(); !strings.Contains(out, "js ready") {
			return fmt.Errorf("nats.js is not ready; its log:\n%s", out)
		}
		return nil
	})
	out := logs()
	for _, want := range []string{
		"js stored stream=JSORDERS seq=1 duplicate=false",
		"js stored stream=JSORDERS seq=1 duplicate=true",
		"js stream info: JSORDERS messages=1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("nats.js printed no %q:\n%s", want, out)
		}
	}

	// steward → nats.js: a message, a request, an event.
	if code, _, stderr := e.steward("bus", "pub", "js.in", "hello nats.js"); code != 0 {
		t.Fatalf("bus pub: exit %d: %s", code, stderr)
	}
	testwait.For(t, 10*time.Second, "nats.js heard the message", func() bool { return strings.Contains(logs(), "js heard: hello nats.js") })
	code, reply, stderr := e.steward("bus", "req", "js.echo", "ping", "--timeout", "5s")
	if code != 0 || !strings.Contains(reply, "pong: ping") {
		t.Errorf("bus req js.echo: exit %d, %q, %s", code, reply, stderr)
	}
	if code, _, stderr := e.steward("restart", "other"); code != 0 {
		t.Fatalf("restart other: exit %d: %s", code, stderr)
	}
	testwait.For(t, 10*time.Second, "nats.js heard steward's event", func() bool {
		return strings.Contains(logs(), "js event: steward.e2e.event.state.other")
	})

	// nats.js → steward: what it stored is replayed by steward.
	code, sub, stderr := e.steward("bus", "sub", "jsorders.new", "--since", "1h", "--count", "1", "-o", "json")
	if code != 0 || !strings.Contains(sub, "from nats.js") {
		t.Errorf("bus sub jsorders.new: exit %d, %q, %s", code, sub, stderr)
	}
}
