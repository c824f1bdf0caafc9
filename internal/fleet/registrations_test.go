package fleet

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/testwait"
)

func reg(name, id string, port int) Registration {
	return Registration{Name: name, ID: id, Port: port, TTL: 2 * time.Second, DeregisterAfter: 10 * time.Second,
		SuccessBeforePassing: 1, FailuresBeforeCritical: 1}
}

// ids lists the instances "id:healthy" of list.
func ids(list []steward.Instance) string {
	var out []string
	for _, in := range list {
		out = append(out, fmt.Sprintf("%s:%t", in.ID, in.Healthy))
	}
	return strings.Join(out, " ")
}

func waitIDs(t *testing.T, f *Fleet, q Filter, want string) {
	t.Helper()
	testwait.NoError(t, 10*time.Second, func() error {
		if got := ids(f.Instances(q)); got != want {
			return fmt.Errorf("instances %q, want %q", got, want)
		}
		return nil
	})
}

// TestRegistrationTTL: an instance registered through the API is listed
// on the other nodes at once; healthy while heartbeats come within its
// TTL, unhealthy since the TTL passed without one, healthy again with the
// next, and removed once deregister_after passed without one.
func TestRegistrationTTL(t *testing.T) {
	url := natsURL(t)
	clk := newClock()
	a := startNode(t, url, "a", clk, time.Hour)
	b := startNode(t, url, "b", clk, time.Hour) // heartbeats only when told, or on a change
	g := reg("shop", "s1", 8080)
	g.Tags, g.Meta, g.Tenant = []string{"v1"}, map[string]string{"zone": "a"}, "acme"
	start := clk.Now()
	in, err := b.Register(g)
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != "s1" || in.Node != "b" || in.Address != "b.example" || in.Port != 8080 || !in.Healthy || in.TTL != "2s" ||
		in.Tenant != "acme" || in.Service != "" || !in.Since.Equal(start) || in.Meta["zone"] != "a" {
		t.Errorf("registered: %+v", in)
	}
	waitIDs(t, a.Fleet, Filter{Name: "shop"}, "s1:true")
	if l := a.Instances(Filter{Tag: "v1", Node: "b", Tenant: "acme", Healthy: true}); len(l) != 1 || l[0].Address != "b.example" {
		t.Errorf("on a: %+v", l)
	}
	clk.add(2 * time.Second) // the TTL: still healthy
	if got := ids(b.Instances(Filter{})); got != "s1:true" {
		t.Errorf("at the TTL: %s", got)
	}
	clk.add(time.Millisecond)
	l := b.Instances(Filter{})
	if ids(l) != "s1:false" || !l[0].Since.Equal(start.Add(2*time.Second)) {
		t.Errorf("after the TTL: %+v", l)
	}
	if l := b.Instances(Filter{Healthy: true}); len(l) != 0 {
		t.Errorf("healthy only: %+v", l)
	}
	in, err = b.Heartbeat("shop", "s1", "", true, "ok")
	if err != nil || !in.Healthy || in.Note != "ok" || !in.Since.Equal(clk.Now()) {
		t.Errorf("heartbeat: %+v %v", in, err)
	}
	clk.add(10 * time.Second) // deregister_after: still listed, unhealthy
	if got := ids(b.Instances(Filter{})); got != "s1:false" {
		t.Errorf("at deregister_after: %s", got)
	}
	clk.add(time.Millisecond)
	if got := ids(b.Instances(Filter{})); got != "" {
		t.Errorf("after deregister_after: %s", got)
	}
	if _, err := b.Heartbeat("shop", "s1", "", true, ""); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("heartbeat after deregister_after: %v", err)
	}
}

// TestRegistrationFlaps: success_before_passing passing reports in a row
// (the registration is one) make an instance healthy, and
// failures_before_critical failing ones unhealthy; a report of the other
// status starts the count over, and so does the TTL passing.
func TestRegistrationFlaps(t *testing.T) {
	url := natsURL(t)
	clk := newClock()
	b := startNode(t, url, "b", clk, time.Hour)
	g := reg("shop", "s1", 80)
	g.SuccessBeforePassing, g.FailuresBeforeCritical = 3, 2
	in, err := b.Register(g)
	if err != nil || in.Healthy {
		t.Fatalf("registered with success_before_passing 3: %+v %v", in, err)
	}
	step := func(passing bool, want bool) {
		t.Helper()
		clk.add(time.Second)
		in, err := b.Heartbeat("shop", "s1", "", passing, "")
		if err != nil || in.Healthy != want {
			t.Fatalf("after a heartbeat passing=%t: healthy %t, want %t (%v)", passing, in.Healthy, want, err)
		}
	}
	step(true, false)
	step(false, false) // the count starts over
	step(true, false)
	step(true, false)
	step(true, true) // 3 in a row
	step(false, true)
	step(true, true) // the failures start over
	step(false, true)
	step(false, false) // 2 in a row
	step(false, false)
	step(true, false)
	step(true, false)
	step(true, true)
	clk.add(3 * time.Second) // the TTL passes: unhealthy, the count over
	step(true, false)
	step(true, false)
	step(true, true)
}

// TestRegistrationReplace: registering an id again replaces its
// instance (no duplicates, on this node or another); an id of another
// tenant's or of a configured service's instance is refused; a tenant
// acts on its own instances only; deregistering removes one at once
// everywhere.
func TestRegistrationReplace(t *testing.T) {
	url := natsURL(t)
	clk := newClock()
	a := startNode(t, url, "a", clk, time.Hour)
	b := startNode(t, url, "b", clk, time.Hour)
	b.cfg.Services = map[string]*config.Service{"web": {Registry: &config.ServiceRegistry{Name: "shop", Port: 80}}, "plain": {}}
	if _, err := b.Register(reg("shop", "web", 81)); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("the id of a service's instance: %v", err)
	}
	if _, err := b.Register(reg("shop", "plain", 81)); err != nil {
		t.Errorf("the id of a service without registry:: %v", err)
	}
	g := reg("shop", "s1", 8080)
	g.Tenant = "acme"
	for _, port := range []int{8080, 8081} {
		g.Port = port
		if _, err := b.Register(g); err != nil {
			t.Fatal(err)
		}
	}
	testwait.NoError(t, 10*time.Second, func() error {
		if l := a.Instances(Filter{Name: "shop"}); ids(l) != "plain:true s1:true" || l[1].Port != 8081 {
			return fmt.Errorf("on a: %+v", l)
		}
		return nil
	})
	g.Tenant = "globex"
	if _, err := b.Register(g); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("acme's id registered by globex: %v", err)
	}
	if l := b.Instances(Filter{Tenant: "globex"}); len(l) != 0 {
		t.Errorf("globex's instances: %+v", l)
	}
	for _, c := range [][3]string{{"shop", "s1", "globex"}, {"other", "s1", ""}, {"shop", "s9", ""}} {
		if _, err := b.Heartbeat(c[0], c[1], c[2], true, ""); steward.ErrorCode(err) != steward.ENOTFOUND || !strings.Contains(err.Error(), "no instance") {
			t.Errorf("heartbeat %v: %v", c, err)
		}
		if err := b.Deregister(c[0], c[1], c[2]); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("deregister %v: %v", c, err)
		}
	}
	if _, err := b.Heartbeat("shop", "s1", "acme", false, "bad"); err != nil {
		t.Error(err)
	}
	waitIDs(t, a.Fleet, Filter{Name: "shop"}, "plain:true s1:false") // a change of health heartbeats at once
	if err := b.Deregister("shop", "s1", "acme"); err != nil {
		t.Error(err)
	}
	if err := b.Deregister("shop", "plain", ""); err != nil {
		t.Error(err)
	}
	waitIDs(t, a.Fleet, Filter{Name: "shop"}, "")
}

// TestRegistrationLimit: a node keeps MaxRegistrations registrations;
// one more is refused, replacing one is not.
func TestRegistrationLimit(t *testing.T) {
	url := natsURL(t)
	b := startNode(t, url, "b", newClock(), time.Hour)
	for i := range MaxRegistrations {
		if _, err := b.Register(reg("shop", fmt.Sprint("s", i), 80)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Register(reg("shop", "more", 80)); steward.ErrorCode(err) != steward.ECONFLICT || !strings.Contains(err.Error(), "the most it keeps") {
		t.Errorf("one more: %v", err)
	}
	if _, err := b.Register(reg("shop", "s0", 81)); err != nil {
		t.Errorf("replacing one: %v", err)
	}
}

// TestPick: pick answers the healthy instances of a name in turn, across
// the nodes, filtered by tag; none healthy is a 404.
func TestPick(t *testing.T) {
	url := natsURL(t)
	clk := newClock()
	a := startNode(t, url, "a", clk, time.Hour)
	b := startNode(t, url, "b", clk, time.Hour)
	one := reg("shop", "s1", 80)
	one.Tags = []string{"v2"}
	for _, g := range []Registration{one, reg("shop", "s2", 81), reg("shop", "s3", 82)} {
		if _, err := b.Register(g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Register(reg("shop", "s0", 83)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Heartbeat("shop", "s3", "", false, ""); err != nil {
		t.Fatal(err)
	}
	waitIDs(t, a.Fleet, Filter{Name: "shop"}, "s0:true s1:true s2:true s3:false")
	var got []string
	for range 4 {
		in, err := a.Pick(Filter{Name: "shop"})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, in.ID)
	}
	if strings.Join(got, " ") != "s0 s1 s2 s0" {
		t.Errorf("picks: %v", got)
	}
	if in, err := a.Pick(Filter{Name: "shop", Tag: "v2"}); err != nil || in.ID != "s1" {
		t.Errorf("pick v2: %+v %v", in, err)
	}
	if _, err := a.Pick(Filter{Name: "none"}); steward.ErrorCode(err) != steward.ENOTFOUND || !strings.Contains(err.Error(), `no healthy instance of "none"`) {
		t.Errorf("pick none: %v", err)
	}
	clk.add(1500 * time.Millisecond) // b is down: its instances leave
	if got := ids(a.Instances(Filter{Name: "shop"})); got != "s0:true" {
		t.Errorf("with b down: %s", got)
	}
}

// TestRegistrationBytes: a node's registrations take at most
// MaxRegistrationBytes of its heartbeat; one more is refused and leaves
// the others as they were, and replacing one by a smaller one is not.
func TestRegistrationBytes(t *testing.T) {
	url := natsURL(t)
	b := startNode(t, url, "b", newClock(), time.Hour)
	big := reg("shop", "", 80)
	big.Meta = map[string]string{}
	for i := range 64 {
		big.Meta[fmt.Sprint("k", i)] = strings.Repeat("v", 1000)
	}
	n := 0
	for ; ; n++ {
		big.ID = fmt.Sprint("s", n)
		if _, err := b.Register(big); err != nil {
			if steward.ErrorCode(err) != steward.ECONFLICT || !strings.Contains(err.Error(), "KiB of its heartbeat") {
				t.Fatal(err)
			}
			break
		}
	}
	if n < 8 || n > 14 {
		t.Errorf("%d registrations of 64 KiB fit in 768 KiB", n)
	}
	big.ID = "s0"
	big.Meta = maps.Clone(big.Meta) // the node holds the map it was given
	big.Meta["more"] = strings.Repeat("v", 100<<10)
	if _, err := b.Register(big); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("s0 replaced by a bigger one: %v", err)
	}
	if l := b.Instances(Filter{}); len(l) != n || len(l[0].Meta) != 64 {
		t.Errorf("after a refused replacement: %d instances, s0's meta %d", len(l), len(l[0].Meta))
	}
	if _, err := b.Register(reg("shop", "s0", 80)); err != nil {
		t.Errorf("s0 replaced by a smaller one: %v", err)
	}
	if _, err := b.Register(reg("shop", "small", 80)); err != nil {
		t.Errorf("a small one after s0 shrank: %v", err)
	}
	if err := b.Deregister("shop", "s1", ""); err != nil {
		t.Fatal(err)
	}
	big.ID = "s1"
	big.Meta = maps.Clone(big.Meta)
	delete(big.Meta, "more")
	if _, err := b.Register(big); err != nil {
		t.Errorf("s1 again after its deregistration: %v", err)
	}
}
