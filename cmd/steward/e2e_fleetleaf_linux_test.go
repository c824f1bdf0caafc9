package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestFleetLeaf: two agents that join a hub as leaf nodes, over mutual TLS,
// are a fleet with it: each lists the others, --node reaches from one agent to the other
// through the hub, each agent keeps its events stream in its own
// JetStream, and an agent whose hub is gone still answers for itself.
func TestFleetLeaf(t *testing.T) {
	dir := t.TempDir()
	secret := fleetSecret(t)
	ca := newTestCA(t, dir, "fleet-ca")
	tlsOf := func(name string) string {
		cert, key := ca.leaf(t, dir, name)
		return fmt.Sprintf("{cert: %s, key: %s, ca: %s}", cert, key, ca.file)
	}
	leaf := freeAddr(t)
	hub := &fleetNode{name: "hub", env: newEnv(t, fmt.Sprintf(`node: hub
bus:
  leafnodes: {listen: %s, tls: %s}
  fleet_secret_file: %s
services:
  a: {command: ["{{prog}}"]}
`, leaf, tlsOf("hub"), secret))}
	agent := func(name string) *fleetNode {
		return &fleetNode{name: name, env: newEnv(t, fmt.Sprintf(`node: %s
bus:
  leafnodes: {remotes: ["nats-leaf://%s"], tls: %s}
  fleet_secret_file: %s
services:
  a: {command: ["{{prog}}"]}
  %s: {command: ["{{prog}}"]}
`, name, leaf, tlsOf(name), secret, name))}
	}
	l1, l2 := agent("l1"), agent("l2")
	hub.run, l1.run, l2.run = hub.env.run(), l1.env.run(), l2.env.run()
	waitNodes(t, hub.env, "hub=up l1=up l2=up")
	waitNodes(t, l1.env, "hub=up l1=up l2=up")

	var svcs []steward.ServiceStatus
	if err := l1.jsonOf(&svcs, "--node", "l2", "ps", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if names := serviceNames(svcs); names != "a l2" {
		t.Errorf("--node l2 ps on l1: %s, want a l2", names)
	}
	// Each agent's events are in its own JetStream, under the plain name.
	code, out, stderr := l2.steward("bus", "sub", "steward.l2.event.state.l2", "--since", "1h", "--count", "1", "-o", "json")
	var m steward.BusMessage
	if err := json.Unmarshal([]byte(out), &m); code != 0 || err != nil || m.Stream != "STEWARD_EVENTS" {
		t.Errorf("l2's event from its own stream: exit %d: %s%s", code, out, stderr)
	}

	// The hub goes: the agents see it down and still run their own.
	hub.run.cmd.Process.Kill()
	<-hub.run.done
	testwait.NoError(t, 30*time.Second, func() error {
		got, err := l1.nodeStates()
		if err == nil && got != "hub=down l1=up l2=down" {
			err = fmt.Errorf("nodes on l1 without the hub: %s", got)
		}
		return err
	})
	if err := l1.jsonOf(&svcs, "ps", "-o", "json"); err != nil || serviceNames(svcs) != "a l1" {
		t.Errorf("ps on l1 without the hub: %s %v", serviceNames(svcs), err)
	}
}
