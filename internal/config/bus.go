package config

import (
	"net"
	"time"

	"go.yaml.in/yaml/v3"
)

// Bus defaults.
const (
	DefaultBusMaxMemory = 64 << 20 // bytes of JetStream memory storage
	DefaultBusMaxStore  = 1 << 30  // bytes of JetStream file storage
	// DefaultBusEventsMaxAge is how long the STEWARD_EVENTS stream keeps
	// the events published on the bus.
	DefaultBusEventsMaxAge = 7 * 24 * time.Hour
)

// Bus configures the embedded NATS server: the bus: section. A
// configuration without bus: has a nil Config.Bus, and runs no bus.
type Bus struct {
	// Listen is the TCP address of the bus for the supervised services and
	// other clients, always with credentials; "" means in-process only.
	Listen    string       `json:"listen,omitempty"`
	JetStream BusJetStream `json:"jetstream"`
	Events    BusEvents    `json:"events"`
}

// BusJetStream holds the limits of JetStream's storage, in bytes.
type BusJetStream struct {
	MaxMemory int64 `json:"max_memory"`
	MaxStore  int64 `json:"max_store"`
}

// BusEvents configures the stream steward's events are published into.
type BusEvents struct {
	MaxAge time.Duration `json:"max_age"`
}

func defaultBus() *Bus {
	return &Bus{
		JetStream: BusJetStream{MaxMemory: DefaultBusMaxMemory, MaxStore: DefaultBusMaxStore},
		Events:    BusEvents{MaxAge: DefaultBusEventsMaxAge},
	}
}

// bus reads the bus section; a null one is the defaults.
func (p *parser) bus(n *yaml.Node, c *Config) {
	b := defaultBus()
	c.Bus = b
	for _, f := range p.fields(n, "bus", "listen", "jetstream", "events") {
		switch f.key.Value {
		case "listen":
			b.Listen, p.busListen = p.listen(f.val, "bus.listen", "127.0.0.1:4222")
			if p.busListen != nil {
				if _, port, _ := net.SplitHostPort(b.Listen); port == "0" {
					p.errorf(f.val, "bus.listen needs a port other than 0: the services are told it in NATS_URL")
					b.Listen, p.busListen = "", nil
				}
			}
		case "jetstream":
			for _, g := range p.fields(f.val, "bus.jetstream", "max_memory", "max_store") {
				if size, ok := p.busSize(g.val, "bus.jetstream."+g.key.Value); ok {
					if g.key.Value == "max_memory" {
						b.JetStream.MaxMemory = size
					} else {
						b.JetStream.MaxStore = size
					}
				}
			}
		case "events":
			for _, g := range p.fields(f.val, "bus.events", "max_age") {
				if d, ok := p.positive(g.val, "bus.events.max_age"); ok {
					b.Events.MaxAge = d
				}
			}
		}
	}
}

// busSize reads a JetStream limit: a size of at least 1 MiB.
func (p *parser) busSize(n *yaml.Node, what string) (int64, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return 0, false
	}
	size, err := parseSize(s)
	switch {
	case err != nil:
		p.errorf(n, "%s: %v", what, err)
		return 0, false
	case size < 1<<20:
		p.errorf(n, "%s must be at least 1MiB", what)
		return 0, false
	}
	return size, true
}

// checkBusListen checks bus.listen against the other listeners, once the
// whole file is read: off loopback it needs api.tls, which serves it too,
// and it must not take the address of api.listen or web.listen.
func (p *parser) checkBusListen(c *Config) {
	if p.busListen == nil {
		return
	}
	addr := c.Bus.Listen
	hasTLS := c.API.TLS.Cert != "" && c.API.TLS.Key != ""
	if !hasTLS && !loopback(addr) {
		p.errorf(p.busListen, "bus.listen %q is not a loopback address: it needs api.tls.cert and api.tls.key", addr)
	}
	if addr == c.API.Listen || addr == c.Web.Listen {
		p.errorf(p.busListen, "bus.listen %q is the address of api.listen or web.listen", addr)
	}
}
