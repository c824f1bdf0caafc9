package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultBusFileSettle is how long a dropped file's size and time must stay
// the same before a file bridge publishes it.
const DefaultBusFileSettle = time.Second

// BusFile is an inbound file bridge of bus.files: each file dropped into
// Dir is published on Subject, once its size has not changed for Settle,
// and moved to Dir/done or Dir/failed.
type BusFile struct {
	Dir     string        `json:"dir"`
	Subject string        `json:"subject"`
	Settle  time.Duration `json:"settle"`
}

// BusSink is an outbound file bridge of bus.sinks: each message on Subject
// is written to a file of its own in Dir.
type BusSink struct {
	Subject string `json:"subject"`
	Dir     string `json:"dir"`
}

// bridgeDir is a directory a file bridge owns, for the overlap checks.
type bridgeDir struct {
	what string
	dir  string
	node *yaml.Node
}

// busFiles reads bus.files, a list of inbound file bridges.
func (p *parser) busFiles(n *yaml.Node, b *Bus) []bridgeDir {
	var dirs []bridgeDir
	for i, item := range p.list(n, "bus.files", "a list of {dir, subject}") {
		what := fmt.Sprintf("bus.files[%d]", i)
		f := BusFile{Settle: DefaultBusFileSettle}
		var dirNode, subjNode *yaml.Node
		for _, g := range p.fields(item, what, "dir", "subject", "settle") {
			switch g.key.Value {
			case "dir":
				f.Dir, _ = p.path(g.val, what+".dir")
				dirNode = g.val
			case "subject":
				if s, ok := p.str(g.val, what+".subject"); ok {
					subjNode = g.val
					if msg := publishSubject(s); msg != "" {
						p.errorf(g.val, "%s.subject: %s", what, msg)
					} else {
						f.Subject = s
					}
				}
			case "settle":
				if d, ok := p.positive(g.val, what+".settle"); ok {
					f.Settle = d
				}
			}
		}
		if !p.bridgeComplete(item, what, f.Dir, f.Subject, dirNode, subjNode) {
			continue
		}
		b.Files = append(b.Files, f)
		dirs = append(dirs, bridgeDir{what + ".dir", f.Dir, dirNode})
		p.inStream(subjNode, what+".subject", f.Subject, b)
	}
	return dirs
}

// busSinks reads bus.sinks, a list of outbound file bridges.
func (p *parser) busSinks(n *yaml.Node, b *Bus) []bridgeDir {
	var dirs []bridgeDir
	for i, item := range p.list(n, "bus.sinks", "a list of {subject, dir}") {
		what := fmt.Sprintf("bus.sinks[%d]", i)
		var s BusSink
		var dirNode, subjNode *yaml.Node
		for _, g := range p.fields(item, what, "subject", "dir") {
			switch g.key.Value {
			case "dir":
				s.Dir, _ = p.path(g.val, what+".dir")
				dirNode = g.val
			case "subject":
				if v, ok := p.str(g.val, what+".subject"); ok {
					subjNode = g.val
					if msg := checkSubject(v); msg != "" {
						p.errorf(g.val, "%s.subject: %s", what, msg)
					} else {
						s.Subject = v
					}
				}
			}
		}
		if !p.bridgeComplete(item, what, s.Dir, s.Subject, dirNode, subjNode) {
			continue
		}
		b.Sinks = append(b.Sinks, s)
		dirs = append(dirs, bridgeDir{what + ".dir", s.Dir, dirNode})
		p.inStream(subjNode, what+".subject", s.Subject, b)
	}
	return dirs
}

// list returns the items of the list n; null or absent (nil) is an empty
// list.
func (p *parser) list(n *yaml.Node, what, shape string) []*yaml.Node {
	if n == nil {
		return nil
	}
	v := p.deref(n)
	switch {
	case isNull(v):
		return nil
	case v.Kind != yaml.SequenceNode:
		p.errorf(n, "%s must be %s", what, shape)
		return nil
	}
	return v.Content
}

// bridgeComplete reports whether a bridge has its dir and subject, saying
// which is missing unless its node was set (and then reported already).
func (p *parser) bridgeComplete(item *yaml.Node, what, dir, subject string, dirNode, subjNode *yaml.Node) bool {
	if dir == "" && dirNode == nil {
		p.errorf(item, "%s needs dir", what)
	}
	if subject == "" && subjNode == nil {
		p.errorf(item, "%s needs subject", what)
	}
	return dir != "" && subject != ""
}

// publishSubject returns what is wrong with a subject a file bridge
// publishes on, or "": one subject, no wildcards, not steward's or the
// system's.
func publishSubject(s string) string {
	if msg := checkSubject(s); msg != "" {
		return msg
	}
	switch {
	case strings.ContainsAny(s, "*>"):
		return fmt.Sprintf("%q: a file is published on one subject, without wildcards", s)
	case s == "steward" || strings.HasPrefix(s, "steward.") || strings.HasPrefix(s, "$"):
		return fmt.Sprintf("%q is steward's or the system's subject", s)
	}
	return ""
}

// inStream checks that a stream of bus.streams holds every subject that
// subject matches: a bridge's messages go through JetStream, which stores
// them and deduplicates them by id.
func (p *parser) inStream(n *yaml.Node, what, subject string, b *Bus) {
	for _, name := range b.StreamOrder {
		for _, ss := range b.Streams[name].Subjects {
			if subjectWithin(subject, ss) {
				return
			}
		}
	}
	p.errorf(n, "%s %q is in no stream of bus.streams: a file bridge needs JetStream to keep its messages", what, subject)
}

// subjectWithin reports whether every subject that pattern sub matches
// also matches the pattern of.
func subjectWithin(sub, of string) bool {
	a, b := strings.Split(sub, "."), strings.Split(of, ".")
	for i, t := range a {
		switch {
		case i >= len(b):
			return false
		case b[i] == ">":
			return true
		case t == ">":
			return false
		case b[i] == "*":
		case t != b[i]:
			return false
		}
	}
	return len(a) == len(b)
}

// checkBridgeDirs checks that no two file bridges share or nest their
// directories (a sink writing into a watched directory would publish its
// own messages again) and that none is in data_dir or holds it.
func (p *parser) checkBridgeDirs(dirs []bridgeDir) {
	for i, d := range dirs {
		for _, e := range dirs[:i] {
			if Within(d.dir, e.dir) || Within(e.dir, d.dir) {
				p.errorf(d.node, "%s %q overlaps %s %q: each file bridge needs a directory of its own", d.what, d.dir, e.what, e.dir)
			}
		}
	}
	if len(dirs) == 0 {
		return
	}
	p.later = append(p.later, func(c *Config) {
		for _, d := range dirs {
			if Within(d.dir, c.DataDir) || Within(c.DataDir, d.dir) {
				p.errorf(d.node, "%s %q overlaps data_dir %q", d.what, d.dir, c.DataDir)
			}
		}
	})
}

// Within reports whether path a is dir or inside it; both are clean and
// absolute.
func Within(a, dir string) bool {
	rel, err := filepath.Rel(dir, a)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
