package config

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func TestParseFleet(t *testing.T) {
	c := mustParse(t, `node: a
bus:
  listen: 127.0.0.1:4222
  cluster: {name: shop, listen: 127.0.0.1:6222, routes: [nats-route://127.0.0.1:6223, "nats-route://[::1]:6224/"]}
  fleet_secret_file: fleet.secret
services:
  web:
    command: [web]
    registry: {name: shop-web, port: 8080, address: 10.0.0.5, tags: [v1, blue], meta: {zone: a}}
  api:
    command: [api]
    registry: {}
`)
	want := &BusCluster{Name: "shop", Listen: "127.0.0.1:6222", Routes: []string{"nats-route://127.0.0.1:6223", "nats-route://[::1]:6224"}}
	if !reflect.DeepEqual(c.Bus.Cluster, want) || c.Bus.FleetSecretFile != filepath.Join(testDir, "fleet.secret") || !c.Bus.Fleet() {
		t.Errorf("cluster = %+v, secret %q", c.Bus.Cluster, c.Bus.FleetSecretFile)
	}
	reg := &ServiceRegistry{Name: "shop-web", Port: 8080, Address: "10.0.0.5", Tags: []string{"v1", "blue"}, Meta: map[string]string{"zone": "a"}}
	if !reflect.DeepEqual(c.Services["web"].Registry, reg) || !reflect.DeepEqual(c.Services["api"].Registry, &ServiceRegistry{Name: "api"}) {
		t.Errorf("registry = %+v, %+v", c.Services["web"].Registry, c.Services["api"].Registry)
	}
	if (*Bus)(nil).Fleet() || (&Bus{}).Fleet() {
		t.Error("Fleet() without a cluster")
	}
	c = mustParse(t, "bus: {leafnodes: {listen: 127.0.0.1:7422, remotes: [nats-leaf://127.0.0.1:7423]}, fleet_secret_file: s}\n")
	if l := c.Bus.Leaf; l == nil || l.Listen != "127.0.0.1:7422" || !slices.Equal(l.Remotes, []string{"nats-leaf://127.0.0.1:7423"}) || !c.Bus.Fleet() {
		t.Errorf("leafnodes = %+v", c.Bus.Leaf)
	}
	c = mustParse(t, "bus: {leafnodes: {remotes: [nats-leaf://10.0.0.1:7422], tls: {cert: n.pem, key: n.key, ca: ca.pem}}, fleet_secret_file: s}\n")
	if l := c.Bus.Leaf; l == nil || l.TLS == nil || l.TLS.CA != filepath.Join(testDir, "ca.pem") {
		t.Errorf("leafnodes with tls = %+v", c.Bus.Leaf)
	}
	c = mustParse(t, "bus: {url: nats://a:4222, streams: {o: {subjects: [o.>], replicas: 3}, p: {subjects: [p.>], replicas: 1}}}\n")
	if c.Bus.Streams["o"].Replicas != 3 || c.Bus.Streams["p"].Replicas != 1 {
		t.Errorf("replicas = %+v %+v", c.Bus.Streams["o"], c.Bus.Streams["p"])
	}
	// With tls, the routes may leave loopback.
	c = mustParse(t, "bus: {cluster: {name: c, listen: 0.0.0.0:6222, routes: [nats-route://10.0.0.2:6222], tls: {cert: n.pem, key: n.key, ca: ca.pem}}, fleet_secret_file: s}\n")
	tls := &ClusterTLS{Cert: filepath.Join(testDir, "n.pem"), Key: filepath.Join(testDir, "n.key"), CA: filepath.Join(testDir, "ca.pem")}
	if !reflect.DeepEqual(c.Bus.Cluster.TLS, tls) || c.Bus.Cluster.Listen != "0.0.0.0:6222" {
		t.Errorf("cluster with tls = %+v", c.Bus.Cluster)
	}
}

func TestParseFleetErrors(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want []string
	}{
		{"bus: {cluster: {listen: 127.0.0.1:6222}, fleet_secret_file: s}\n", []string{
			"steward.yaml:1:16: bus.cluster needs a name"}},
		{"bus: {cluster: {name: STEWARD_X, listen: 127.0.0.1:6222}, fleet_secret_file: s}\n", []string{
			`steward.yaml:1:23: bus.cluster.name "STEWARD_X" must be 1 to 64 letters, digits, '_' and '-'`}},
		{"bus: {cluster: {name: c}, fleet_secret_file: s}\n", []string{
			"steward.yaml:1:16: bus.cluster needs listen: the address the other servers route to"}},
		{"bus: {cluster: {name: c, listen: 0.0.0.0:6222, routes: ['nats-route://10.0.0.2:6222']}, fleet_secret_file: s}\n", []string{
			`steward.yaml:1:34: bus.cluster.listen "0.0.0.0:6222" is not a loopback address: it needs bus.cluster.tls`,
			"steward.yaml:1:57: bus.cluster.routes: nats-route://10.0.0.2:6222 is not on loopback: it needs bus.cluster.tls"}},
		{"bus: {cluster: {name: c, listen: 127.0.0.1:6222, tls: {cert: c.pem, key: k.pem}}, fleet_secret_file: s}\n", []string{
			"steward.yaml:1:50: bus.cluster.tls needs cert, key and ca: this node's certificate and key, and the CA that signs every node's"}},
		{"bus: {cluster: {name: c, listen: 127.0.0.1:6222, tls: {cert: c.pem, key: k.pem, ca: ca.pem, verify: no}}, fleet_secret_file: s}\n", []string{
			`steward.yaml:1:93: unknown key "verify"`}},
		{"bus: {cluster: {name: c, listen: 127.0.0.1:6222, routes: ['tls://127.0.0.1:1', 'nats-route://u:p@127.0.0.1:1', 'nats-route://127.0.0.1:x', 'nats-route://127.0.0.1:1?a']}, fleet_secret_file: s}\n", []string{
			`steward.yaml:1:59: bus.cluster.routes: "tls://127.0.0.1:1" must be nats-route://HOST:PORT`,
			`steward.yaml:1:80: bus.cluster.routes: "nats-route://u:p@127.0.0.1:1" must not hold credentials: the nodes authenticate with bus.fleet_secret_file`,
			`steward.yaml:1:112: bus.cluster.routes: "nats-route://127.0.0.1:x" must be nats-route://HOST:PORT`,
			`steward.yaml:1:140: bus.cluster.routes: "nats-route://127.0.0.1:1?a" must be nats-route://HOST:PORT`}},
		{"bus: {cluster: {name: c, listen: 127.0.0.1:6222}}\n", []string{
			"steward.yaml:1:6: bus.cluster and bus.leafnodes need bus.fleet_secret_file: the secret the nodes of the fleet share"}},
		{"bus: {leafnodes: {}, fleet_secret_file: s}\n", []string{
			"steward.yaml:1:18: bus.leafnodes needs listen (agents join this node) or remotes (this node joins hubs)"}},
		{"bus: {leafnodes: {listen: 0.0.0.0:7422, remotes: ['nats-leaf://10.0.0.1:7422', 'nats-route://127.0.0.1:1']}, fleet_secret_file: s}\n", []string{
			`steward.yaml:1:27: bus.leafnodes.listen "0.0.0.0:7422" is not a loopback address: it needs bus.leafnodes.tls`,
			"steward.yaml:1:51: bus.leafnodes.remotes: nats-leaf://10.0.0.1:7422 is not on loopback: it needs bus.leafnodes.tls",
			"steward.yaml:1:80: bus.leafnodes.remotes: \"nats-route://127.0.0.1:1\" must be nats-leaf://HOST:PORT"}},
		{"bus: {listen: 127.0.0.1:7422, leafnodes: {listen: 127.0.0.1:7422}, fleet_secret_file: s}\n", []string{
			`steward.yaml:1:6: bus.leafnodes.listen "127.0.0.1:7422" is the address of bus.listen`}},
		{"bus: {url: 'nats://a:1', leafnodes: {remotes: ['nats-leaf://127.0.0.1:1']}, fleet_secret_file: s}\n", []string{
			"steward.yaml:1:26: bus.leafnodes is for the embedded server; with bus.url steward embeds none"}},
		{"bus: {streams: {o: {subjects: [o.>], replicas: 3}}}\n", []string{
			"steward.yaml:1:48: bus.streams.o.replicas: 3 replicas need servers that share a JetStream: bus.cluster or bus.url"}},
		{"bus: {streams: {o: {subjects: [o.>], replicas: 6}}}\n", []string{
			"steward.yaml:1:48: bus.streams.o.replicas must be 1 to 5"}},
		{"bus: {cluster: {name: c, listen: 127.0.0.1:6222, routes: [nats-route://127.0.0.1:6223]}, fleet_secret_file: s, streams: {o: {subjects: [o.>], replicas: 3}}}\n", []string{
			"steward.yaml:1:153: bus.streams.o.replicas: 3 replicas, but bus.cluster names 2 servers"}},
		{"bus: {fleet_secret_file: s}\n", []string{
			"steward.yaml:1:26: bus.fleet_secret_file is for bus.cluster or bus.leafnodes, neither of which is set"}},
		{"bus: {listen: 127.0.0.1:6222, cluster: {name: c, listen: 127.0.0.1:6222}, fleet_secret_file: s}\n", []string{
			`steward.yaml:1:6: bus.cluster.listen "127.0.0.1:6222" is the address of bus.listen`}},
		{"bus: {url: 'nats://a:4222', cluster: {name: c, listen: 127.0.0.1:6222}, fleet_secret_file: s}\n", []string{
			"steward.yaml:1:29: bus.cluster is for the embedded server; with bus.url steward embeds none"}},
		{"services:\n  a:\n    command: [a]\n    registry: {name: 'a b', port: 0, tags: x, meta: {k: [1]}, nope: 1}\n", []string{
			`steward.yaml:4:22: registry.name "a b" must be 1 to 64 letters, digits, '-' and '_'`,
			"steward.yaml:4:35: registry.port must be 1 to 65535",
			"steward.yaml:4:57: registry.meta.k must be a string",
			`steward.yaml:4:63: unknown key "nope"`}},
		{"services:\n  a.b:\n    command: [a]\n    registry: {port: 1}\n", []string{
			`steward.yaml:4:15: registry: the service name "a.b" cannot name an instance: set registry.name`}},
	} {
		if got := parseErrors(t, tt.src); !slices.Equal(got, tt.want) {
			t.Errorf("%q:\ngot  %q\nwant %q", tt.src, got, tt.want)
		}
	}
}
