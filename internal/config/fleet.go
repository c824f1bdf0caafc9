package config

import (
	"net"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// BusCluster joins the embedded server to others with routes: the
// bus.cluster section. Every node of a cluster has a unique server name,
// its node name. Without TLS the listener and the routes must be on
// loopback.
type BusCluster struct {
	Name   string `json:"name"`
	Listen string `json:"listen"`
	// Routes are the URLs of the other servers' cluster listeners,
	// nats-route://HOST:PORT, without credentials: the fleet secret is
	// their password.
	Routes []string `json:"routes,omitempty"`
	// TLS is bus.cluster.tls: the routes' mutual TLS. Without it the
	// routes stay on loopback.
	TLS *ClusterTLS `json:"tls,omitempty"`
}

// ClusterTLS is the routes' mutual TLS: this node's certificate and key,
// and the CA every node's certificate must be signed by.
type ClusterTLS struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
	CA   string `json:"ca"`
}

// Fleet reports whether the bus joins other nodes' servers by routes,
// which the fleet secret authenticates.
func (b *Bus) Fleet() bool { return b != nil && (b.Cluster != nil || b.Leaf != nil) }

// busCluster reads bus.cluster.
func (p *parser) busCluster(n *yaml.Node, b *Bus) {
	cl := &BusCluster{}
	var listen, name *yaml.Node
	urls := map[string]*yaml.Node{}
	var tlsAt *yaml.Node
	for _, f := range p.fields(n, "bus.cluster", "name", "listen", "routes", "tls") {
		switch f.key.Value {
		case "name":
			name = f.val
			if s, ok := p.str(f.val, "bus.cluster.name"); ok {
				if msg := checkStreamName(s); msg != "" || strings.HasPrefix(s, "STEWARD") {
					p.errorf(f.val, "bus.cluster.name %q must be 1 to 64 letters, digits, '_' and '-'", s)
				} else {
					cl.Name = s
				}
			}
		case "listen":
			cl.Listen, listen = p.listen(f.val, "bus.cluster.listen", "127.0.0.1:6222")
		case "tls":
			tlsAt, cl.TLS = f.key, p.clusterTLS(f.key, f.val)
		case "routes":
			for _, r := range p.strings(f.val, "bus.cluster.routes") {
				if u, ok := p.fleetURL(r, "bus.cluster.routes", "nats-route"); ok {
					cl.Routes = append(cl.Routes, u)
					urls[u] = r
				}
			}
		}
	}
	if name == nil {
		p.errorf(n, "bus.cluster needs a name")
	}
	if listen == nil {
		p.errorf(n, "bus.cluster needs listen: the address the other servers route to")
	}
	if tlsAt == nil && listen != nil && !loopback(cl.Listen) {
		p.errorf(listen, "bus.cluster.listen %q is not a loopback address: it needs bus.cluster.tls", cl.Listen)
	}
	for _, u := range cl.Routes {
		if pu, _ := url.Parse(u); tlsAt == nil && !loopback(pu.Host) {
			p.errorf(urls[u], "bus.cluster.routes: %s is not on loopback: it needs bus.cluster.tls", u)
		}
	}
	b.Cluster = cl
}

// clusterTLS reads bus.cluster.tls (at key): cert, key and ca, all of them.
func (p *parser) clusterTLS(key, n *yaml.Node) *ClusterTLS {
	t := &ClusterTLS{}
	for _, f := range p.fields(n, "bus.cluster.tls", "cert", "key", "ca") {
		dst := map[string]*string{"cert": &t.Cert, "key": &t.Key, "ca": &t.CA}[f.key.Value]
		*dst, _ = p.path(f.val, "bus.cluster.tls."+f.key.Value)
	}
	if t.Cert == "" || t.Key == "" || t.CA == "" {
		p.errorf(key, "bus.cluster.tls needs cert, key and ca: this node's certificate and key, and the CA that signs every node's")
		return nil
	}
	return t
}

// fleetURL reads the URL of another server: scheme://HOST:PORT, without
// credentials, which come from the fleet secret.
func (p *parser) fleetURL(n *yaml.Node, what, scheme string) (string, bool) {
	s := resolve(n).Value
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Scheme != scheme || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "":
		p.errorf(n, "%s: %q must be %s://HOST:PORT", what, s, scheme)
		return "", false
	case u.User != nil:
		p.errorf(n, "%s: %q must not hold credentials: the nodes authenticate with bus.fleet_secret_file", what, s)
		return "", false
	}
	if _, port, err := net.SplitHostPort(u.Host); err != nil || !validPort(port, 1) {
		p.errorf(n, "%s: %q must be %s://HOST:PORT", what, s, scheme)
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}

// checkFleet checks that a bus joining other nodes has the fleet secret,
// and that its listeners differ from bus.listen.
func (p *parser) checkFleet(c *Config, secret *yaml.Node) {
	b := c.Bus
	if b == nil {
		return
	}
	if b.Fleet() && b.FleetSecretFile == "" {
		p.errorf(p.busAt, "bus.cluster and bus.leafnodes need bus.fleet_secret_file: the secret the nodes of the fleet share")
	}
	if !b.Fleet() && secret != nil {
		p.errorf(secret, "bus.fleet_secret_file is for bus.cluster or bus.leafnodes, neither of which is set")
	}
	seen := map[string]string{}
	for _, l := range []struct{ what, addr string }{{"bus.listen", b.Listen}, {"bus.cluster.listen", clusterListen(b)}, {"bus.leafnodes.listen", leafListen(b)}} {
		if l.addr == "" {
			continue
		}
		if other, ok := seen[l.addr]; ok {
			p.errorf(p.busAt, "%s %q is the address of %s", l.what, l.addr, other)
		}
		seen[l.addr] = l.what
	}
}

func clusterListen(b *Bus) string {
	if b.Cluster == nil {
		return ""
	}
	return b.Cluster.Listen
}

// registry reads the registry section of a service: what the registry
// publishes of it while it runs.
func (p *parser) registry(n *yaml.Node, service string) *ServiceRegistry {
	r := &ServiceRegistry{Name: service}
	for _, f := range p.fields(n, "registry", "name", "port", "address", "tags", "meta") {
		switch f.key.Value {
		case "name":
			if s, ok := p.str(f.val, "registry.name"); ok {
				if !ValidRegistryName(s) {
					p.errorf(f.val, "registry.name %q must be 1 to 64 letters, digits, '-' and '_'", s)
				} else {
					r.Name = s
				}
			}
		case "port":
			if i, ok := p.count(f.val, "registry.port"); ok {
				if i < 1 || i > 65535 {
					p.errorf(f.val, "registry.port must be 1 to 65535")
				} else {
					r.Port = i
				}
			}
		case "address":
			r.Address, _ = p.str(f.val, "registry.address")
		case "tags":
			for _, t := range p.strings(f.val, "registry.tags") {
				r.Tags = append(r.Tags, resolve(t).Value)
			}
		case "meta":
			fields, _ := p.mapping(f.val, "registry.meta", duplicateKey)
			for _, g := range fields {
				if s, ok := p.str(g.val, "registry.meta."+g.key.Value); ok {
					if r.Meta == nil {
						r.Meta = map[string]string{}
					}
					r.Meta[g.key.Value] = s
				}
			}
		}
	}
	if !ValidRegistryName(r.Name) {
		p.errorf(n, "registry: the service name %q cannot name an instance: set registry.name", service)
	}
	return r
}

// ServiceRegistry is what the registry publishes of a service while it runs: the
// registry section of a service.
type ServiceRegistry struct {
	Name    string            `json:"name"`
	Port    int               `json:"port,omitempty"`
	Address string            `json:"address,omitempty"`
	Tags    []string          `json:"tags,omitempty"`
	Meta    map[string]string `json:"meta,omitempty"`
}

// ValidRegistryName reports whether s can name the instances of a
// registry entry: 1 to 64 letters, digits, '-' and '_' (a KV key token).
func ValidRegistryName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// maxReplicas is JetStream's most replicas of a stream.
const maxReplicas = 5

// replicas reads a stream's replicas (what, at n): 1 to 5, and more than
// 1 only where servers share a JetStream, in a cluster of at least as many
// servers as bus.cluster names.
func (p *parser) replicas(n *yaml.Node, what string) int {
	r, ok := p.count(n, what)
	if !ok {
		return 0
	}
	if r < 1 || r > maxReplicas {
		p.errorf(n, "%s must be 1 to %d", what, maxReplicas)
		return 0
	}
	p.later = append(p.later, func(c *Config) {
		b := c.Bus
		switch {
		case r == 1:
		case b.Cluster == nil && b.External == nil:
			p.errorf(n, "%s: %d replicas need servers that share a JetStream: bus.cluster or bus.url", what, r)
		case b.Cluster != nil && r > len(b.Cluster.Routes)+1:
			p.errorf(n, "%s: %d replicas, but bus.cluster names %d servers", what, r, len(b.Cluster.Routes)+1)
		}
	})
	return r
}
