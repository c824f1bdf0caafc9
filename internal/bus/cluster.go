package bus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward/internal/config"
)

// FleetUser is the user name the servers of a fleet authenticate each
// other's routes with; its password is the fleet secret.
const FleetUser = "_fleet"

// InboxPrefix is the prefix of the reply subjects of steward's own
// requests, which no service may subscribe to: the answers of other nodes
// travel on them.
const InboxPrefix = "_STEWARD_INBOX"

// minSecret is the shortest fleet secret accepted, in bytes.
const minSecret = 16

// ReadFleetSecret reads the fleet secret from file: its content without
// the line break that ends it, at least 16 bytes.
func ReadFleetSecret(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read the fleet secret: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if len(s) < minSecret {
		return "", fmt.Errorf("the fleet secret in %s is %d bytes; it needs at least %d", file, len(s), minSecret)
	}
	return s, nil
}

// eventsStream is the name of this node's events stream.
func (s *Server) eventsStream() string { return streamOf(EventsStream, s.node, s.options().Config) }

// dlqStream and advisoryStream are the names of this node's DLQ streams.
func (s *Server) dlqStream() string      { return streamOf(DLQStream, s.node, s.options().Config) }
func (s *Server) advisoryStream() string { return streamOf(AdvisoryStream, s.node, s.options().Config) }

// streamOf is the name of node's stream base: base itself on a server of
// its own, or base_NODE where nodes share one JetStream (the servers of
// bus.cluster, or the deployment of bus.url), so that each node has its
// own.
func streamOf(base, node string, b config.Bus) string {
	if b.Cluster == nil && b.External == nil {
		return base
	}
	return base + "_" + Token(node)
}

// eventsPlacement keeps a clustered node's events stream on its own server.
func (s *Server) eventsPlacement() *jetstream.Placement {
	c := s.options().Config.Cluster
	if c == nil {
		return nil
	}
	return &jetstream.Placement{Cluster: c.Name, Tags: []string{nodeTag(s.node)}}
}

// clusterRetry calls fn until it succeeds, on a shared JetStream (the
// servers of bus.cluster, or a deployment of bus.url) for up to
// startTimeout: clustered servers take some seconds to elect a JetStream
// leader once they route to each other, and the leader to learn a new
// server's tags; until then a stream cannot be made.
func (s *Server) clusterRetry(ctx context.Context, fn func(context.Context) error) error {
	if c := s.options().Config; c.Cluster == nil && c.External == nil {
		return fn(ctx)
	}
	deadline := time.Now().Add(startTimeout)
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := fn(actx)
		cancel()
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// fleetChanged reports whether the fleet settings of a and b differ: a
// change the running server cannot take.
func fleetChanged(a, b config.Bus) bool {
	return !reflect.DeepEqual(a.Cluster, b.Cluster) || !reflect.DeepEqual(a.Leaf, b.Leaf) || a.FleetSecretFile != b.FleetSecretFile
}

// fleetTLSTimeout bounds the TLS handshake of a route or a leaf
// connection, in seconds.
const fleetTLSTimeout = 5

func nodeTag(node string) string { return "node:" + Token(node) }

// fleetOptions sets the cluster and leaf node options of o from opts.
func fleetOptions(o *server.Options, opts Options) error {
	if err := clusterOptions(o, opts); err != nil {
		return err
	}
	return leafOptions(o, opts)
}

// clusterOptions sets the cluster options of o from opts.
func clusterOptions(o *server.Options, opts Options) error {
	c := opts.Config.Cluster
	if c == nil {
		return nil
	}
	if opts.FleetSecret == "" {
		return errors.New("bus.cluster needs the fleet secret")
	}
	host, port, err := hostPort(c.Listen, "bus.cluster.listen")
	if err != nil {
		return err
	}
	o.Cluster.Name, o.Cluster.Host, o.Cluster.Port = c.Name, host, port
	o.Cluster.Username, o.Cluster.Password = FleetUser, opts.FleetSecret
	if c.TLS != nil {
		if o.Cluster.TLSConfig, err = fleetTLS(c.TLS, "bus.cluster.tls"); err != nil {
			return err
		}
		o.Cluster.TLSTimeout = fleetTLSTimeout
	}
	if o.Routes, err = fleetURLs(c.Routes, opts.FleetSecret, "bus.cluster.routes"); err != nil {
		return err
	}
	o.Tags = append(o.Tags, nodeTag(opts.Node))
	return nil
}

// hostPort splits addr, the address of what.
func hostPort(addr, what string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", what, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", what, err)
	}
	return host, port, nil
}

// fleetURLs parses raw, the URLs of what, with the fleet's credentials in
// them.
func fleetURLs(raw []string, secret, what string) ([]*url.URL, error) {
	var out []*url.URL
	for _, r := range raw {
		u, err := url.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		u.User = url.UserPassword(FleetUser, secret)
		out = append(out, u)
	}
	return out, nil
}

// fleetTLS is the mutual TLS of the fleet's connections (what): each side
// verifies the other's certificate against the fleet's CA, and the
// dialling side the host it dialled against the certificate. A route or a
// leaf connection is a client too, so, as nats-server's own cluster tls
// section does, the CA is also its root.
func fleetTLS(t *config.ClusterTLS, what string) (*tls.Config, error) {
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: t.Cert, KeyFile: t.Key, CaFile: t.CA, Verify: true, Timeout: fleetTLSTimeout})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	tc.ClientAuth, tc.RootCAs = tls.RequireAndVerifyClientCert, tc.ClientCAs
	return tc, nil
}

// serviceDeny is what a service may not publish: steward's own subjects,
// and the JetStream calls that would change or delete steward's streams
// (streams names them by their base name).
func serviceDeny(streams func(base string) string) []string {
	advisories := streams(AdvisoryStream)
	deny := []string{"steward.>",
		// steward's consumer of the advisories: deleting, changing, pulling
		// from or acking it.
		"$JS.API.CONSUMER.*." + advisories + "." + dlqConsumer,
		"$JS.API.CONSUMER.CREATE." + advisories + "." + dlqConsumer + ".>",
		"$JS.API.CONSUMER.DURABLE.CREATE." + advisories + "." + dlqConsumer,
		"$JS.API.CONSUMER.MSG.NEXT." + advisories + "." + dlqConsumer,
		"$JS.ACK." + advisories + "." + dlqConsumer + ".>",
	}
	for _, st := range []string{streams(EventsStream), streams(DLQStream), advisories} {
		for _, op := range []string{"STREAM.DELETE.", "STREAM.PURGE.", "STREAM.UPDATE.", "STREAM.MSG.DELETE."} {
			deny = append(deny, "$JS.API."+op+st)
		}
	}
	return deny
}

// serviceSubDeny is what a service may not subscribe to: the fleet's API
// requests, which it could answer as the node, the inboxes of their
// answers, and the workbook services' commands, which it could read or
// answer as steward.
var serviceSubDeny = []string{"steward.*.api", InboxPrefix + ".>", "steward.*.workbook.>"}
