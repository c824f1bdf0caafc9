package config

import (
	"fmt"
	"net"
	"strings"
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
	// Streams are the user streams of bus.streams, by name; StreamOrder
	// holds the names in file order.
	Streams     map[string]*BusStream `json:"streams,omitempty"`
	StreamOrder []string              `json:"-"`
	// Transforms are bus.transforms, in file order.
	Transforms []BusTransform `json:"transforms,omitempty"`
	// External is bus.url and its credentials: steward joins that NATS
	// deployment instead of embedding a server.
	External *BusExternal `json:"external,omitempty"`
	// Files and Sinks are the file bridges of bus.files and bus.sinks.
	Files []BusFile `json:"files,omitempty"`
	Sinks []BusSink `json:"sinks,omitempty"`
	// Cluster joins other nodes' servers (fleet.go), and Leaf hubs and
	// agents (leaf.go); nil when not set. FleetSecretFile holds the secret
	// their routes and leaf connections authenticate with.
	Cluster         *BusCluster `json:"cluster,omitempty"`
	Leaf            *BusLeaf    `json:"leafnodes,omitempty"`
	FleetSecretFile string      `json:"fleet_secret_file,omitempty"`
}

// BusStream is one user stream: JetStream keeps the messages on its
// subjects, within its limits (0 for none).
type BusStream struct {
	Name     string        `json:"name"`
	Subjects []string      `json:"subjects"`
	MaxAge   time.Duration `json:"max_age,omitempty"`
	MaxBytes int64         `json:"max_bytes,omitempty"`
	// Replicas is how many servers of a cluster keep it; 0 means 1.
	Replicas int `json:"replicas,omitempty"`
	// DeadLetter, when set, captures the messages its consumers gave up on.
	DeadLetter *BusDeadLetter `json:"dead_letter,omitempty"`
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
	p.busAt = n
	var secret *yaml.Node
	defer func() { p.later = append(p.later, func(c *Config) { p.checkFleet(c, secret) }) }()
	ext := map[string]field{} // bus.url and its credentials, and what they exclude
	var mappings []*yaml.Node // the transforms that are subject mappings
	var files, sinks *yaml.Node
	for _, f := range p.fields(n, "bus", "listen", "jetstream", "events", "streams", "transforms", "files", "sinks",
		"url", "user", "password", "creds", "nkey", "ca", "service_credentials", "cluster", "leafnodes", "fleet_secret_file") {
		switch f.key.Value {
		case "listen":
			ext[f.key.Value] = f
			b.Listen, p.busListen = p.listen(f.val, "bus.listen", "127.0.0.1:4222")
			if p.busListen != nil {
				if _, port, _ := net.SplitHostPort(b.Listen); port == "0" {
					p.errorf(f.val, "bus.listen needs a port other than 0: the services are told it in NATS_URL")
					b.Listen, p.busListen = "", nil
				}
			}
		case "jetstream":
			ext[f.key.Value] = f
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
		case "streams":
			p.busStreams(f.val, b)
		case "cluster":
			ext[f.key.Value] = f
			p.busCluster(f.val, b)
		case "leafnodes":
			ext[f.key.Value] = f
			p.busLeaf(f.val, b)
		case "fleet_secret_file":
			if b.FleetSecretFile, _ = p.path(f.val, "bus.fleet_secret_file"); b.FleetSecretFile != "" {
				secret = f.val
			}
		case "transforms":
			mappings = p.busTransforms(f.val, b)
		case "files":
			files = f.val
		case "sinks":
			sinks = f.val
		default:
			ext[f.key.Value] = f
		}
	}
	p.busExternal(b, ext, mappings)
	// The bridges are read once the streams are known.
	dirs := append(p.busFiles(files, b), p.busSinks(sinks, b)...)
	p.checkBridgeDirs(dirs)
}

// busStreams reads bus.streams: stream name → subjects and limits.
func (p *parser) busStreams(n *yaml.Node, b *Bus) {
	fields, _ := p.mapping(n, "bus.streams", func(name, first string) string {
		return fmt.Sprintf("duplicate stream %q (first at %s)", name, first)
	})
	owner := map[string]string{} // subject → the stream that takes it
	for _, f := range fields {
		name := f.key.Value
		if msg := checkStreamName(name); msg != "" {
			p.errorf(f.key, "bus.streams: %s", msg)
			continue
		}
		what := "bus.streams." + name
		st := &BusStream{Name: name}
		errs := len(p.errs)
		for _, g := range p.fields(f.val, what, "subjects", "max_age", "max_bytes", "replicas", "dead_letter") {
			switch g.key.Value {
			case "subjects":
				for _, sn := range p.strings(g.val, what+".subjects") {
					subj := resolve(sn).Value
					switch msg := checkSubject(subj); {
					case msg != "":
						p.errorf(sn, "%s.subjects: %s", what, msg)
					case subj == "steward" || strings.HasPrefix(subj, "steward.") || strings.HasPrefix(subj, "$") || subj == ">" || strings.HasPrefix(subj, "*."):
						p.errorf(sn, "%s.subjects: %q takes steward's or the system's subjects", what, subj)
					case owner[subj] != "":
						p.errorf(sn, "%s.subjects: %q is stream %s's already", what, subj, owner[subj])
					default:
						owner[subj] = name
						st.Subjects = append(st.Subjects, subj)
					}
				}
			case "max_age":
				if d, ok := p.duration(g.val, what+".max_age"); ok {
					st.MaxAge = d
				}
			case "max_bytes":
				if s, ok := p.str(g.val, what+".max_bytes"); ok {
					if size, err := parseSize(s); err != nil {
						p.errorf(g.val, "%s.max_bytes: %v", what, err)
					} else {
						st.MaxBytes = size
					}
				}
			case "replicas":
				st.Replicas = p.replicas(g.val, what+".replicas")
			case "dead_letter":
				st.DeadLetter = p.deadLetter(g.val, what+".dead_letter")
			}
		}
		if len(st.Subjects) == 0 && len(p.errs) == errs {
			p.errorf(f.key, "%s needs subjects", what)
		}
		if b.Streams == nil {
			b.Streams = map[string]*BusStream{}
		}
		b.Streams[name] = st
		b.StreamOrder = append(b.StreamOrder, name)
	}
}

// checkStreamName returns what is wrong with a stream name, or "".
func checkStreamName(name string) string {
	ok := name != "" && len(name) <= 64
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = isAlnum(c) || c == '_' || c == '-'
	}
	switch {
	case !ok:
		return fmt.Sprintf("stream name %q must be 1 to 64 letters, digits, '_' and '-'", name)
	case strings.HasPrefix(strings.ToUpper(name), "STEWARD_"):
		return fmt.Sprintf("%s: names starting with STEWARD_ are steward's own streams", name)
	}
	return ""
}

// checkSubject returns what is wrong with a subject a stream takes, or "":
// dot-separated tokens without spaces, * and > whole tokens, > the last.
func checkSubject(s string) string {
	if s == "" || len(s) > 1024 {
		return fmt.Sprintf("subject %q must be 1 to 1024 bytes", s)
	}
	toks := strings.Split(s, ".")
	for i, t := range toks {
		switch {
		case t == "":
			return fmt.Sprintf("subject %q has an empty token", s)
		case strings.ContainsAny(t, " \t\r\n"):
			return fmt.Sprintf("subject %q must not contain spaces", s)
		case t == ">" && i != len(toks)-1:
			return fmt.Sprintf("subject %q: > must be the last token", s)
		case len(t) > 1 && strings.ContainsAny(t, "*>"):
			return fmt.Sprintf("subject %q: a wildcard must be a whole token", s)
		}
	}
	return ""
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
		p.errorf(p.busListen, "bus.listen %q is not a loopback address: it needs api.tls (auto, or cert and key)", addr)
	}
	if addr == c.API.Listen || addr == c.Web.Listen {
		p.errorf(p.busListen, "bus.listen %q is the address of api.listen or web.listen", addr)
	}
}
