package config

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Load reads the configuration file at path, made absolute, and parses it
// with Parse.
func Load(path string, reg Registry) (*Config, error) {
	abs, data, err := read(path)
	if err != nil {
		return nil, err
	}
	return Parse(abs, data, reg)
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
	f, err := os.Open(abs)
	if err != nil {
		return "", nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	// Parse reports a file over MaxFileSize; reading one byte more is
	// enough to know.
	data, err = io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return "", nil, fmt.Errorf("load config: %w", err)
	}
	return abs, data, nil
}

// Parse parses, validates and completes with defaults the configuration text
// data. file names the text in error positions, and relative paths in it
// resolve from file's directory, or from the working directory when file is
// "". reg holds the schemas of the kinds and notifier types the file may
// use; a kind or type it lacks is an error at its position. When data is
// not a valid configuration, Parse reports every problem it finds as an
// ErrorList, and no Config. Parse is safe for concurrent use when reg's
// decoders are.
func Parse(file string, data []byte, reg Registry) (*Config, error) {
	p, abs, err := newParser(file, data, reg)
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
	if root != nil {
		c.SecretEnv = secretEnv(root)
	}
	return c, nil
}

// Socket returns the API socket that the configuration text data sets, as
// Parse would: api.socket, else the default socket in data_dir. It reads
// those two keys only, so that the CLI finds a running steward even when
// the rest of the file has errors or is newer than the binary; errors in
// those keys come as an ErrorList.
func Socket(file string, data []byte) (string, error) {
	p, _, err := newParser(file, data, Registry{})
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

func newParser(file string, data []byte, reg Registry) (p *parser, abs string, err error) {
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
		reg:        reg,
		aliasLimit: len(data) + 10000,
		merged:     map[*yaml.Node][]field{},
		declared:   map[string]*yaml.Node{},
		deps:       map[string][]*yaml.Node{},
		needs:      map[stepKey][]*yaml.Node{},
	}, abs, nil
}

// config reads the top level of the file.
func (p *parser) config(root *yaml.Node) *Config {
	c := &Config{Services: map[string]*Service{}, Checks: map[string]*Check{}, Alerts: defaultAlerts(), Metrics: defaultMetrics(),
		Notify: map[string]*Notifier{}, Notifications: defaultNotifications(), Jobs: map[string]*Job{},
		Workflows: map[string]*Workflow{}, Runs: defaultRuns(), errFile: p.file}
	var dataDir, socket, workflows *yaml.Node
	if root = top(root); root != nil {
		for _, f := range p.fields(root, "the configuration", "node", "data_dir", "api", "web", "auth", "services", "checks", "alerts", "metrics", "notify", "notifications", "bus", "jobs", "workflows", "runs") {
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
			case "auth":
				p.auth(f.val, &c.Auth)
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
			case "bus":
				p.bus(f.val, c)
			case "jobs":
				p.jobs(f.val, c)
			case "workflows":
				workflows = f.val
			case "runs":
				p.runs(f.val, &c.Runs)
			}
		}
	}

	if workflows != nil { // after jobs, whose names they must not take
		p.workflows(workflows, c)
	}
	if c.Node == "" {
		c.Node = hostname()
	}
	p.setSocket(c, dataDir, socket)
	p.checkListeners(c)
	p.checkBusListen(c)
	p.checkDeps(c)
	p.checkConditions(c)
	p.checkRoutes(c)
	for _, f := range p.later {
		f(c)
	}
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
	for _, f := range p.fields(n, "api", "socket", "socket_group", "listen", "token_file", "tls", "rate_limit") {
		switch f.key.Value {
		case "socket":
			socket = p.socket(f.val, a)
		case "socket_group":
			a.SocketGroup, _ = p.str(f.val, "api.socket_group")
		case "listen":
			a.Listen, p.apiListen = p.listen(f.val, "api.listen", "127.0.0.1:7070")
		case "token_file":
			a.TokenFile, _ = p.path(f.val, "api.token_file")
		case "rate_limit":
			a.RateLimit = p.rateLimit(f.val)
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

// rateLimit reads api.rate_limit: {per_second: N, burst: M}; burst
// defaults to per_second, rounded up.
func (p *parser) rateLimit(n *yaml.Node) RateLimit {
	var r RateLimit
	var perSet, burstSet bool
	for _, f := range p.fields(n, "api.rate_limit", "per_second", "burst") {
		switch f.key.Value {
		case "per_second":
			perSet = true
			v := resolve(f.val)
			if isNull(v) {
				continue
			}
			if err := v.Decode(&r.PerSecond); err != nil || v.Kind != yaml.ScalarNode || (v.Tag != "!!int" && v.Tag != "!!float") || !(r.PerSecond > 0) || math.IsInf(r.PerSecond, 0) {
				p.errorf(f.val, "api.rate_limit.per_second must be a number above 0, e.g. 20")
				r.PerSecond = 0
			}
		case "burst":
			if b, ok := p.count(f.val, "api.rate_limit.burst"); ok {
				if b == 0 {
					p.errorf(f.val, "api.rate_limit.burst must be at least 1")
				}
				r.Burst, burstSet = b, true
			}
		}
	}
	switch {
	case r.PerSecond == 0:
		if burstSet && !perSet {
			p.errorf(n, "api.rate_limit needs per_second")
		}
		return RateLimit{}
	case !burstSet:
		r.Burst = int(math.Ceil(r.PerSecond))
	}
	return r
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
	if hasTLS && p.apiListen == nil && p.webListen == nil && p.busListen == nil {
		p.errorf(p.apiTLS, "api.tls is for api.listen, web.listen and bus.listen, and none is set")
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
