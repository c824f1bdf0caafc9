package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Registry holds the schemas that Parse does not know itself: the kinds of
// service besides exec, and the types of notifier of the notify: section,
// each decoding and validating its own section. cmd/steward builds it from
// the built-in kinds and notifiers (internal/kinds/builtin); the zero
// Registry knows neither, and a file that uses one is invalid.
type Registry struct {
	Kinds map[string]KindSchema
	// Notifiers decode the value of a notifier's type key, e.g. the
	// mapping of webhook: in `ops: {webhook: {url: …}}`, and return what
	// Notifier.Spec holds.
	Notifiers map[string]func(s *Section) any
}

// KindSchema is the schema of the services of one kind other than exec.
type KindSchema struct {
	// Keys are the keys a service of the kind takes besides the lifecycle
	// keys every kind takes (kind, depends_on, disabled, restart and
	// logs), which Parse reads itself.
	Keys []string
	// Decode decodes and validates fields, the service's fields among
	// Keys in file order, and returns the service's Spec; it reports
	// problems through s. Nil means a kind with no keys of its own.
	Decode func(s *Section, fields []Field) any
}

// Notifier is one entry of the notify: section: a name and one type of
// notifier, with the settings its decoder returned.
type Notifier struct {
	Name string `json:"name"`
	Type string `json:"type"` // a key of Registry.Notifiers
	Spec any    `json:"spec"`
	// At locates the notifier's fields, spelled as its decoder recorded
	// them in Section.At, for the problems found once it is built.
	At Positions `json:"-"`
}

// Field is one key and its value in a mapping.
type Field struct {
	Key, Value *yaml.Node
}

// Pos is a 1-based position in the configuration file.
type Pos struct{ Line, Col int }

// PosOf returns the position of n.
func PosOf(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// Positions maps the fields of a section, spelled as its validation names
// them ("webhook.url", "rules[0].when"), to where they are in the file;
// "" is the section itself.
type Positions map[string]Pos

// Find returns the position of field, or of the nearest field that holds
// it, or of the section.
func (ps Positions) Find(field string) Pos {
	for f := field; f != ""; {
		if p, ok := ps[f]; ok {
			return p
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return ps[""]
}

// ErrorAt returns the problem msg at position at of c's file, for what is
// found wrong with c after Parse (a notifier's secret that cannot be
// resolved).
func (c *Config) ErrorAt(at Pos, format string, args ...any) *Error {
	return &Error{File: c.errFile, Line: max(at.Line, 1), Col: max(at.Col, 1), Msg: fmt.Sprintf(format, args...)}
}

// Section is one part of the file that its owner decodes: a service of a
// kind other than exec, or the settings of one notifier. Its methods read
// YAML values and report each problem as a FILE:LINE:COL error of the
// Parse that made it; they follow aliases and merge keys as Parse does.
// A Section is valid only during the Parse that made it: in its Decode
// call and the functions it passed to Later.
type Section struct {
	p *parser
	// Name is the service's or the notifier's name.
	Name string
	// Key is the section's key in the file, and Node its value.
	Key, Node *yaml.Node
	// At starts with "" at the position of the service or the notifier
	// (and, for a notifier, its type key at the type's name); a decoder
	// adds the positions of the fields its validation names. Parse keeps
	// a notifier's At in Notifier.At.
	At Positions

	errs int // problems found before the section began
}

// Errorf reports a problem at n.
func (s *Section) Errorf(n *yaml.Node, format string, args ...any) {
	s.p.errorf(n, format, args...)
}

// ErrorAt reports a problem at position at.
func (s *Section) ErrorAt(at Pos, format string, args ...any) {
	if s.p.overBudget {
		return
	}
	s.p.errs = append(s.p.errs, &Error{File: s.p.file, Line: max(at.Line, 1), Col: max(at.Col, 1), Msg: fmt.Sprintf(format, args...)})
}

// Failed reports whether a problem was found in the section so far: its
// validation waits until what it validates was read without one.
func (s *Section) Failed() bool { return len(s.p.errs) > s.errs }

// Later runs f once the whole file is read, for the references of the
// section to other parts of it (a service it follows must be declared).
func (s *Section) Later(f func(c *Config)) { s.p.later = append(s.p.later, f) }

// Fields returns the fields of the mapping n in file order, merge keys
// expanded, reporting keys given twice and keys not in known. A null n
// has none. what names n in errors.
func (s *Section) Fields(n *yaml.Node, what string, known ...string) []Field {
	return exported(s.p.fields(n, what, known...))
}

// Entries returns the fields of the mapping n, whatever their keys,
// reporting keys given twice: a map such as env: or headers:.
func (s *Section) Entries(n *yaml.Node, what string) []Field {
	fields, _ := s.p.mapping(n, what, duplicateKey)
	return exported(fields)
}

func exported(fields []field) []Field {
	out := make([]Field, len(fields))
	for i, f := range fields {
		out[i] = Field{f.key, f.val}
	}
	return out
}

// List returns the items of the list n, and false when n is neither a
// list nor null.
func (s *Section) List(n *yaml.Node) ([]*yaml.Node, bool) {
	v := s.p.deref(n)
	switch {
	case isNull(v):
		return nil, true
	case v.Kind != yaml.SequenceNode:
		return nil, false
	}
	return v.Content, true
}

// Value returns n, an alias followed.
func (s *Section) Value(n *yaml.Node) *yaml.Node { return resolve(n) }

// String returns the text of the scalar n. It returns false when n is null
// (the key counts as unset) or not valid.
func (s *Section) String(n *yaml.Node, what string) (string, bool) { return s.p.str(n, what) }

// Strings returns the nodes of a string or a list of strings.
func (s *Section) Strings(n *yaml.Node, what string) []*yaml.Node { return s.p.strings(n, what) }

// Path returns the path n names, made absolute from the configuration
// file's directory.
func (s *Section) Path(n *yaml.Node, what string) (string, bool) { return s.p.path(n, what) }

// Count returns the whole number n, which must not be negative.
func (s *Section) Count(n *yaml.Node, what string) (int, bool) { return s.p.count(n, what) }

// Duration returns the duration n ("10s", "1h30m", "2d").
func (s *Section) Duration(n *yaml.Node, what string) (time.Duration, bool) {
	return s.p.duration(n, what)
}

// Positive returns the duration n, which must be more than 0.
func (s *Section) Positive(n *yaml.Node, what string) (time.Duration, bool) {
	return s.p.positive(n, what)
}

// Command returns the words of n: a list of strings, or a string split
// like a shell would.
func (s *Section) Command(n *yaml.Node, what string) ([]string, bool) { return s.p.command(n, what) }

// Threshold returns the threshold expression n ("> 80% for 5m"), a
// problem reported at its column.
func (s *Section) Threshold(n *yaml.Node, what string) (Threshold, bool) {
	return s.p.threshold(n, what)
}

// Suggest returns ` (did you mean "x"?)` for the one of known closest to
// s, or "" when none is close: the tail of a message about an unknown name.
func Suggest(s string, known []string) string { return suggest(s, known) }
