package config

import (
	"net/url"

	"go.yaml.in/yaml/v3"
)

// BusLeaf is bus.leafnodes: the embedded server as a hub that agents join
// as leaf nodes (Listen), or as an agent joining hubs (Remotes), or both.
// An agent keeps its own JetStream (its domain is its node name) and its
// services keep their bus while the hub is away; the fleet's subjects
// cross the leaf connection. Both sides authenticate with the fleet secret.
type BusLeaf struct {
	Listen string `json:"listen,omitempty"`
	// Remotes are the hubs' leaf listeners, nats-leaf://HOST:PORT, without
	// credentials.
	Remotes []string `json:"remotes,omitempty"`
	// TLS is the leaf connections' mutual TLS; without it they stay on
	// loopback.
	TLS *ClusterTLS `json:"tls,omitempty"`
}

// busLeaf reads bus.leafnodes.
func (p *parser) busLeaf(n *yaml.Node, b *Bus) {
	l := &BusLeaf{}
	var listen, tlsAt *yaml.Node
	urls := map[string]*yaml.Node{}
	for _, f := range p.fields(n, "bus.leafnodes", "listen", "remotes", "tls") {
		switch f.key.Value {
		case "listen":
			l.Listen, listen = p.listen(f.val, "bus.leafnodes.listen", "127.0.0.1:7422")
		case "remotes":
			for _, r := range p.strings(f.val, "bus.leafnodes.remotes") {
				if u, ok := p.fleetURL(r, "bus.leafnodes.remotes", "nats-leaf"); ok {
					l.Remotes = append(l.Remotes, u)
					urls[u] = r
				}
			}
		case "tls":
			tlsAt, l.TLS = f.key, p.clusterTLS(f.key, f.val)
		}
	}
	if listen == nil && len(l.Remotes) == 0 {
		p.errorf(n, "bus.leafnodes needs listen (agents join this node) or remotes (this node joins hubs)")
	}
	if tlsAt == nil && listen != nil && !loopback(l.Listen) {
		p.errorf(listen, "bus.leafnodes.listen %q is not a loopback address: it needs bus.leafnodes.tls", l.Listen)
	}
	for _, u := range l.Remotes {
		if pu, _ := url.Parse(u); tlsAt == nil && !loopback(pu.Host) {
			p.errorf(urls[u], "bus.leafnodes.remotes: %s is not on loopback: it needs bus.leafnodes.tls", u)
		}
	}
	b.Leaf = l
}

func leafListen(b *Bus) string {
	if b.Leaf == nil {
		return ""
	}
	return b.Leaf.Listen
}
