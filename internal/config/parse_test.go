package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testDir is where mustParse places the file it parses.
var testDir = filepath.Join(os.TempDir(), "steward")

// mustParse parses src as the file steward.yaml in testDir and fails the
// test on any error.
func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse(filepath.Join(testDir, "steward.yaml"), []byte(src), testRegistry())
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return c
}

// parseErrors parses src as steward.yaml and returns its error lines.
func parseErrors(t *testing.T, src string) []string {
	t.Helper()
	c, err := Parse("steward.yaml", []byte(src), testRegistry())
	if err == nil {
		t.Fatalf("Parse succeeded, want errors\n%s", src)
	}
	if c != nil {
		t.Errorf("Parse returned a config with its errors")
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse error is %T, want ErrorList", err)
	}
	return strings.Split(err.Error(), "\n")
}

// TestRateLimitParse: api.rate_limit's burst defaults to per_second
// rounded up; without it there is no limit.
func TestRateLimitParse(t *testing.T) {
	for src, want := range map[string]RateLimit{
		"api: {rate_limit: {per_second: 2.5}}\n":            {PerSecond: 2.5, Burst: 3},
		"api: {rate_limit: {per_second: 20, burst: 100}}\n": {PerSecond: 20, Burst: 100},
		"api: {rate_limit: null}\n":                         {},
		"api: {}\n":                                         {},
	} {
		if got := mustParse(t, src).API.RateLimit; got != want {
			t.Errorf("%s: %+v, want %+v", src, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", 65)
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"yaml syntax", "services:\n  api: {command: x\n  db: {}\n",
			[]string{"steward.yaml:2:1: invalid YAML: did not find expected ',' or '}'"}},
		{"yaml syntax without a line", "a: [",
			[]string{"steward.yaml:1:1: invalid YAML: did not find expected node content"}},
		{"yaml tab", "services:\n\tapi: x\n",
			[]string{"steward.yaml:2:1: invalid YAML: found character that cannot start any token"}},
		{"yaml unknown anchor", "services:\n  api: *nope\n",
			[]string{"steward.yaml:2:8: invalid YAML: unknown anchor 'nope' referenced"}},
		{"second document", "services: {}\n---\nservices: {}\n",
			[]string{"steward.yaml:2:1: a configuration file holds one YAML document, this is a second one"}},
		{"second document not yaml", "services: {}\n---\nservices: [\n",
			[]string{"steward.yaml:3:1: invalid YAML: did not find expected node content"}},
		{"top level not a mapping", "- a\n- b\n",
			[]string{"steward.yaml:1:1: the configuration must be a mapping"}},
		{"unknown top-level key", "node: a\nbogus:\n  x: {tcp: \"h:1\"}\n",
			[]string{`steward.yaml:2:1: unknown key "bogus"`}},
		{"unknown key with a suggestion", "services:\n  api:\n    comand: ./api\n", []string{
			`steward.yaml:2:3: service "api" has no command`,
			`steward.yaml:3:5: unknown key "comand" (did you mean "command"?)`,
		}},
		{"key not a string", "services:\n  [a]: {command: x}\n",
			[]string{"steward.yaml:2:3: services: a key must be a string"}},
		{"duplicate key", "services:\n  api:\n    command: x\n    command: y\n",
			[]string{`steward.yaml:4:5: duplicate key "command" (first at 3:5)`}},
		{"duplicate service", "services:\n  db: {command: x}\n  api: {command: x}\n  api: {command: y}\n",
			[]string{`steward.yaml:4:3: duplicate service "api" (first at 3:3)`}},
		{"services differing in case", "services:\n  api: {command: x}\n  API: {command: x}\n",
			[]string{`steward.yaml:3:3: service "API" differs only in case from "api" (at 2:3), and names are file names`}},
		{"services not a mapping", "services: [a]\n",
			[]string{"steward.yaml:1:11: services must be a mapping"}},
		{"empty service name", "services:\n  \"\": {command: x}\n",
			[]string{"steward.yaml:2:3: a service name must not be empty"}},
		{"bad service names", "services:\n  a b: {command: x}\n  -a: {command: x}\n  " + long + ": {command: x}\n  a.: {command: x}\n  Con.log: {command: x}\n", []string{
			`steward.yaml:2:3: service name "a b" must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit`,
			`steward.yaml:3:3: service name "-a" must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit`,
			`steward.yaml:4:3: service name "` + long + `" must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit`,
			`steward.yaml:5:3: service name "a." must not end with '.'`,
			`steward.yaml:6:3: service name "Con.log" is a device name on Windows`,
		}},
		{"service not a mapping", "services:\n  api: ./api\n",
			[]string{`steward.yaml:2:8: service "api" must be a mapping`}},
		{"service null", "services:\n  api:\n",
			[]string{`steward.yaml:2:3: service "api" has no command`}},
		{"command null", "services:\n  api: {command: }\n",
			[]string{`steward.yaml:2:3: service "api" has no command`}},
		{"command empty string", "services:\n  api: {command: \"  \"}\n",
			[]string{"steward.yaml:2:18: command must not be empty"}},
		{"command empty list", "services:\n  api: {command: []}\n",
			[]string{"steward.yaml:2:18: command must not be empty"}},
		{"command empty program", "services:\n  api: {command: [\"\", x]}\n",
			[]string{"steward.yaml:2:18: command must start with a program, not an empty string"}},
		{"command a mapping", "services:\n  api:\n    command: {a: b}\n",
			[]string{"steward.yaml:3:14: command must be a string or a list of strings"}},
		{"command item a mapping", "services:\n  api:\n    command: [a, {b: c}]\n",
			[]string{"steward.yaml:3:18: command must be a string or a list of strings"}},
		{"command item null", "services:\n  api:\n    command: [a, ~]\n",
			[]string{"steward.yaml:3:18: command must be a string or a list of strings"}},
		{"command unterminated quote", "services:\n  api:\n    command: \"echo 'hi\"\n",
			[]string{"steward.yaml:3:14: command: unterminated single quote"}},
		{"command with a pipe", "services:\n  api:\n    command: a | b\n",
			[]string{`steward.yaml:3:14: command: unquoted "|" needs a shell: quote it, or run [sh, -c, "..."]`}},
		{"command with NUL", "services:\n  api:\n    command: [a, \"b\\0\"]\n",
			[]string{"steward.yaml:3:14: command must not contain a NUL byte"}},
		{"kind not supported", "services:\n  machine:\n    every: 10s\n    kind: nosuchkind\n",
			[]string{`steward.yaml:4:11: kind "nosuchkind" is not supported`}},
		{"env not a mapping", "services:\n  api: {command: x, env: [A]}\n",
			[]string{"steward.yaml:2:26: env must be a mapping"}},
		{"env bad values", "services:\n  api:\n    command: x\n    env: {A: [1], B: ~, \"C=D\": x, E: \"\\0\"}\n", []string{
			"steward.yaml:4:14: env A must be a string, a number or a boolean",
			"steward.yaml:4:22: env B must be a string, a number or a boolean",
			`steward.yaml:4:25: env: invalid variable name "C=D"`,
			"steward.yaml:4:38: env E must not contain a NUL byte",
		}},
		{"env duplicate", "services:\n  api:\n    command: x\n    env: {A: 1, A: 2}\n",
			[]string{`steward.yaml:4:17: duplicate variable "A" (first at 4:11)`}},
		{"paths", "services:\n  api:\n    command: x\n    env_file: \"\"\n    working_dir: ~/srv\n    user: [a]\n", []string{
			"steward.yaml:4:15: env_file must not be empty",
			"steward.yaml:5:18: working_dir: ~ is not expanded, use an absolute path",
			"steward.yaml:6:11: user must be a string",
		}},
		{"disabled not a bool", "services:\n  api: {command: x, disabled: yes}\n",
			[]string{"steward.yaml:2:31: disabled must be true or false"}},
		{"depends_on not a list", "services:\n  db: {command: x}\n  api: {command: x, depends_on: db}\n",
			[]string{"steward.yaml:3:33: depends_on must be a list of service names or a mapping of service names to conditions (started, ready, healthy or completed)"}},
		{"depends_on bad items", "services:\n  db: {command: x}\n  api: {command: x, depends_on: [dbb, api, db, db, [x]]}\n", []string{
			`steward.yaml:3:34: depends_on: unknown service "dbb" (did you mean "db"?)`,
			`steward.yaml:3:39: service "api" depends on itself`,
			`steward.yaml:3:48: depends_on lists "db" twice`,
			"steward.yaml:3:52: depends_on must be a list of service names",
		}},
		{"dependency cycles", "services:\n" +
			"  c: {command: x, depends_on: [a]}\n" +
			"  b: {command: x, depends_on: [c]}\n" +
			"  a: {command: x, depends_on: [b, d]}\n" +
			"  d: {command: x, depends_on: [a]}\n" +
			"  e: {command: x, depends_on: [f]}\n" +
			"  f: {command: x, depends_on: [e]}\n", []string{
			"steward.yaml:4:32: dependency cycle: a -> b -> c -> a",
			"steward.yaml:4:35: dependency cycle: a -> d -> a",
			"steward.yaml:6:32: dependency cycle: e -> f -> e",
		}},
		{"ready probes", "services:\n  api:\n    command: x\n    ready: {tcp: \"h:1\", http: \"http://h\", log: x}\n", []string{
			"steward.yaml:4:25: ready: http and tcp (at 4:13) cannot both be set, use one of after, tcp, http, exec, log and notify",
			"steward.yaml:4:43: ready: log and tcp (at 4:13) cannot both be set, use one of after, tcp, http, exec, log and notify",
		}},
		{"ready values", "services:\n" +
			"  a: {command: x, ready: {tcp: localhost}}\n" +
			"  b: {command: x, ready: {tcp: \"h:0\"}}\n" +
			"  c: {command: x, ready: {http: \"ftp://h/\"}}\n" +
			"  d: {command: x, ready: {exec: []}}\n" +
			"  e: {command: x, ready: {log: \"(\"}}\n" +
			"  f: {command: x, ready: {log: \"\"}}\n" +
			"  g: {command: x, ready: {timeout: 0s}}\n" +
			"  h: {command: x, ready: {after: 5}}\n" +
			"  i: {command: x, ready: {http: \"http://\"}}\n", []string{
			"steward.yaml:2:32: ready.tcp must be host:port, e.g. 127.0.0.1:5432",
			"steward.yaml:3:32: ready.tcp must be host:port, e.g. 127.0.0.1:5432",
			"steward.yaml:4:33: ready.http must be an http:// or https:// URL",
			"steward.yaml:5:33: ready.exec must not be empty",
			"steward.yaml:6:32: ready.log: error parsing regexp: missing closing ): `(`",
			"steward.yaml:7:32: ready.log: must not be empty",
			"steward.yaml:8:36: ready.timeout must be more than 0",
			"steward.yaml:9:34: ready.after: duration needs a unit, e.g. 10s",
			"steward.yaml:10:33: ready.http must be an http:// or https:// URL",
		}},
		{"stop", "services:\n  api: {command: x, stop: {signal: BOGUS, timeout: -1s}}\n", []string{
			`steward.yaml:2:36: stop.signal "BOGUS" is not one of TERM, INT, HUP, QUIT, KILL, USR1 and USR2`,
			"steward.yaml:2:52: stop.timeout: duration must not be negative",
		}},
		{"restart", "services:\n" +
			"  a: {command: x, restart: {policy: sometimes, max_restarts: -1, window: 0s, stable: 1h1}}\n" +
			"  b: {command: x, restart: {backoff: 1m}}\n" +
			"  c: {command: x, restart: {max_backoff: 1s, backoff: 2s, max_restarts: x}}\n", []string{
			`steward.yaml:2:37: restart.policy "sometimes" is not one of always, on-failure and never`,
			"steward.yaml:2:62: restart.max_restarts must not be negative",
			"steward.yaml:2:74: restart.window must be more than 0",
			"steward.yaml:2:86: restart.stable: duration needs a unit, e.g. 10s",
			"steward.yaml:3:38: restart.max_backoff (30s) must not be less than restart.backoff (1m0s)",
			"steward.yaml:4:42: restart.max_backoff (1s) must not be less than restart.backoff (2s)",
			"steward.yaml:4:73: restart.max_restarts must be a whole number",
		}},
		{"logs", "services:\n  a: {command: x, logs: {max_size: 10XB, keep: 1.5}}\n  b: {command: x, logs: {max_size: 0}}\n", []string{
			`steward.yaml:2:36: logs.max_size: invalid size "10XB", want e.g. 512, 10KB or 50MiB`,
			"steward.yaml:2:48: logs.keep must be a whole number",
			"steward.yaml:3:36: logs.max_size must be more than 0",
		}},
		{"log rotation", "services:\n  a: {command: x, logs: {every: 7m, max_age: 3, max_total: 0, compress: lz4}}\n  b: {command: x, logs: {every: 36h, max_total: 1XB}}\n", []string{
			`steward.yaml:2:33: logs.every "7m": want whole days (1d, 7d) or a part of a day that divides it (1h, 6h, 30m)`,
			`steward.yaml:2:46: logs.max_age: invalid span "3", want e.g. 7d, 2w or 36h`,
			"steward.yaml:2:60: logs.max_total must be more than 0",
			`steward.yaml:2:73: logs.compress "lz4": want gzip, zstd or none`,
			`steward.yaml:3:33: logs.every "36h": want whole days (1d, 7d) or a part of a day that divides it (1h, 6h, 30m)`,
			`steward.yaml:3:49: logs.max_total: invalid size "1XB", want e.g. 512, 10KB or 50MiB`,
		}},
		{"section not a mapping", "services:\n  a: {command: x, stop: TERM}\n",
			[]string{`steward.yaml:2:25: stop must be a mapping`}},
		{"node", "node: \"a b\"\n",
			[]string{`steward.yaml:1:7: node "a b" must be a host name: letters, digits, '-', '_' and '.', starting with a letter or digit`}},
		{"node with a slash", "node: a/b\n",
			[]string{`steward.yaml:1:7: node "a/b" must be a host name: letters, digits, '-', '_' and '.', starting with a letter or digit`}},
		{"data_dir", "data_dir: \"\"\n",
			[]string{"steward.yaml:1:11: data_dir must not be empty"}},
		{"api", "api:\n  sockit: x\n  socket: \"\"\n  listen: localhost\n", []string{
			`steward.yaml:2:3: unknown key "sockit" (did you mean "socket"?)`,
			"steward.yaml:3:11: api.socket must not be empty",
			"steward.yaml:4:11: api.listen must be host:port, e.g. 127.0.0.1:7070",
		}},
		{"api listen without tls", "api:\n  listen: 0.0.0.0:7070\n",
			[]string{`steward.yaml:2:11: api.listen "0.0.0.0:7070" is not a loopback address: it needs api.tls.cert and api.tls.key`}},
		{"api tls half", "api:\n  listen: :7070\n  tls: {cert: c.pem}\n",
			[]string{"steward.yaml:3:3: api.tls needs both cert and key"}},
		{"api tls without listen", "api:\n  tls: {cert: c.pem, key: k.pem}\n",
			[]string{"steward.yaml:2:3: api.tls is for api.listen, web.listen and bus.listen, and none is set"}},
		{"web listen", "web:\n  listen: 0.0.0.0:8080\n  port: 1\napi: {listen: \"127.0.0.1:7070\"}\n",
			[]string{`steward.yaml:2:11: web.listen "0.0.0.0:8080" is not a loopback address: it needs api.tls.cert and api.tls.key`,
				`steward.yaml:3:3: unknown key "port"`}},
		{"web listen bad", "web: {listen: 8080}\n",
			[]string{"steward.yaml:1:15: web.listen must be host:port, e.g. 127.0.0.1:8080"}},
		{"web listen on api listen", "api: {listen: \"127.0.0.1:7070\"}\nweb: {listen: \"127.0.0.1:7070\"}\n",
			[]string{"steward.yaml:2:15: web.listen is api.listen's address, where the dashboard is served already"}},
		{"merge of itself", "services:\n  a: &a {command: x, <<: *a}\n",
			[]string{`steward.yaml:2:6: service "a" merges itself`}},
		{"merge of a scalar", "services:\n  a: {command: x, <<: [y]}\n",
			[]string{`steward.yaml:2:24: service "a": a merge key (<<) takes a mapping or a list of mappings`}},
		{"alias reports once", "services:\n  a: &a {command: x, bogus: 1}\n  b: *a\n",
			[]string{`steward.yaml:2:22: unknown key "bogus"`}},
		{"error at the alias, not the anchor", "services:\n  a: {command: &c x, ready: {timeout: &t 5s}}\n  b: {command: *c, stop: {timeout: *t}, restart: {max_restarts: *t}}\n",
			[]string{"steward.yaml:3:65: restart.max_restarts must be a whole number"}},
		{"rate limit", "api:\n  rate_limit: {per_second: 0, burst: 0}\n",
			[]string{"steward.yaml:2:28: api.rate_limit.per_second must be a number above 0, e.g. 20",
				"steward.yaml:2:38: api.rate_limit.burst must be at least 1"}},
		{"rate limit burst alone", "api:\n  rate_limit: {burst: 5}\n",
			[]string{"steward.yaml:2:15: api.rate_limit needs per_second"}},
		{"rate limit kinds", "api:\n  rate_limit: {per_second: fast, burst: -1, every: 1s}\n",
			[]string{"steward.yaml:2:28: api.rate_limit.per_second must be a number above 0, e.g. 20",
				"steward.yaml:2:41: api.rate_limit.burst must not be negative",
				`steward.yaml:2:45: unknown key "every"`}},
		{"user with NUL", "services:\n  a: {command: x, user: \"a\\0\"}\n",
			[]string{"steward.yaml:2:25: user must not contain a NUL byte"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

func TestParseReportsAllErrors(t *testing.T) {
	src := `services:
  web:
    command: ./web
    stop: {signal: TERM, timeout: 10}
  db:
    command: postgres
    restart: {policy: sometimes}
bogus: {}
`
	got := parseErrors(t, src)
	want := []string{
		"steward.yaml:4:35: stop.timeout: duration needs a unit, e.g. 10s",
		`steward.yaml:7:23: restart.policy "sometimes" is not one of always, on-failure and never`,
		`steward.yaml:8:1: unknown key "bogus"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %d errors:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
}

// defaultService returns a service named name with every default applied.
func defaultService(name string, command ...string) *Service {
	return &Service{
		Name:    name,
		Kind:    DefaultKind,
		Command: command,
		Ready:   Ready{Timeout: DefaultReadyTimeout},
		Stop:    Stop{Signal: DefaultStopSignal, Timeout: DefaultStopTimeout},
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
}

func TestParseDefaults(t *testing.T) {
	c := mustParse(t, "services:\n  web:\n    command: ./web --port 8080\n")
	host, _ := os.Hostname()
	if c.Node != host {
		t.Errorf("Node: got %q, want the host name %q", c.Node, host)
	}
	if got, want := c.DataDir, defaultDataDir(); got != want {
		t.Errorf("DataDir: got %q, want %q", got, want)
	}
	if got, want := c.API, (API{Socket: defaultSocket(defaultDataDir())}); got != want {
		t.Errorf("API: got %+v, want %+v", got, want)
	}
	if got, want := c.File, filepath.Join(testDir, "steward.yaml"); got != want {
		t.Errorf("File: got %q, want %q", got, want)
	}
	want := defaultService("web", "./web", "--port", "8080")
	if got := c.Services["web"]; got == nil || !sameService(got, want) {
		t.Errorf("service:\ngot  %+v\nwant %+v", got, want)
	}
}

// TestParseLogRotation: the rotation keys of logs, with days and "none".
func TestParseLogRotation(t *testing.T) {
	c := mustParse(t, "services:\n  a: {command: x, logs: {max_size: 5MB, keep: 3, every: 1d, max_age: 2w, max_total: 1GiB, compress: gzip}}\n  b: {command: x, logs: {every: 6h, compress: none}}\n")
	want := Logs{MaxSize: 5e6, Keep: 3, Every: 24 * time.Hour, MaxAge: 14 * 24 * time.Hour, MaxTotal: 1 << 30, Compress: "gzip"}
	if got := c.Services["a"].Logs; got != want {
		t.Errorf("a: got %+v, want %+v", got, want)
	}
	want = Logs{MaxSize: DefaultLogMaxSize, Keep: DefaultLogKeep, Every: 6 * time.Hour}
	if got := c.Services["b"].Logs; got != want {
		t.Errorf("b: got %+v, want %+v", got, want)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "---\n", "services:\n", "services: {}\n"} {
		c := mustParse(t, src)
		if len(c.Services) != 0 || len(c.Order) != 0 {
			t.Errorf("Parse(%q): got services %v, want none", src, c.Order)
		}
	}
}

func TestParseAliasesAndMerge(t *testing.T) {
	src := `services:
  base: &base
    command: x
    stop: {signal: INT}
    env: &env {A: "1"}
  web:
    <<: *base
    command: y
    env: *env
  worker:
    <<: [{command: z}, *base]
`
	c := mustParse(t, src)
	web := defaultService("web", "y")
	web.Stop.Signal = "INT"
	web.Env = map[string]string{"A": "1"}
	worker := defaultService("worker", "z")
	worker.Stop.Signal = "INT"
	worker.Env = map[string]string{"A": "1"}
	for _, want := range []*Service{web, worker} {
		if got := c.Services[want.Name]; got == nil || !sameService(got, want) {
			t.Errorf("service %s:\ngot  %+v\nwant %+v", want.Name, got, want)
		}
	}
}

func TestParseNullsKeepDefaults(t *testing.T) {
	c := mustParse(t, `node: web-01.example_1
services:
  a:
    command: x
    disabled: ~
    working_dir: ~
    restart: {max_restarts: ~, policy: ~}
    logs: {max_size: ~, keep: ~}
    stop: ~
`)
	if got, want := c.Services["a"], defaultService("a", "x"); !sameService(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got, want := c.Node, "web-01.example_1"; got != want {
		t.Errorf("Node: got %q, want %q", got, want)
	}
}

func TestParseLoopbackListen(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:7070", "localhost:0", "[::1]:7070"} {
		c := mustParse(t, "api: {listen: \""+listen+"\"}\n")
		if c.API.Listen != listen {
			t.Errorf("Listen: got %q, want %q", c.API.Listen, listen)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(path, []byte("services:\n  a: {command: x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	c, err := Load("steward.yaml", testRegistry())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.File != path {
		t.Errorf("File: got %q, want %q", c.File, path)
	}

	if err := os.WriteFile(path, []byte("services:\n  a: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load("steward.yaml", testRegistry())
	if got, want := err.Error(), path+`:2:3: service "a" has no command`; got != want {
		t.Errorf("Load error: got %q, want %q", got, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || e.Col != 3 || e.File != path {
		t.Errorf("errors.As: got %+v, want the *Error at %s:2:3", e, path)
	}

	if _, err := Load("missing.yaml", testRegistry()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: got %v, want fs.ErrNotExist", err)
	}
}

func TestErrorWithoutFile(t *testing.T) {
	_, err := Parse("", []byte("bogus: 1\n"), testRegistry())
	if got, want := err.Error(), `1:1: unknown key "bogus"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseAliasBudget(t *testing.T) {
	// Each use of *w brings in 2,000 words: 100 uses are 200,000 nodes
	// from a file of some 4 KB.
	var b strings.Builder
	b.WriteString("services:\n  s0: {command: &w [" + strings.Repeat("w,", 1999) + "w]}\n")
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&b, "  s%d: {command: *w}\n", i)
	}
	got := parseErrors(t, b.String())
	// At 2,000 nodes each, the 9th use (line 11) is the first past the limit.
	want := []string{fmt.Sprintf("steward.yaml:11:17: aliases expand to more than %d nodes, too many for a file of this size", b.Len()+10000)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// A few uses stay within the budget.
	src := "services:\n  s0: {command: &w [" + strings.Repeat("w,", 1999) + "w]}\n  s1: {command: *w}\n"
	if c := mustParse(t, src); len(c.Services["s1"].Command) != 2000 {
		t.Errorf("s1: got %d words, want 2000", len(c.Services["s1"].Command))
	}
}
