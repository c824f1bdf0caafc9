package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// fleetNATSUsers is the authorization of a NATS deployment that stewards
// join by bus.url, as docs/fleet.md gives it: one user per node, and the
// services' user, which may not publish steward's subjects nor listen to
// the nodes' API requests and their answers.
const fleetNATSUsers = `authorization {users: [
  {user: na, password: "pass of na"}
  {user: nb, password: "pass of nb"}
  {user: app, password: "pass of app", permissions: {
    publish: {deny: ["steward.>", "$JS.API.STREAM.DELETE.STEWARD_>", "$JS.API.STREAM.PURGE.STEWARD_>", "$JS.API.STREAM.UPDATE.STEWARD_>", "$JS.API.STREAM.MSG.DELETE.STEWARD_>"]}
    subscribe: {deny: ["steward.*.api", "_STEWARD_INBOX.>"]}
  }}
]}`

// TestFleetBusURL: two stewards that point bus.url at one standalone
// nats-server are a fleet: each lists the other, --node and ps --fleet
// reach it, each keeps its own streams there, and a killed one goes down.
// Their services connect as the deployment's service user, which cannot
// answer as a node nor announce one.
func TestFleetBusURL(t *testing.T) {
	addr := natsServerWith(t, fleetNATSUsers)
	node := func(name, services string) *fleetNode {
		e := newEnv(t, fmt.Sprintf(`node: %s
bus:
  url: nats://%s
  user: %s
  password: "pass of %s"
  service_credentials: {user: app, password: "pass of app"}
services:
  a: {command: ["{{prog}}"]}
%s`, name, addr, name, name, services))
		return &fleetNode{name: name, env: e}
	}
	a := node("na", "")
	b := node("nb", `  w:
    command: [sh, -c, 'printf %s "$NATS_URL" > "{{dir}}/url.tmp" && mv "{{dir}}/url.tmp" "{{dir}}/w.url" && exec "{{prog}}"']
`)
	a.run, b.run = a.env.run(), b.env.run()
	waitNodes(t, a.env, "na=up nb=up")
	waitNodes(t, b.env, "na=up nb=up")

	var svcs []steward.ServiceStatus
	if err := a.jsonOf(&svcs, "--node", "nb", "ps", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if names := serviceNames(svcs); names != "a w" {
		t.Errorf("--node nb ps on na: %s, want a w", names)
	}
	var all []steward.FleetService
	if err := a.jsonOf(&all, "ps", "--fleet", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if got := fleetServiceNames(all); got != "na/a nb/a nb/w" {
		t.Errorf("ps --fleet: %s", got)
	}

	// Each node keeps its own streams on the shared JetStream.
	testwait.NoError(t, 20*time.Second, func() error {
		var list []steward.BusStream
		if err := a.jsonOf(&list, "bus", "streams", "-o", "json"); err != nil {
			return err
		}
		have := map[string]bool{}
		for _, st := range list {
			have[st.Name] = true
		}
		if !have["STEWARD_EVENTS_na"] || !have["STEWARD_EVENTS_nb"] {
			return fmt.Errorf("streams %v, want STEWARD_EVENTS_na and STEWARD_EVENTS_nb", have)
		}
		return nil
	})

	// w got the services' user, not its node's, and that user can neither
	// announce a node nor take a node's API requests.
	var url string
	testwait.NoError(t, 20*time.Second, func() error {
		raw, err := os.ReadFile(filepath.Join(b.dir, "w.url"))
		url = string(raw)
		return err
	})
	if !strings.Contains(url, "app:") || strings.Contains(url, "nb:") {
		t.Fatalf("w's NATS_URL %q, want the user app", url)
	}
	var mu sync.Mutex
	var refused []string
	nc, err := nats.Connect(url, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		mu.Lock()
		refused = append(refused, err.Error())
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Subscribe("steward.na.api", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("steward.evil.presence", []byte(`{"name":"evil"}`)); err != nil {
		t.Fatal(err)
	}
	testwait.NoError(t, 10*time.Second, func() error {
		nc.Flush()
		mu.Lock()
		got := strings.Join(refused, "\n")
		mu.Unlock()
		if !strings.Contains(got, `Subscription to "steward.na.api"`) || !strings.Contains(got, `Publish to "steward.evil.presence"`) {
			return fmt.Errorf("refusals so far: %q", got)
		}
		return nil
	})
	if got, err := a.nodeStates(); err != nil || got != "na=up nb=up" {
		t.Errorf("nodes after the forged presence: %s %v", got, err)
	}

	b.run.cmd.Process.Kill()
	<-b.run.done
	waitNodes(t, a.env, "na=up nb=down")
}

// TestFleetMixed: a standalone nats-server routed into the embedded
// cluster of two stewards (with the fleet secret, as a third server) lets
// a third steward join the fleet by bus.url: all three list each other,
// and --node reaches across both kinds of member.
func TestFleetMixed(t *testing.T) {
	secret := fleetSecret(t)
	routeA, routeB, routeS := freeAddr(t), freeAddr(t), freeAddr(t)
	addr := natsServerWith(t, fmt.Sprintf(`server_name: standalone
authorization {users: [{user: mc, password: "pass of mc"}]}
cluster {
  name: e2e
  listen: %s
  authorization {user: _fleet, password: "a fleet secret of e2e tests"}
  routes: ["nats-route://_fleet:a%%20fleet%%20secret%%20of%%20e2e%%20tests@%s", "nats-route://_fleet:a%%20fleet%%20secret%%20of%%20e2e%%20tests@%s"]
}`, routeS, routeA, routeB))
	a := clusteredNode(t, "ma", routeA, []string{"nats-route://" + routeB, "nats-route://" + routeS}, secret, "", "")
	b := clusteredNode(t, "mb", routeB, []string{"nats-route://" + routeA, "nats-route://" + routeS}, secret, "", "")
	c := &fleetNode{name: "mc", env: newEnv(t, fmt.Sprintf(`node: mc
bus:
  url: nats://%s
  user: mc
  password: "pass of mc"
services:
  a: {command: ["{{prog}}"]}
  c: {command: ["{{prog}}"]}
`, addr))}
	a.run, b.run, c.run = a.env.run(), b.env.run(), c.env.run()
	waitNodes(t, a.env, "ma=up mb=up mc=up")
	waitNodes(t, c.env, "ma=up mb=up mc=up")
	var svcs []steward.ServiceStatus
	if err := a.jsonOf(&svcs, "--node", "mc", "ps", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if names := serviceNames(svcs); names != "a c" {
		t.Errorf("--node mc ps on ma: %s, want a c", names)
	}
	if err := c.jsonOf(&svcs, "--node", "mb", "ps", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if names := serviceNames(svcs); names != "a" {
		t.Errorf("--node mb ps on mc: %s, want a", names)
	}
}
