package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// parser walks the YAML node tree of one file and collects every error.
type parser struct {
	file string
	dir  string // base of relative paths
	reg  Registry
	errs ErrorList
	// aliased counts the nodes that aliases brought in. Past aliasLimit,
	// aliases count as null, so that a small file cannot make Parse
	// allocate without bound, and no more errors are reported: they would
	// be about the nulls.
	aliased, aliasLimit int
	overBudget          bool
	// merged memoizes the fields of mappings, merge keys expanded; a nil
	// entry marks a mapping being expanded.
	merged map[*yaml.Node][]field
	// declared holds the key of every declared service, deps the list items
	// of its depends_on.
	declared map[string]*yaml.Node
	deps     map[string][]*yaml.Node
	// needs holds the list items of each step's needs.
	needs map[stepKey][]*yaml.Node
	// routeTo holds the notifier names of alerts.routes, checked once the
	// whole file is read, as the checks of later are run.
	routeTo []*yaml.Node
	// tenantRefs holds the values of every tenant: key, checked once the
	// whole file is read.
	tenantRefs []*yaml.Node
	later      []func(*Config)
	// The nodes of api.listen, api.tls and web.listen, checked together
	// once the whole file is read; nil when not set.
	apiListen, apiTLS, webListen *yaml.Node
	busListen                    *yaml.Node
	busAt                        *yaml.Node // the bus section
}

// stepKey names a step of a workflow.
type stepKey struct{ workflow, step string }

// field is one key and its value in a mapping.
type field struct {
	key, val *yaml.Node
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if p.overBudget {
		return
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)})
}

// document decodes data into its single YAML document. It returns nil and
// true for an empty file, and false when data is not YAML, is too large or
// is not UTF-8 (checkText), or uses a tag steward does not take (checkTags).
func (p *parser) document(data []byte) (doc *yaml.Node, ok bool) {
	if msg := checkText(data); msg != "" {
		p.errs = append(p.errs, &Error{File: p.file, Line: 1, Col: 1, Msg: msg})
		return nil, false
	}
	doc, ok = p.decode(data)
	if doc != nil && !p.checkTags(doc) {
		return nil, false
	}
	return doc, ok
}

// decode decodes data into its single YAML document, as document does.
func (p *parser) decode(data []byte) (doc *yaml.Node, ok bool) {
	defer func() {
		// The YAML library must not crash steward on bad input.
		if r := recover(); r != nil {
			p.errs = append(p.errs, &Error{File: p.file, Line: 1, Col: 1, Msg: fmt.Sprintf("invalid YAML: %v", r)})
			doc, ok = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first yaml.Node
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		p.syntaxError(data, err)
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		p.errorf(&next, "a configuration file holds one YAML document, this is a second one")
	case !errors.Is(err, io.EOF):
		p.syntaxError(data, err)
	}
	return &first, true
}

// syntaxError records err from the YAML library, which has a position only
// in its text: "yaml: line 3: did not find expected key". The library counts
// lines from 1 for the problems its scanner finds but from 0 for those of its
// parser, and leaves out line 0 (the first line).
func (p *parser) syntaxError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line, col := 1, 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil && n > 0 {
				line, msg = n, text
			}
		}
		if parserProblem(msg) {
			line++
		}
		// A problem at the end of the file is on the line after the last.
		lines := bytes.Count(data, []byte("\n"))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++
		}
		line = max(1, min(line, lines))
	}
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		// Point at the first use of the alias.
		name = strings.TrimSuffix(name, "' referenced")
		if i := bytes.Index(data, []byte("*"+name)); i >= 0 {
			line = 1 + bytes.Count(data[:i], []byte("\n"))
			col = 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:i], '\n')+1:i])
		}
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Col: col, Msg: "invalid YAML: " + msg})
}

// parserProblem reports whether msg is one of the YAML parser's problems.
func parserProblem(msg string) bool {
	switch msg {
	case "did not find expected <stream-start>",
		"did not find expected <document start>",
		"did not find expected node content",
		"did not find expected '-' indicator",
		"did not find expected key",
		"did not find expected ',' or ']'",
		"did not find expected ',' or '}'",
		"found undefined tag handle",
		"found duplicate %YAML directive",
		"found duplicate %TAG directive",
		"found incompatible YAML document":
		return true
	}
	return false
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// deref follows an alias like resolve, charging the nodes it brings in to
// the aliasing budget.
func (p *parser) deref(n *yaml.Node) *yaml.Node {
	v := resolve(n)
	if v == n || (v.Kind != yaml.MappingNode && v.Kind != yaml.SequenceNode) {
		return v
	}
	if !p.overBudget {
		p.aliased += len(v.Content)
		if p.aliased <= p.aliasLimit {
			return v
		}
		p.errorf(n, "aliases expand to more than %d nodes, too many for a file of this size", p.aliasLimit)
		p.overBudget = true
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// mapping returns the fields of the mapping n in order, merge keys ("<<")
// expanded, reporting keys that are not scalars and keys given twice. A null
// n is an empty mapping. what names n in errors; dup formats the error for a
// duplicate key from the key and the position of its first use.
func (p *parser) mapping(at *yaml.Node, what string, dup func(key, first string) string) ([]field, bool) {
	n := p.deref(at)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(at, "%s must be a mapping", what)
		return nil, false
	}
	if fields, ok := p.merged[n]; ok {
		if fields == nil {
			p.errorf(n, "%s merges itself", what)
		}
		return fields, fields != nil
	}
	p.merged[n] = nil
	var fields, merged []field
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind == yaml.ScalarNode && k.Tag == "!!merge":
			merged = append(merged, p.merge(v, what, dup)...)
		case k.Kind != yaml.ScalarNode:
			p.errorf(k, "%s: a key must be a string", what)
		case seen[k.Value] != nil:
			first := seen[k.Value]
			p.errorf(k, "%s", dup(k.Value, fmt.Sprintf("%d:%d", first.Line, first.Column)))
		default:
			seen[k.Value] = k
			fields = append(fields, field{k, v})
		}
	}
	for _, f := range merged {
		if seen[f.key.Value] == nil {
			seen[f.key.Value] = f.key
			fields = append(fields, f)
		}
	}
	if fields == nil {
		fields = []field{}
	}
	p.merged[n] = fields
	return fields, true
}

// merge returns the fields that the value v of a merge key brings in: those
// of one mapping, or of a list of mappings where the first one wins.
func (p *parser) merge(v *yaml.Node, what string, dup func(key, first string) string) []field {
	v = p.deref(v)
	sources := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		sources = v.Content
	}
	var fields []field
	seen := map[string]bool{}
	for _, s := range sources {
		if resolve(s).Kind != yaml.MappingNode {
			p.errorf(s, "%s: a merge key (<<) takes a mapping or a list of mappings", what)
			continue
		}
		fs, _ := p.mapping(s, what, dup)
		for _, f := range fs {
			if !seen[f.key.Value] {
				seen[f.key.Value] = true
				fields = append(fields, f)
			}
		}
	}
	return fields
}

// keys returns the fields of mapping n, reporting duplicate keys and keys
// not in known. It returns false when n is not a mapping.
func (p *parser) keys(n *yaml.Node, what string, known ...string) ([]field, bool) {
	fields, ok := p.mapping(n, what, duplicateKey)
	out := fields[:0:0]
	for _, f := range fields {
		if !slices.Contains(known, f.key.Value) {
			p.errorf(f.key, "unknown key %q%s", f.key.Value, suggest(f.key.Value, known))
			continue
		}
		out = append(out, f)
	}
	return out, ok
}

func duplicateKey(key, first string) string {
	return fmt.Sprintf("duplicate key %q (first at %s)", key, first)
}

// fields is keys without its second result.
func (p *parser) fields(n *yaml.Node, what string, known ...string) []field {
	fields, _ := p.keys(n, what, known...)
	return fields
}

// str returns the text of the scalar n. It returns false when n is null
// (the key counts as unset) or not valid.
func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	v := resolve(n)
	switch {
	case isNull(v):
		return "", false
	case v.Kind != yaml.ScalarNode:
		p.errorf(n, "%s must be a string", what)
		return "", false
	case strings.IndexByte(v.Value, 0) >= 0:
		p.errorf(n, "%s must not contain a NUL byte", what)
		return "", false
	}
	return v.Value, true
}

// path returns the path n names, absolute.
func (p *parser) path(n *yaml.Node, what string) (string, bool) {
	s, ok := p.str(n, what)
	switch {
	case !ok:
		return "", false
	case s == "":
		p.errorf(n, "%s must not be empty", what)
		return "", false
	case s == "~" || strings.HasPrefix(s, "~/"):
		p.errorf(n, "%s: ~ is not expanded, use an absolute path", what)
		return "", false
	}
	return absPath(p.dir, s), true
}

// absPath resolves path s from dir. On Windows, a path rooted without a
// drive (\srv) is on dir's drive.
func absPath(dir, s string) string {
	switch {
	case filepath.IsAbs(s):
		return filepath.Clean(s)
	case s != "" && filepath.VolumeName(s) == "" && os.IsPathSeparator(s[0]):
		return filepath.Join(filepath.VolumeName(dir), s)
	}
	return filepath.Join(dir, s)
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	v := resolve(n)
	if isNull(v) {
		return false, false
	}
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		p.errorf(n, "%s must be true or false", what)
		return false, false
	}
	return strings.EqualFold(v.Value, "true"), true
}

// count returns the whole number n, which must not be negative.
func (p *parser) count(n *yaml.Node, what string) (int, bool) {
	v := resolve(n)
	if isNull(v) {
		return 0, false
	}
	var i int
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&i) != nil {
		p.errorf(n, "%s must be a whole number", what)
		return 0, false
	}
	if i < 0 {
		p.errorf(n, "%s must not be negative", what)
		return 0, false
	}
	return i, true
}

func (p *parser) duration(n *yaml.Node, what string) (time.Duration, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return 0, false
	}
	d, err := parseDuration(s)
	if err != nil {
		p.errorf(n, "%s: %v", what, err)
		return 0, false
	}
	return d, true
}

// command returns the words of n: a list of strings, or a string split like
// a shell would. It returns false when n is null or not valid.
func (p *parser) command(n *yaml.Node, what string) ([]string, bool) {
	v := p.deref(n)
	var words []string
	switch {
	case isNull(v):
		return nil, false
	case v.Kind == yaml.ScalarNode:
		var err error
		if words, err = splitCommand(v.Value); err != nil {
			p.errorf(n, "%s: %v", what, err)
			return nil, false
		}
	case v.Kind == yaml.SequenceNode:
		for _, item := range v.Content {
			if w := resolve(item); w.Kind != yaml.ScalarNode || isNull(w) {
				p.errorf(item, "%s must be a string or a list of strings", what)
				return nil, false
			}
			words = append(words, resolve(item).Value)
		}
	default:
		p.errorf(n, "%s must be a string or a list of strings", what)
		return nil, false
	}
	switch {
	case len(words) == 0:
		p.errorf(n, "%s must not be empty", what)
		return nil, false
	case words[0] == "":
		p.errorf(n, "%s must start with a program, not an empty string", what)
		return nil, false
	}
	for _, w := range words {
		if strings.IndexByte(w, 0) >= 0 {
			p.errorf(n, "%s must not contain a NUL byte", what)
			return nil, false
		}
	}
	return words, true
}

// positive reads a duration that must be more than 0.
func (p *parser) positive(n *yaml.Node, what string) (time.Duration, bool) {
	d, ok := p.duration(n, what)
	if ok && d == 0 {
		p.errorf(n, "%s must be more than 0", what)
		return 0, false
	}
	return d, ok
}

// strings reads a string or a list of strings and returns their nodes.
func (p *parser) strings(n *yaml.Node, what string) []*yaml.Node {
	v := p.deref(n)
	switch {
	case isNull(v):
		return nil
	case v.Kind == yaml.ScalarNode:
		return []*yaml.Node{n}
	case v.Kind != yaml.SequenceNode:
		p.errorf(n, "%s must be a string or a list of strings", what)
		return nil
	}
	var out []*yaml.Node
	for _, item := range v.Content {
		if w := resolve(item); w.Kind != yaml.ScalarNode || isNull(w) {
			p.errorf(item, "%s must be a string or a list of strings", what)
			continue
		}
		if _, ok := p.str(item, what); ok {
			out = append(out, item)
		}
	}
	return out
}

// threshold parses the threshold expression of the scalar n, reporting a
// problem at its column in the file.
func (p *parser) threshold(n *yaml.Node, what string) (Threshold, bool) {
	s, ok := p.str(n, what)
	if !ok {
		p.errorf(n, "%s must be a condition like \"> 80%%\"", what)
		return Threshold{}, false
	}
	t, err := ParseThreshold(s)
	if err != nil {
		var te *ThresholdError
		if !errors.As(err, &te) {
			p.errorf(n, "%s: %v", what, err)
			return Threshold{}, false
		}
		v := resolve(n)
		col := v.Column + te.Offset
		if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			col++
		}
		if v.Line != n.Line || strings.Contains(s, "\n") {
			col = v.Column
		}
		if !p.overBudget {
			p.errs = append(p.errs, &Error{File: p.file, Line: v.Line, Col: col, Msg: fmt.Sprintf("%s: %s", what, te.Msg)})
		}
		return Threshold{}, false
	}
	return t, true
}
