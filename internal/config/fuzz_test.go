package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that its errors are well
// formed, and that every Config it returns holds the invariants validation
// promises. Besides the seeds below, testdata/fuzz/FuzzParse holds:
//   - full: every key of the schema, with aliases and a merge key;
//   - cycle: a dependency cycle next to a diamond of dependencies;
//   - anchors: an anchor that merges itself and one that contains itself;
//   - documents: a second YAML document and a directive;
//   - quoting: commands with every kind of shell quoting;
//   - utf16le, utf16be, doublebom: text that is UTF-16, or has two UTF-8
//     byte order marks, which Parse rejects;
//   - tags: tags Parse rejects (!!binary, !!python/object, !!timestamp, a
//     custom !svc, a bare !) next to core-schema ones it takes, and
//     inherit_env in both forms.
func FuzzParse(f *testing.F) {
	// Minimal valid files.
	f.Add([]byte(""))
	f.Add([]byte("services:\n  a: {command: x}\n"))
	// File bridges, one of them outside every stream.
	f.Add([]byte("bus:\n  streams: {s: {subjects: [\"in.*\"]}}\n  files: [{dir: in, subject: in.x, settle: 2s}, {dir: in/sub, subject: out.x}]\n  sinks: [{subject: \"in.*\", dir: out}]\n"))
	// Defaults overridden everywhere, block style.
	f.Add([]byte(`node: n1
data_dir: d
api: {socket: s.sock, listen: "127.0.0.1:0", token_file: t}
services:
  db:
    command: ["postgres", "-D", "/srv/pg"]
    ready: {tcp: "127.0.0.1:5432", timeout: 30s}
    stop: {signal: SIGTERM, timeout: 10s}
    logs: {max_size: 50MB, keep: 5, every: 1d, max_age: 30d, max_total: 1GB, compress: zstd}
  api:
    command: ./api --port 8080 'a b' "c \"d\""
    depends_on: [db]
    env: {PORT: 8080, DEBUG: true}
    restart: {policy: on-failure, backoff: 100ms, max_backoff: 30s, max_restarts: 5, window: 60s, stable: 10s}
`))
	// Errors of every stage: syntax, types, values, graph.
	f.Add([]byte("services:\n  a: {command: x\n"))
	f.Add([]byte("services:\n  a: {command: {x: y}, stop: {timeout: 10}}\n"))
	f.Add([]byte("services:\n  a: {command: x, depends_on: [b]}\n  b: {command: x, depends_on: [a]}\n"))
	f.Add([]byte("services:\n  a: &a {command: x, <<: *a}\n  b: *a\n"))
	f.Add([]byte("services:\n  a: {kind: probe, target: tcp:x, every: 10s}\nchecks: {}\n"))
	// Notifiers, routes and a service of a kind that refers to another
	// (the test registry's; the built-in ones are fuzzed in kinds/builtin).
	f.Add([]byte("notify:\n  h: {hook: {url: \"https://h/${env:T}\"}}\n  m: {page: {url: x}}\n" +
		"alerts: {routes: [{match: {severity: critical}, to: [h, m], group_wait: 0s}]}\n" +
		"services:\n  a: {command: x}\n  w: {kind: probe, target: tcp:x, peer: a, alert: \"> 5 for 1m\", depends_on: [a]}\n"))
	// Jobs: every action, the policies, a zone, and a service they name.
	f.Add([]byte("services:\n  a: {command: x}\njobs:\n  n: {schedule: \"0 3 * * *\", timezone: Europe/Berlin, command: x, env: {A: b}, " +
		"concurrency: replace, missed: all, deadline: 1h, timeout: 1m, retries: {max: 2, backoff: 1s}, dead_man: 26h, jitter: 5s}\n" +
		"  h: {schedule: \"*/5 * * * * *\", http: {url: \"http://h/\", expect: 204}}\n  s: {schedule: \"@every 1m\", service: {restart: a}}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data, testRegistry())
		if err != nil {
			checkErrors(t, c, err)
		} else {
			checkConfig(t, c)
		}
		// Socket reads what Parse reads, and its errors are Parse's too.
		socket, serr := Socket("f.yaml", data)
		switch {
		case err == nil && (serr != nil || socket != c.API.Socket):
			t.Fatalf("Socket = %q, %v; Parse set %q", socket, serr, c.API.Socket)
		case serr != nil && !strings.Contains(err.Error(), serr.(ErrorList)[0].Error()):
			t.Fatalf("Socket error %v is not among Parse's: %v", serr, err)
		}
		// Parsing is deterministic.
		c2, err2 := Parse("f.yaml", data, testRegistry())
		if errString(err) != errString(err2) {
			t.Fatalf("second Parse: got error %v, first was %v", err2, err)
		}
		if c != nil {
			c.Source, c2.Source = nil, nil
			if !reflect.DeepEqual(c, c2) {
				t.Fatalf("second Parse returned a different Config")
			}
			if d := Compare(c, c2); !d.Empty() {
				t.Fatalf("Compare of a config with itself: got %+v, want empty", d)
			}
		}
	})
}

func checkErrors(t *testing.T, c *Config, err error) {
	t.Helper()
	if c != nil {
		t.Fatalf("Parse returned a Config and the error %v", err)
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("Parse error %T %v, want a non-empty ErrorList", err, err)
	}
	for i, e := range list {
		if e.File != "f.yaml" || e.Line < 1 || e.Col < 1 || e.Msg == "" {
			t.Fatalf("malformed error %+v", e)
		}
		if i > 0 && (e.Line < list[i-1].Line || e.Line == list[i-1].Line && e.Col < list[i-1].Col) {
			t.Fatalf("errors not sorted: %v before %v", list[i-1], e)
		}
	}
}

func checkConfig(t *testing.T, c *Config) {
	t.Helper()
	if len(c.Order) != len(c.Services) {
		t.Fatalf("Order has %d names, Services %d", len(c.Order), len(c.Services))
	}
	for _, p := range []string{c.File, c.DataDir} {
		if !filepath.IsAbs(p) {
			t.Fatalf("path %q is not absolute", p)
		}
	}
	if c.Node == "" || c.API.Socket == "" {
		t.Fatalf("Node %q or API.Socket %q empty", c.Node, c.API.Socket)
	}
	layer := map[string]int{}
	for i, names := range c.StartOrder() {
		for _, name := range names {
			layer[name] = i
		}
	}
	for _, name := range c.Order {
		s := c.Services[name]
		switch {
		case s == nil || s.Name != name:
			t.Fatalf("service %q missing or misnamed", name)
		case checkName(name) != "":
			t.Fatalf("invalid name accepted: %s", checkName(name))
		case s.Kind == "probe" && (s.Spec == nil || s.Spec.(*testProbe).Every <= 0 || len(s.Command) > 0):
			t.Fatalf("probe service %q: %+v, command %q", name, s.Spec, s.Command)
		case s.Kind != "probe" && s.Kind != "bare" && (s.Kind != DefaultKind || len(s.Command) == 0 || s.Command[0] == "" || s.Spec != nil):
			t.Fatalf("service %q: kind %q, command %q", name, s.Kind, s.Command)
		case s.EnvFile != "" && !filepath.IsAbs(s.EnvFile), s.WorkingDir != "" && !filepath.IsAbs(s.WorkingDir):
			t.Fatalf("service %q: relative path", name)
		}
		for i, dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok || dep == name || slices.Contains(s.DependsOn[:i], dep) {
				t.Fatalf("service %q: bad dependency %q", name, dep)
			}
			if layer[dep] >= layer[name] {
				t.Fatalf("service %q starts in layer %d, its dependency %q in %d", name, layer[name], dep, layer[dep])
			}
		}
		probes := 0
		for _, set := range []bool{s.Ready.After > 0, s.Ready.TCP != "", s.Ready.HTTP != "", s.Ready.Exec != nil, s.Ready.Log != ""} {
			if set {
				probes++
			}
		}
		r := s.Restart
		switch {
		case probes > 1:
			t.Fatalf("service %q: %d readiness probes", name, probes)
		case s.Ready.Timeout <= 0 || s.Stop.Timeout < 0:
			t.Fatalf("service %q: timeouts %v, %v", name, s.Ready.Timeout, s.Stop.Timeout)
		case !slices.Contains([]string{"TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2"}, s.Stop.Signal):
			t.Fatalf("service %q: signal %q", name, s.Stop.Signal)
		case !slices.Contains([]string{RestartAlways, RestartOnFailure, RestartNever}, r.Policy):
			t.Fatalf("service %q: policy %q", name, r.Policy)
		case r.Backoff < 0 || r.MaxBackoff < r.Backoff || r.MaxRestarts < 0 || r.Window <= 0 || r.Stable < 0:
			t.Fatalf("service %q: restart %+v", name, r)
		case s.Logs.MaxSize <= 0 || s.Logs.Keep < 0 || s.Logs.MaxAge < 0 || s.Logs.MaxTotal < 0,
			s.Logs.Every != 0 && (s.Logs.Every < time.Minute || (s.Logs.Every%day != 0 && day%s.Logs.Every != 0)),
			!slices.Contains([]string{"", "gzip", "zstd"}, s.Logs.Compress):
			t.Fatalf("service %q: logs %+v", name, s.Logs)
		}
	}
}
