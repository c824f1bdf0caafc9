package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/notify"
)

// Load reads the configuration file at path, made absolute, and parses it
// with Parse.
func Load(path string) (*Config, error) {
	abs, data, err := read(path)
	if err != nil {
		return nil, err
	}
	return Parse(abs, data)
}

// LoadSocket reads the configuration file at path, made absolute, and
// returns its API socket with Socket.
func LoadSocket(path string) (string, error) {
	abs, data, err := read(path)
	if err != nil {
		return "", err
	}
	return Socket(abs, data)
}

func read(path string) (abs string, data []byte, err error) {
	abs, err = filepath.Abs(path)
	if err != nil {
		return "", nil, fmt.Errorf("load config: %w", err)
	}
	data, err = os.ReadFile(abs)
	if err != nil {
		return "", nil, fmt.Errorf("load config: %w", err)
	}
	return abs, data, nil
}

// Parse parses, validates and completes with defaults the configuration text
// data. file names the text in error positions, and relative paths in it
// resolve from file's directory, or from the working directory when file is
// "". When data is not a valid configuration, Parse reports every problem it
// finds as an ErrorList, and no Config. Parse is safe for concurrent use.
func Parse(file string, data []byte) (*Config, error) {
	p, abs, err := newParser(file, data)
	if err != nil {
		return nil, err
	}
	root, ok := p.document(data)
	if !ok {
		return nil, p.errs.sorted()
	}
	c := p.config(root)
	if len(p.errs) > 0 {
		return nil, p.errs.sorted()
	}
	c.File = abs
	c.Source = bytes.Clone(data)
	return c, nil
}

// Socket returns the API socket that the configuration text data sets, as
// Parse would: api.socket, else the default socket in data_dir. It reads
// those two keys only, so that the CLI finds a running steward even when
// the rest of the file has errors or is newer than the binary; errors in
// those keys come as an ErrorList.
func Socket(file string, data []byte) (string, error) {
	p, _, err := newParser(file, data)
	if err != nil {
		return "", err
	}
	root, ok := p.document(data)
	if !ok {
		return "", p.errs.sorted()
	}
	var c Config
	var dataDir, socket *yaml.Node
	if root = top(root); root != nil {
		fields, _ := p.mapping(root, "the configuration", duplicateKey)
		for _, f := range fields {
			switch f.key.Value {
			case "data_dir":
				if s, ok := p.path(f.val, "data_dir"); ok {
					c.DataDir, dataDir = s, f.val
				}
			case "api":
				api, _ := p.mapping(f.val, "api", duplicateKey)
				for _, f := range api {
					if f.key.Value == "socket" {
						socket = p.socket(f.val, &c.API)
					}
				}
			}
		}
	}
	p.setSocket(&c, dataDir, socket)
	if len(p.errs) > 0 {
		return "", p.errs.sorted()
	}
	return c.API.Socket, nil
}

func newParser(file string, data []byte) (p *parser, abs string, err error) {
	var dir string
	if file == "" {
		dir, err = os.Getwd()
	} else {
		abs, err = filepath.Abs(file)
		dir = filepath.Dir(abs)
	}
	if err != nil {
		return nil, "", fmt.Errorf("parse config: %w", err)
	}
	return &parser{
		file:       file,
		dir:        dir,
		aliasLimit: len(data) + 10000,
		merged:     map[*yaml.Node][]field{},
		declared:   map[string]*yaml.Node{},
		deps:       map[string][]*yaml.Node{},
	}, abs, nil
}

// parser walks the YAML node tree of one file and collects every error.
type parser struct {
	file string
	dir  string // base of relative paths
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
	// routeTo holds the notifier names of alerts.routes, followed the
	// services log watches follow: checked once the whole file is read.
	routeTo  []*yaml.Node
	followed []follow
	// The nodes of api.listen, api.tls and web.listen, checked together
	// once the whole file is read; nil when not set.
	apiListen, apiTLS, webListen *yaml.Node
}

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
// true for an empty file, and false when data is not YAML.
func (p *parser) document(data []byte) (doc *yaml.Node, ok bool) {
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

// config reads the top level of the file.
func (p *parser) config(root *yaml.Node) *Config {
	c := &Config{Services: map[string]*Service{}, Checks: map[string]*Check{}, Alerts: defaultAlerts(), Metrics: defaultMetrics(),
		Notify: map[string]notify.Config{}, Notifications: defaultNotifications(),
		at: &positions{file: p.file, notify: map[string]fieldPos{}}}
	var dataDir, socket *yaml.Node
	if root = top(root); root != nil {
		for _, f := range p.fields(root, "the configuration", "node", "data_dir", "api", "web", "services", "checks", "alerts", "metrics", "notify", "notifications") {
			switch f.key.Value {
			case "node":
				if s, ok := p.str(f.val, "node"); ok {
					if validNode(s) {
						c.Node = s
					} else {
						p.errorf(f.val, "node %q must be a host name: letters, digits, '-', '_' and '.', starting with a letter or digit", s)
					}
				}
			case "data_dir":
				if s, ok := p.path(f.val, "data_dir"); ok {
					c.DataDir, dataDir = s, f.val
				}
			case "api":
				socket = p.api(f.val, &c.API)
			case "web":
				p.web(f.val, &c.Web)
			case "services":
				p.services(f.val, c)
			case "checks":
				p.checks(f.val, c)
			case "alerts":
				p.alerts(f.val, &c.Alerts)
			case "metrics":
				p.metrics(f.val, &c.Metrics)
			case "notify":
				p.notifiers(f.val, c)
			case "notifications":
				p.notifications(f.val, &c.Notifications)
			}
		}
	}

	if c.Node == "" {
		c.Node = hostname()
	}
	p.setSocket(c, dataDir, socket)
	p.checkListeners(c)
	p.checkDeps(c)
	p.checkConditions(c)
	p.checkRoutes(c)
	p.checkFollowed(c)
	return c
}

// top returns the top-level node of the document root: its only content.
func top(root *yaml.Node) *yaml.Node {
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		return root.Content[0]
	}
	return root
}

// setSocket completes c.DataDir and c.API.Socket with their defaults and
// checks the socket path. dataDir and socket are the nodes of data_dir and
// api.socket, nil when they are not set.
func (p *parser) setSocket(c *Config, dataDir, socket *yaml.Node) {
	if c.DataDir == "" {
		c.DataDir = defaultDataDir()
	}
	if socket != nil {
		if s, err := socketPath(p.dir, c.API.Socket); err != nil {
			p.errorf(socket, "api.socket: %v", err)
		} else {
			c.API.Socket = s
		}
		return
	}
	c.API.Socket = defaultSocket(c.DataDir)
	if _, err := socketPath(p.dir, c.API.Socket); err != nil && dataDir != nil {
		p.errorf(dataDir, "data_dir: the default api.socket in it is too long, set api.socket: %v", err)
	}
}

// hostname is the default node name.
func hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// validNode reports whether s can name a node: a host name.
func validNode(s string) bool {
	if s == "" || len(s) > 253 || !isAlnum(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// socket reads api.socket, node n, into a and returns n, or nil when it is
// null or not valid.
func (p *parser) socket(n *yaml.Node, a *API) *yaml.Node {
	s, ok := p.str(n, "api.socket")
	switch {
	case !ok:
		return nil
	case s == "":
		p.errorf(n, "api.socket must not be empty")
		return nil
	}
	a.Socket = s
	return n
}

// api reads the api section into a and returns the node of api.socket, nil
// when it is not set.
func (p *parser) api(n *yaml.Node, a *API) (socket *yaml.Node) {
	for _, f := range p.fields(n, "api", "socket", "socket_group", "listen", "token_file", "tls") {
		switch f.key.Value {
		case "socket":
			socket = p.socket(f.val, a)
		case "socket_group":
			a.SocketGroup, _ = p.str(f.val, "api.socket_group")
		case "listen":
			a.Listen, p.apiListen = p.listen(f.val, "api.listen", "127.0.0.1:7070")
		case "token_file":
			a.TokenFile, _ = p.path(f.val, "api.token_file")
		case "tls":
			p.apiTLS = f.key
			for _, f := range p.fields(f.val, "api.tls", "cert", "key") {
				switch f.key.Value {
				case "cert":
					a.TLS.Cert, _ = p.path(f.val, "api.tls.cert")
				case "key":
					a.TLS.Key, _ = p.path(f.val, "api.tls.key")
				}
			}
		}
	}
	return socket
}

// listen reads a TCP address to listen on, node n, named what in errors;
// it returns "" and nil when n is null or not valid.
func (p *parser) listen(n *yaml.Node, what, example string) (string, *yaml.Node) {
	s, ok := p.str(n, what)
	if !ok {
		return "", nil
	}
	if _, port, err := net.SplitHostPort(s); err != nil || !validPort(port, 0) {
		p.errorf(n, "%s must be host:port, e.g. %s", what, example)
		return "", nil
	}
	return s, n
}

// web reads the web section into w.
func (p *parser) web(n *yaml.Node, w *Web) {
	for _, f := range p.fields(n, "web", "listen") {
		w.Listen, p.webListen = p.listen(f.val, "web.listen", "127.0.0.1:8080")
	}
}

// checkListeners checks the TCP listeners of api.listen and web.listen
// against api.tls, which serves them both: a listener off loopback needs it.
func (p *parser) checkListeners(c *Config) {
	a := c.API
	hasTLS := a.TLS.Cert != "" || a.TLS.Key != ""
	if hasTLS && (a.TLS.Cert == "" || a.TLS.Key == "") {
		p.errorf(p.apiTLS, "api.tls needs both cert and key")
	}
	if hasTLS && p.apiListen == nil && p.webListen == nil {
		p.errorf(p.apiTLS, "api.tls is for api.listen and web.listen, and neither is set")
	}
	for _, l := range []struct {
		what, addr string
		at         *yaml.Node
	}{{"api.listen", a.Listen, p.apiListen}, {"web.listen", c.Web.Listen, p.webListen}} {
		if l.at != nil && !hasTLS && !loopback(l.addr) {
			p.errorf(l.at, "%s %q is not a loopback address: it needs api.tls.cert and api.tls.key", l.what, l.addr)
		}
	}
	if p.webListen != nil && c.Web.Listen == a.Listen {
		p.errorf(p.webListen, "web.listen is api.listen's address, where the dashboard is served already")
	}
}

// loopback reports whether the host of addr is a loopback address.
func loopback(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validPort reports whether port is a port number no less than lowest.
func validPort(port string, lowest int) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= lowest && n <= 65535 && port == strconv.Itoa(n)
}

// services reads the services section into c.
func (p *parser) services(n *yaml.Node, c *Config) {
	fields, _ := p.mapping(n, "services", func(name, first string) string {
		return fmt.Sprintf("duplicate service %q (first at %s)", name, first)
	})
	folded := map[string]*yaml.Node{}
	for _, f := range fields {
		name := f.key.Value
		if msg := checkName(name); msg != "" {
			p.errorf(f.key, "%s", msg)
		} else if first := folded[strings.ToLower(name)]; first != nil {
			p.errorf(f.key, "service %q differs only in case from %q (at %d:%d), and names are file names", name, first.Value, first.Line, first.Column)
		} else {
			folded[strings.ToLower(name)] = f.key
		}
		p.declared[name] = f.key
		c.Order = append(c.Order, name)
		if s := p.service(name, f.key, f.val); s != nil {
			c.Services[name] = s
		}
	}
}

// checkName returns why name cannot name a service, or "" when it can.
// Names become file names and URL path segments.
func checkName(name string) string {
	if name == "" {
		return "a service name must not be empty"
	}
	ok := len(name) <= 64 && isAlnum(name[0])
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = isAlnum(c) || c == '_' || c == '.' || c == '-'
	}
	if !ok {
		return fmt.Sprintf("service name %q must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit", name)
	}
	if strings.HasSuffix(name, ".") {
		return fmt.Sprintf("service name %q must not end with '.'", name)
	}
	base, _, _ := strings.Cut(strings.ToUpper(name), ".")
	switch base {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return fmt.Sprintf("service name %q is a device name on Windows", name)
	}
	return ""
}

// service reads one service, declared by key. It returns nil when the
// service's kind is not supported.
func (p *parser) service(name string, key, n *yaml.Node) *Service {
	s := &Service{
		Name:  name,
		Kind:  DefaultKind,
		Ready: Ready{Timeout: DefaultReadyTimeout},
		Stop:  Stop{Signal: DefaultStopSignal, Timeout: DefaultStopTimeout},
		Restart: Restart{
			Policy:      DefaultRestartPolicy,
			Backoff:     DefaultBackoff,
			MaxBackoff:  DefaultMaxBackoff,
			MaxRestarts: DefaultMaxRestarts,
			Window:      DefaultWindow,
			Stable:      DefaultStable,
		},
		Logs: Logs{MaxSize: DefaultLogMaxSize, Keep: DefaultLogKeep},
	}
	// The kind decides which keys are valid, so it is read first.
	what := fmt.Sprintf("service %q", name)
	fields, ok := p.mapping(n, what, duplicateKey)
	if !ok {
		return nil
	}
	for _, f := range fields {
		if f.key.Value == "kind" {
			if kind, ok := p.str(f.val, "kind"); ok && kind != DefaultKind {
				switch kind {
				case KindSysmon:
					return p.sysmonService(s, key, n)
				case KindLogwatch:
					return p.logwatchService(s, key, n)
				}
				p.errorf(f.val, "kind %q is not supported", kind)
				return nil
			}
		}
	}
	fields = p.fields(n, what,
		"kind", "command", "env", "env_file", "working_dir", "user", "group",
		"depends_on", "disabled", "ready", "stop", "restart", "logs", "health", "limits")
	badCommand := false // the command is given but not valid
	for _, f := range fields {
		switch f.key.Value {
		case "command":
			errs := len(p.errs)
			s.Command, _ = p.command(f.val, "command")
			badCommand = len(p.errs) > errs
		case "env":
			s.Env = p.env(f.val)
		case "env_file":
			s.EnvFile, _ = p.path(f.val, "env_file")
		case "working_dir":
			s.WorkingDir, _ = p.path(f.val, "working_dir")
		case "user":
			s.User, _ = p.str(f.val, "user")
		case "group":
			s.Group, _ = p.str(f.val, "group")
		case "depends_on":
			p.dependsOn(s, f.val)
		case "disabled":
			s.Disabled, _ = p.boolean(f.val, "disabled")
		case "ready":
			p.ready(f.val, &s.Ready)
		case "stop":
			p.stop(f.val, &s.Stop)
		case "restart":
			p.restart(f.val, &s.Restart)
		case "logs":
			p.logs(f.val, &s.Logs)
		case "health":
			s.Health = p.health(f.val)
		case "limits":
			s.Limits = p.limits(f.val)
		}
	}
	if s.Command == nil && !badCommand {
		p.errorf(key, "service %q has no command", name)
	}
	return s
}

// env reads environment variables; values that YAML reads as numbers or
// booleans are taken as written.
func (p *parser) env(n *yaml.Node) map[string]string {
	fields, _ := p.mapping(n, "env", func(key, first string) string {
		return fmt.Sprintf("duplicate variable %q (first at %s)", key, first)
	})
	var env map[string]string
	for _, f := range fields {
		name := f.key.Value
		if name == "" || strings.ContainsAny(name, "=\x00") {
			p.errorf(f.key, "env: invalid variable name %q", name)
			continue
		}
		v := resolve(f.val)
		if v.Kind != yaml.ScalarNode || isNull(v) {
			p.errorf(f.val, "env %s must be a string, a number or a boolean", name)
			continue
		}
		if strings.IndexByte(v.Value, 0) >= 0 {
			p.errorf(f.val, "env %s must not contain a NUL byte", name)
			continue
		}
		if env == nil {
			env = map[string]string{}
		}
		env[name] = v.Value
	}
	return env
}

func (p *parser) ready(n *yaml.Node, r *Ready) {
	var probe *yaml.Node // key of the first probe set
	for _, f := range p.fields(n, "ready", "after", "tcp", "http", "exec", "log", "timeout") {
		k := f.key.Value
		v := f.val
		if k != "timeout" && !isNull(resolve(v)) {
			if probe != nil {
				p.errorf(f.key, "ready: %s and %s (at %d:%d) cannot both be set, use one of after, tcp, http, exec and log", k, probe.Value, probe.Line, probe.Column)
				continue
			}
			probe = f.key
		}
		switch k {
		case "after":
			r.After, _ = p.duration(v, "ready.after")
		case "tcp":
			if s, ok := p.str(v, "ready.tcp"); ok {
				if _, port, err := net.SplitHostPort(s); err != nil || !validPort(port, 1) {
					p.errorf(v, "ready.tcp must be host:port, e.g. 127.0.0.1:5432")
				} else {
					r.TCP = s
				}
			}
		case "http":
			if s, ok := p.str(v, "ready.http"); ok {
				if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					p.errorf(v, "ready.http must be an http:// or https:// URL")
				} else {
					r.HTTP = s
				}
			}
		case "exec":
			r.Exec, _ = p.command(v, "ready.exec")
		case "log":
			if s, ok := p.str(v, "ready.log"); ok {
				if _, err := regexp.Compile(s); s == "" || err != nil {
					msg := "must not be empty"
					if err != nil {
						msg = err.Error()
					}
					p.errorf(v, "ready.log: %s", msg)
				} else {
					r.Log = s
				}
			}
		case "timeout":
			if d, ok := p.duration(v, "ready.timeout"); ok {
				if d == 0 {
					p.errorf(v, "ready.timeout must be more than 0")
				} else {
					r.Timeout = d
				}
			}
		}
	}
}

func (p *parser) stop(n *yaml.Node, s *Stop) {
	for _, f := range p.fields(n, "stop", "signal", "timeout") {
		switch f.key.Value {
		case "signal":
			if sig, ok := p.str(f.val, "stop.signal"); ok {
				norm := strings.TrimPrefix(strings.ToUpper(sig), "SIG")
				switch norm {
				case "TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2":
					s.Signal = norm
				default:
					p.errorf(f.val, "stop.signal %q is not one of TERM, INT, HUP, QUIT, KILL, USR1 and USR2", sig)
				}
			}
		case "timeout":
			if d, ok := p.duration(f.val, "stop.timeout"); ok {
				s.Timeout = d
			}
		}
	}
}

func (p *parser) restart(n *yaml.Node, r *Restart) {
	var backoff, maxBackoff *yaml.Node
	for _, f := range p.fields(n, "restart", "policy", "backoff", "max_backoff", "max_restarts", "window", "stable") {
		v := f.val
		switch f.key.Value {
		case "policy":
			if s, ok := p.str(v, "restart.policy"); ok {
				switch s {
				case RestartAlways, RestartOnFailure, RestartNever:
					r.Policy = s
				default:
					p.errorf(v, "restart.policy %q is not one of always, on-failure and never", s)
				}
			}
		case "backoff":
			if d, ok := p.duration(v, "restart.backoff"); ok {
				r.Backoff, backoff = d, v
			}
		case "max_backoff":
			if d, ok := p.duration(v, "restart.max_backoff"); ok {
				r.MaxBackoff, maxBackoff = d, v
			}
		case "max_restarts":
			if i, ok := p.count(v, "restart.max_restarts"); ok {
				r.MaxRestarts = i
			}
		case "window":
			if d, ok := p.duration(v, "restart.window"); ok {
				if d == 0 {
					p.errorf(v, "restart.window must be more than 0")
				} else {
					r.Window = d
				}
			}
		case "stable":
			if d, ok := p.duration(v, "restart.stable"); ok {
				r.Stable = d
			}
		}
	}
	if r.MaxBackoff < r.Backoff {
		at := maxBackoff
		if at == nil {
			at = backoff
		}
		p.errorf(at, "restart.max_backoff (%v) must not be less than restart.backoff (%v)", r.MaxBackoff, r.Backoff)
	}
}

func (p *parser) logs(n *yaml.Node, l *Logs) {
	for _, f := range p.fields(n, "logs", "max_size", "keep") {
		v := f.val
		switch f.key.Value {
		case "max_size":
			s, ok := p.str(v, "logs.max_size")
			if !ok {
				continue
			}
			switch size, err := parseSize(s); {
			case err != nil:
				p.errorf(v, "logs.max_size: %v", err)
			case size == 0:
				p.errorf(v, "logs.max_size must be more than 0")
			default:
				l.MaxSize = size
			}
		case "keep":
			if i, ok := p.count(v, "logs.keep"); ok {
				l.Keep = i
			}
		}
	}
}
