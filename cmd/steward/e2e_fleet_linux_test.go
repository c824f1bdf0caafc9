package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// fleetNode is one steward of a test fleet.
type fleetNode struct {
	name string
	*env
	run *runningSteward
}

// fleetTestSecret is the fleet secret of the e2e tests.
const fleetTestSecret = "a fleet secret of e2e tests"

// fleetSecret writes the fleet secret file of a test and returns its path.
func fleetSecret(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "fleet.secret")
	if err := os.WriteFile(file, []byte(fleetTestSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// newFleet starts a steward for each of names, clustered on loopback with
// one fleet secret; extra[name] is added to that node's services, and
// extra["bus"] to every node's bus section.
func newFleet(t *testing.T, names []string, extra map[string]string) map[string]*fleetNode {
	t.Helper()
	secret := fleetSecret(t)
	cluster := map[string]string{}
	for _, n := range names {
		cluster[n] = freeAddr(t)
	}
	nodes := map[string]*fleetNode{}
	for _, n := range names {
		var routes []string
		for _, o := range names {
			if o != n {
				routes = append(routes, "nats-route://"+cluster[o])
			}
		}
		nodes[n] = clusteredNode(t, n, cluster[n], routes, secret, extra["bus"], extra[n])
	}
	for _, n := range names {
		nodes[n].run = nodes[n].env.run()
	}
	return nodes
}

// clusteredNode is a steward named name whose embedded bus takes routes
// on cluster and routes to routes, with the fleet's secret; busExtra is
// added to its bus section and services to its services, after a.
func clusteredNode(t *testing.T, name, cluster string, routes []string, secret, busExtra, services string) *fleetNode {
	t.Helper()
	return &fleetNode{name: name, env: newEnv(t, fmt.Sprintf(`node: %s
bus:
  listen: %s
  cluster: {name: e2e, listen: %s, routes: [%s]}
  fleet_secret_file: %s
%sservices:
  a: {command: ["{{prog}}"]}
%s`, name, freeAddr(t), cluster, strings.Join(routes, ", "), secret, busExtra, services))}
}

// jsonOf runs the client command args on e, which must succeed, and
// decodes its JSON output into out.
func (e *env) jsonOf(out any, args ...string) error {
	code, stdout, stderr := e.steward(args...)
	if code != 0 {
		return fmt.Errorf("%v: exit %d: %s", args, code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), out); err != nil {
		return fmt.Errorf("%v: %v\n%s", args, err, stdout)
	}
	return nil
}

// nodeStates returns NAME=STATE of each node `steward nodes` lists.
func (e *env) nodeStates() (string, error) {
	var list []steward.Node
	if err := e.jsonOf(&list, "nodes", "-o", "json"); err != nil {
		return "", err
	}
	var out []string
	for _, n := range list {
		out = append(out, n.Name+"="+n.State)
	}
	return strings.Join(out, " "), nil
}

func waitNodes(t *testing.T, e *env, want string) {
	t.Helper()
	testwait.NoError(t, 30*time.Second, func() error {
		got, err := e.nodeStates()
		if err == nil && got != want {
			err = fmt.Errorf("nodes: %s, want %s", got, want)
		}
		return err
	})
}

// TestFleetE2E: three stewards on loopback form a fleet: each lists all
// three up, a killed one goes down; the registry lists a service of
// another node and drops it when it stops; --node asks another node, and
// ps --fleet every node, reporting the one that is down.
func TestFleetE2E(t *testing.T) {
	fleet := newFleet(t, []string{"na", "nb", "nc"}, map[string]string{
		"nb": "  web:\n    command: [\"{{prog}}\"]\n    registry: {name: shop, port: 8080, tags: [v1, blue]}\n",
	})
	a, b, c := fleet["na"], fleet["nb"], fleet["nc"]
	waitNodes(t, a.env, "na=up nb=up nc=up")
	waitNodes(t, c.env, "na=up nb=up nc=up")

	// The registry on A lists B's web.
	testwait.NoError(t, 30*time.Second, func() error {
		var list []steward.Instance
		if err := a.jsonOf(&list, "registry", "shop", "-o", "json"); err != nil {
			return err
		}
		if len(list) != 1 || list[0].Node != "nb" || list[0].Port != 8080 || !list[0].Healthy || !slices.Equal(list[0].Tags, []string{"v1", "blue"}) || list[0].Service != "web" {
			return fmt.Errorf("registry shop on na: %+v", list)
		}
		return nil
	})
	if code, out, stderr := a.steward("registry"); code != 0 || !strings.Contains(out, "shop  nb") || !strings.Contains(out, "v1,blue") {
		t.Errorf("registry (table): exit %d: %s%s", code, out, stderr)
	}

	// --node nb, asked of A, answers with B's services.
	var svcs []steward.ServiceStatus
	if err := a.jsonOf(&svcs, "--node", "nb", "ps", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if names := serviceNames(svcs); names != "a web" {
		t.Errorf("--node nb ps on na: %s, want a web", names)
	}
	if code, _, stderr := a.steward("--node", "nowhere", "ps"); code != 1 || !strings.Contains(stderr, `no node "nowhere"`) {
		t.Errorf("--node nowhere ps: exit %d: %s", code, stderr)
	}

	// ps --fleet: every node's services, each with its node.
	var all []steward.FleetService
	if err := a.jsonOf(&all, "ps", "--fleet", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if got := fleetServiceNames(all); got != "na/a nb/a nb/web nc/a" {
		t.Errorf("ps --fleet: %s", got)
	}
	if code, out, _ := a.steward("ps", "--fleet"); code != 0 || !strings.HasPrefix(out, "NODE  NAME") || !strings.Contains(out, "nb    web") {
		t.Errorf("ps --fleet (table): exit %d:\n%s", code, out)
	}
	if code, out, _ := a.steward("nodes"); code != 0 || !strings.Contains(out, "na (this)") || !strings.Contains(out, "nc") {
		t.Errorf("nodes (table): exit %d:\n%s", code, out)
	}

	// B's web stops: it leaves the registry.
	if code, _, stderr := b.steward("stop", "web"); code != 0 {
		t.Fatalf("stop web on nb: exit %d: %s", code, stderr)
	}
	testwait.NoError(t, 30*time.Second, func() error {
		var list []steward.Instance
		if err := a.jsonOf(&list, "registry", "shop", "-o", "json"); err != nil {
			return err
		}
		if len(list) != 0 {
			return fmt.Errorf("registry shop on na after web stopped: %+v", list)
		}
		return nil
	})

	// C is killed: A sees it down, and ps --fleet reports it at once.
	c.run.cmd.Process.Kill()
	<-c.run.done
	waitNodes(t, a.env, "na=up nb=up nc=down")
	began := time.Now()
	code, out, stderr := a.steward("ps", "--fleet", "-o", "json")
	if code != 1 || !strings.Contains(stderr, "node nc: ") || !strings.Contains(stderr, "down") {
		t.Errorf("ps --fleet with nc down: exit %d: %s", code, stderr)
	}
	all = nil
	if err := json.Unmarshal([]byte(out), &all); err != nil || fleetServiceNames(all) != "na/a nb/a nb/web" {
		t.Errorf("ps --fleet with nc down: %v %s", err, out)
	}
	if d := time.Since(began); d > 20*time.Second {
		t.Errorf("ps --fleet with nc down took %v", d)
	}
}

func serviceNames(list []steward.ServiceStatus) string {
	var out []string
	for _, s := range list {
		out = append(out, s.Name)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func fleetServiceNames(list []steward.FleetService) string {
	var out []string
	for _, s := range list {
		out = append(out, s.Node+"/"+s.Name)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}
