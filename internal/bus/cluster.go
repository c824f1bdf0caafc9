package bus

import (
	"context"
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
func (s *Server) eventsStream() string { return eventsStreamOf(s.node, s.options().Config) }

// eventsStreamOf is the name of node's events stream: EventsStream, or
// EventsStream_NODE in a cluster, whose servers share one JetStream.
func eventsStreamOf(node string, b config.Bus) string {
	if b.Cluster == nil {
		return EventsStream
	}
	return EventsStream + "_" + Token(node)
}

// eventsPlacement keeps a clustered node's events stream on its own server.
func (s *Server) eventsPlacement() *jetstream.Placement {
	c := s.options().Config.Cluster
	if c == nil {
		return nil
	}
	return &jetstream.Placement{Cluster: c.Name, Tags: []string{nodeTag(s.node)}}
}

// clusterRetry calls fn until it succeeds, in a cluster for up to
// startTimeout: the servers take some seconds to elect a JetStream leader
// once they route to each other, and the leader to learn a new server's
// tags; until then a stream placed on this node cannot be made.
func (s *Server) clusterRetry(ctx context.Context, fn func(context.Context) error) error {
	if s.options().Config.Cluster == nil {
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
	return !reflect.DeepEqual(a.Cluster, b.Cluster) || a.FleetSecretFile != b.FleetSecretFile
}

func nodeTag(node string) string { return "node:" + Token(node) }

// fleetOptions sets the cluster options of o from opts.
func fleetOptions(o *server.Options, opts Options) error {
	c := opts.Config.Cluster
	if c == nil {
		return nil
	}
	if opts.FleetSecret == "" {
		return errors.New("bus.cluster needs the fleet secret")
	}
	host, p, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("bus.cluster.listen: %w", err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return fmt.Errorf("bus.cluster.listen: %w", err)
	}
	o.Cluster.Name, o.Cluster.Host, o.Cluster.Port = c.Name, host, port
	o.Cluster.Username, o.Cluster.Password = FleetUser, opts.FleetSecret
	for _, r := range c.Routes {
		u, err := url.Parse(r)
		if err != nil {
			return fmt.Errorf("bus.cluster.routes: %w", err)
		}
		u.User = url.UserPassword(FleetUser, opts.FleetSecret)
		o.Routes = append(o.Routes, u)
	}
	o.Tags = append(o.Tags, nodeTag(opts.Node))
	return nil
}

// serviceDeny is what a service may not publish: steward's own subjects,
// and the JetStream calls that would change or delete steward's streams.
func serviceDeny(eventsStream string) []string {
	deny := []string{"steward.>",
		// steward's consumer of the advisories: deleting, changing, pulling
		// from or acking it.
		"$JS.API.CONSUMER.*." + AdvisoryStream + "." + dlqConsumer,
		"$JS.API.CONSUMER.CREATE." + AdvisoryStream + "." + dlqConsumer + ".>",
		"$JS.API.CONSUMER.DURABLE.CREATE." + AdvisoryStream + "." + dlqConsumer,
		"$JS.API.CONSUMER.MSG.NEXT." + AdvisoryStream + "." + dlqConsumer,
		"$JS.ACK." + AdvisoryStream + "." + dlqConsumer + ".>",
	}
	for _, st := range []string{eventsStream, DLQStream, AdvisoryStream} {
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
