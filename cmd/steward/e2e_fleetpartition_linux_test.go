package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// link is a TCP proxy that carries a route between two nodes, so a test
// can cut it (a partition) and mend it.
type link struct {
	t      *testing.T
	addr   string // where it listens
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newLink(t *testing.T, target string) *link {
	l := &link{t: t, addr: freeAddr(t), target: target}
	l.mend()
	t.Cleanup(l.cut)
	return l
}

// mend listens again and carries the connections made to it.
func (l *link) mend() {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		l.t.Fatal(err)
	}
	l.mu.Lock()
	l.ln = ln
	l.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", l.target)
			if err != nil {
				in.Close()
				continue
			}
			l.mu.Lock()
			l.conns = append(l.conns, in, out)
			l.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
}

// cut stops listening and drops every connection carried: neither side
// reaches the other until mend.
func (l *link) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		l.ln.Close()
		l.ln = nil
	}
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

// TestFleetPartition: two clustered stewards whose routes are cut each
// report the other down, and the registry drops the other side's
// instance; once the route is mended both are up again and the instance
// is listed once.
func TestFleetPartition(t *testing.T) {
	secret := fleetSecret(t)
	clusterA, clusterB := freeAddr(t), freeAddr(t)
	toA, toB := newLink(t, clusterA), newLink(t, clusterB)
	a := clusteredNode(t, "pa", clusterA, []string{"nats-route://" + toB.addr}, secret, "", "")
	b := clusteredNode(t, "pb", clusterB, []string{"nats-route://" + toA.addr}, secret, "",
		"  web:\n    command: [\"{{prog}}\"]\n    registry: {name: shop, port: 8080}\n")
	a.run, b.run = a.env.run(), b.env.run()
	waitNodes(t, a.env, "pa=up pb=up")
	waitNodes(t, b.env, "pa=up pb=up")
	shop := func(want int) {
		t.Helper()
		testwait.NoError(t, 30*time.Second, func() error {
			var list []steward.Instance
			if err := a.jsonOf(&list, "registry", "shop", "-o", "json"); err != nil {
				return err
			}
			if len(list) != want {
				return fmt.Errorf("registry shop on pa: %+v, want %d", list, want)
			}
			return nil
		})
	}
	shop(1)

	toA.cut()
	toB.cut()
	waitNodes(t, a.env, "pa=up pb=down")
	waitNodes(t, b.env, "pa=down pb=up")
	shop(0)
	// Each side still answers for itself.
	if code, _, stderr := b.steward("ps"); code != 0 {
		t.Errorf("ps on pb during the partition: exit %d: %s", code, stderr)
	}

	toA.mend()
	toB.mend()
	waitNodes(t, a.env, "pa=up pb=up")
	waitNodes(t, b.env, "pa=up pb=up")
	shop(1)
	var all []steward.FleetService
	if err := a.jsonOf(&all, "ps", "--fleet", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if got := fleetServiceNames(all); got != "pa/a pb/a pb/web" {
		t.Errorf("ps --fleet after the partition: %s", got)
	}
}

// TestFleetReplicas: a stream of bus.streams with replicas: 3 on three
// clustered stewards is kept by all three servers: once its leader is
// killed, another node stores and replays its messages, those published
// before included.
func TestFleetReplicas(t *testing.T) {
	fleet := newFleet(t, []string{"ra", "rb", "rc"}, map[string]string{
		"bus": "  streams: {orders: {subjects: [\"orders.>\"], replicas: 3}}\n",
	})
	waitNodes(t, fleet["ra"].env, "ra=up rb=up rc=up")
	var leader string
	testwait.NoError(t, 60*time.Second, func() error {
		var list []steward.BusStream
		if err := fleet["ra"].jsonOf(&list, "bus", "streams", "-o", "json"); err != nil {
			return err
		}
		for _, st := range list {
			if st.Name == "orders" && st.Replicas == 3 && st.Leader != "" {
				leader = st.Leader
				return nil
			}
		}
		return fmt.Errorf("streams %+v: no orders with 3 replicas and a leader", list)
	})
	if code, out, stderr := fleet["ra"].steward("bus", "pub", "orders.new", "order 1"); code != 0 || !strings.Contains(out, "stored in orders") {
		t.Fatalf("bus pub before: exit %d: %s%s", code, out, stderr)
	}
	dead := fleet[leader]
	if dead == nil {
		t.Fatalf("the leader %q is not a node", leader)
	}
	dead.run.cmd.Process.Kill()
	<-dead.run.done
	var other *fleetNode
	for _, n := range fleet {
		if n != dead {
			other = n
			break
		}
	}
	testwait.NoError(t, 60*time.Second, func() error {
		code, out, stderr := other.steward("bus", "pub", "orders.new", "order 2")
		if code != 0 || !strings.Contains(out, "stored in orders") {
			return fmt.Errorf("bus pub on %s after %s died: exit %d: %s%s", other.name, leader, code, out, stderr)
		}
		return nil
	})
	code, out, stderr := other.steward("bus", "sub", "orders.>", "--since", "1h", "--count", "2")
	if code != 0 || !strings.Contains(out, "order 1") || !strings.Contains(out, "order 2") {
		t.Errorf("bus sub on %s: exit %d: %s%s", other.name, code, out, stderr)
	}
}
