package config

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// BusTransform is one item of bus.transforms: messages published on From
// go to To instead (a NATS subject mapping), or, with a Template, steward
// republishes each on To with its payload rewritten.
type BusTransform struct {
	From string `json:"from"`
	// To is a subject whose tokens may be {{wildcard(N)}} (or $N): the
	// Nth * of From; a last > carries the rest of From's > over.
	To string `json:"to"`
	// Template is a text/template over the message's JSON payload whose
	// output is the new payload; "" keeps the payload as it is.
	Template string `json:"template,omitempty"`
}

// BusDeadLetter is a stream's dead_letter: the messages its consumers gave
// up on are kept in steward's DLQ stream.
type BusDeadLetter struct {
	// MaxDeliver is how many deliveries the stream's consumers should
	// attempt before giving up: the MaxDeliver they set (steward warns of
	// the consumers that set none, or another).
	MaxDeliver int `json:"max_deliver"`
}

// deadLetter reads a stream's dead_letter.
func (p *parser) deadLetter(n *yaml.Node, what string) *BusDeadLetter {
	d := &BusDeadLetter{}
	set := false
	for _, f := range p.fields(n, what, "max_deliver") {
		set = true
		if v, ok := p.count(f.val, what+".max_deliver"); ok {
			if v < 1 {
				p.errorf(f.val, "%s.max_deliver must be at least 1", what)
			}
			d.MaxDeliver = v
		}
	}
	if v := resolve(n); !set && (isNull(v) || v.Kind == yaml.MappingNode) {
		p.errorf(n, "%s needs max_deliver: how many deliveries its consumers attempt", what)
	}
	return d
}

// busTransforms reads bus.transforms, a list, and returns the nodes of the
// items that are subject mappings (no template).
func (p *parser) busTransforms(n *yaml.Node, b *Bus) []*yaml.Node {
	v := p.deref(n)
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(n, "bus.transforms must be a list of {from, to, template}")
		return nil
	}
	var mappings []*yaml.Node
	first := map[string]*yaml.Node{}
	for i, item := range v.Content {
		what := fmt.Sprintf("bus.transforms[%d]", i)
		var t BusTransform
		var fromAt, toAt, tmplAt *yaml.Node
		for _, f := range p.fields(item, what, "from", "to", "template") {
			s, ok := p.str(f.val, what+"."+f.key.Value)
			if !ok {
				continue
			}
			switch f.key.Value {
			case "from":
				t.From, fromAt = s, f.val
			case "to":
				t.To, toAt = s, f.val
			case "template":
				t.Template, tmplAt = s, f.val
			}
		}
		if resolve(item).Kind != yaml.MappingNode {
			continue // fields said so
		}
		errs := len(p.errs)
		switch {
		case fromAt == nil || toAt == nil:
			p.errorf(item, "%s needs from and to", what)
		default:
			if msg := checkMappingFrom(t.From); msg != "" {
				p.errorf(fromAt, "%s.from: %s", what, msg)
			} else if f := first[t.From]; f != nil {
				p.errorf(fromAt, "%s.from: %q is mapped already (at %d:%d)", what, t.From, f.Line, f.Column)
			} else {
				first[t.From] = fromAt
				if msg := CheckMapping(t.From, t.To); msg != "" {
					p.errorf(toAt, "%s.to: %s", what, msg)
				} else if t.Template != "" && overlaps(t.From, mappedPattern(t.To)) {
					p.errorf(toAt, "%s.to: %q may match from %q: steward would republish its own messages", what, t.To, t.From)
				}
			}
		}
		if tmplAt != nil {
			if _, err := ParseTransformTemplate(t.Template); err != nil {
				p.errorf(tmplAt, "%s.template: %v", what, err)
			}
		}
		if len(p.errs) > errs {
			continue
		}
		if t.Template == "" {
			mappings = append(mappings, item)
		}
		b.Transforms = append(b.Transforms, t)
	}
	return mappings
}

// ParseTransformTemplate parses a transform's template. Besides text/
// template's own functions it has json, which writes a value as JSON.
func ParseTransformTemplate(s string) (*template.Template, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty template")
	}
	return template.New("transform").Option("missingkey=error").Funcs(template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}).Parse(s)
}

// checkMappingFrom returns what is wrong with a transform's from, or "".
func checkMappingFrom(s string) string {
	if msg := checkSubject(s); msg != "" {
		return msg
	}
	if systemSubject(s) {
		return fmt.Sprintf("%q takes steward's or the system's subjects", s)
	}
	return ""
}

// systemSubject reports whether a subject pattern takes steward's or the
// system's subjects.
func systemSubject(s string) bool {
	return s == "steward" || strings.HasPrefix(s, "steward.") || strings.HasPrefix(s, "$") || s == ">" || strings.HasPrefix(s, "*.") || s == "*"
}

// wildcardToken is a destination token that is a wildcard reference:
// {{wildcard(N)}} (spaces allowed, any case) or $N.
var wildcardToken = regexp.MustCompile(`^(?:\{\{\s*(?i:wildcard)\s*\(\s*([0-9]+)\s*\)\s*\}\}|\$([0-9]+))$`)

// CheckMapping returns what is wrong with the mapping of the valid subject
// from to to, or "": to's tokens are literal, wildcard references to the
// *s of from, or a last > when from ends with > (which it then must).
func CheckMapping(from, to string) string {
	stars := 0
	ftoks := strings.Split(from, ".")
	for _, t := range ftoks {
		if t == "*" {
			stars++
		}
	}
	fwc := ftoks[len(ftoks)-1] == ">"
	if to == "" || len(to) > 1024 {
		return fmt.Sprintf("subject %q must be 1 to 1024 bytes", to)
	}
	if systemSubject(to) {
		return fmt.Sprintf("%q takes steward's or the system's subjects", to)
	}
	toks := strings.Split(to, ".")
	for i, t := range toks {
		if m := wildcardToken.FindStringSubmatch(t); m != nil {
			n, err := strconv.Atoi(m[1] + m[2])
			if err != nil || n < 1 || n > stars {
				return fmt.Sprintf("%s: from %q has %d * wildcard(s)", t, from, stars)
			}
			continue
		}
		switch {
		case t == "":
			return fmt.Sprintf("subject %q has an empty token", to)
		case t == ">" && i == len(toks)-1:
			if !fwc {
				return fmt.Sprintf("subject %q ends with >, which from %q does not", to, from)
			}
		case strings.ContainsAny(t, "*>{}$ \t\r\n"):
			return fmt.Sprintf("token %q of %q: want a literal, {{wildcard(N)}} or a last >", t, to)
		}
	}
	if fwc && toks[len(toks)-1] != ">" {
		return fmt.Sprintf("from %q ends with >: so must %q", from, to)
	}
	return ""
}

// mappedPattern is the subjects a mapping's destination may produce: its
// wildcard references become *.
func mappedPattern(to string) string {
	toks := strings.Split(to, ".")
	for i, t := range toks {
		if wildcardToken.MatchString(t) {
			toks[i] = "*"
		}
	}
	return strings.Join(toks, ".")
}

// overlaps reports whether some subject matches both patterns a and b.
func overlaps(a, b string) bool {
	x, y := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; ; i++ {
		switch {
		case i == len(x) && i == len(y):
			return true
		case i < len(x) && x[i] == ">" && i < len(y), i < len(y) && y[i] == ">" && i < len(x):
			return true
		case i == len(x) || i == len(y):
			return false
		case x[i] != y[i] && x[i] != "*" && y[i] != "*":
			return false
		}
	}
}
