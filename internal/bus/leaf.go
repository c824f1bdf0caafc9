package bus

import (
	"errors"

	"github.com/nats-io/nats-server/v2/server"
)

// leafOptions sets the leaf node options of o from opts: a listener that
// agents join, and the hubs this node joins. An agent's JetStream is its
// own, in a domain named after the node, so its streams stay on it and a
// hub's stay on the hub.
func leafOptions(o *server.Options, opts Options) error {
	l := opts.Config.Leaf
	if l == nil {
		return nil
	}
	if opts.FleetSecret == "" {
		return errors.New("bus.leafnodes needs the fleet secret")
	}
	var err error
	if l.Listen != "" {
		if o.LeafNode.Host, o.LeafNode.Port, err = hostPort(l.Listen, "bus.leafnodes.listen"); err != nil {
			return err
		}
		o.LeafNode.Username, o.LeafNode.Password = FleetUser, opts.FleetSecret
		if l.TLS != nil {
			if o.LeafNode.TLSConfig, err = fleetTLS(l.TLS, "bus.leafnodes.tls"); err != nil {
				return err
			}
			o.LeafNode.TLSTimeout = fleetTLSTimeout
		}
	}
	if len(l.Remotes) == 0 {
		return nil
	}
	urls, err := fleetURLs(l.Remotes, opts.FleetSecret, "bus.leafnodes.remotes")
	if err != nil {
		return err
	}
	remote := &server.RemoteLeafOpts{URLs: urls}
	if l.TLS != nil {
		if remote.TLSConfig, err = fleetTLS(l.TLS, "bus.leafnodes.tls"); err != nil {
			return err
		}
		remote.TLS, remote.TLSTimeout = true, fleetTLSTimeout
	}
	o.LeafNode.Remotes = []*server.RemoteLeafOpts{remote}
	o.JetStreamDomain = Token(opts.Node)
	return nil
}
