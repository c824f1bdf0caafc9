package bus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward/internal/config"
)

// TestServiceDeniedFleet: a service, with its own NATS credentials, can
// neither answer as a node (subscribe to steward.NODE.api or to the
// inboxes of steward's requests) nor publish presence or requests.
func TestServiceDeniedFleet(t *testing.T) {
	addr := freePort(t)
	s := start(t, addr, "web")
	nc, err := nats.Connect(s.creds.URL(addr, "web", false))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	errs := make(chan error, 16)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	violation := func(what string) {
		t.Helper()
		nc.Flush()
		select {
		case err := <-errs:
			if !strings.Contains(err.Error(), "Permissions Violation") {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: no permissions violation", what)
		}
	}
	for _, subj := range []string{"steward.web_01.api", "steward.*.api", InboxPrefix + ".x"} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		violation("subscribe to " + subj)
	}
	for _, subj := range []string{"steward.web_01.presence", "steward.other.api"} {
		nc.Publish(subj, []byte("{}"))
		violation("publish on " + subj)
	}
}

func TestReadFleetSecret(t *testing.T) {
	dir := t.TempDir()
	good, short := filepath.Join(dir, "good"), filepath.Join(dir, "short")
	os.WriteFile(good, []byte("0123456789abcdef\r\n"), 0o600)
	os.WriteFile(short, []byte("0123456789abcde\n"), 0o600)
	if s, err := ReadFleetSecret(good); err != nil || s != "0123456789abcdef" {
		t.Errorf("good: %q %v", s, err)
	}
	if _, err := ReadFleetSecret(short); err == nil || !strings.Contains(err.Error(), "is 15 bytes; it needs at least 16") {
		t.Errorf("short: %v", err)
	}
	if _, err := ReadFleetSecret(filepath.Join(dir, "none")); err == nil || !strings.Contains(err.Error(), "read the fleet secret") {
		t.Errorf("missing: %v", err)
	}
}

func TestFleetOptions(t *testing.T) {
	cl := &config.BusCluster{Name: "c", Listen: "127.0.0.1:6222", Routes: []string{"nats-route://127.0.0.1:6223"}}
	var o server.Options
	if err := fleetOptions(&o, Options{Node: "n.1", Config: config.Bus{Cluster: cl}, FleetSecret: "s3cret-s3cret-s3"}); err != nil {
		t.Fatal(err)
	}
	if o.Cluster.Name != "c" || o.Cluster.Port != 6222 || o.Cluster.Username != FleetUser || len(o.Routes) != 1 ||
		o.Routes[0].User.Username() != FleetUser || o.Tags[0] != "node:n_1" {
		t.Errorf("options: %+v %v %v", o.Cluster, o.Routes, o.Tags)
	}
	for _, c := range []struct {
		cl     config.BusCluster
		secret string
		want   string
	}{
		{*cl, "", "needs the fleet secret"},
		{config.BusCluster{Listen: "nohost"}, "x", "bus.cluster.listen"},
		{config.BusCluster{Listen: "127.0.0.1:port"}, "x", "bus.cluster.listen"},
		{config.BusCluster{Listen: "127.0.0.1:1", Routes: []string{"::bad"}}, "x", "bus.cluster.routes"},
		{config.BusCluster{Listen: "127.0.0.1:1", TLS: &config.ClusterTLS{Cert: "/none.pem", Key: "/none.key", CA: "/none-ca.pem"}}, "x", "bus.cluster.tls"},
	} {
		err := fleetOptions(&server.Options{}, Options{Config: config.Bus{Cluster: &c.cl}, FleetSecret: c.secret})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %s", c.cl, err, c.want)
		}
	}
	if fleetChanged(config.Bus{Cluster: cl}, config.Bus{Cluster: cl}) || !fleetChanged(config.Bus{}, config.Bus{Cluster: cl}) {
		t.Error("fleetChanged")
	}
}
