package config

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// testProbe is the Spec of the test kind probe.
type testProbe struct {
	Target string
	Every  time.Duration
	Peer   string
	Alert  Threshold
}

// hookSpec is the Spec of the test notifier type hook.
type hookSpec struct{ URL string }

// testRegistry is what the tests parse with: a kind probe and a notifier
// type hook, which decode their sections through the Section API as the
// built-in ones do (they are in packages that import this one).
func testRegistry() Registry {
	return Registry{
		Kinds: map[string]KindSchema{
			"probe": {Keys: []string{"target", "every", "peer", "alert"}, Decode: decodeProbe},
			"bare":  {},
		},
		Notifiers: map[string]func(*Section) any{"hook": decodeHook, "page": decodeHook},
	}
}

func decodeProbe(s *Section, fields []Field) any {
	p := &testProbe{Every: time.Second}
	for _, f := range fields {
		s.At[f.Key.Value] = PosOf(f.Value)
		switch f.Key.Value {
		case "target":
			p.Target, _ = s.String(f.Value, "target")
		case "every":
			if d, ok := s.Positive(f.Value, "every"); ok {
				p.Every = d
			}
		case "peer":
			item := f.Value
			p.Peer, _ = s.String(item, "peer")
			s.Later(func(c *Config) {
				if !slices.Contains(c.Order, p.Peer) {
					s.Errorf(item, "peer %q is not a service%s", p.Peer, Suggest(p.Peer, c.Order))
				}
			})
		case "alert":
			p.Alert, _ = s.Threshold(f.Value, "alert")
		}
	}
	if !s.Failed() && !strings.HasPrefix(p.Target, "tcp:") {
		s.ErrorAt(s.At.Find("target.host"), "target: %q must start with tcp:", p.Target)
	}
	return p
}

func decodeHook(s *Section) any {
	h := &hookSpec{}
	for _, f := range s.Fields(s.Node, "hook", "url") {
		s.At[s.Key.Value+".url"] = PosOf(f.Value)
		h.URL, _ = s.String(f.Value, "url")
	}
	if !s.Failed() && h.URL == "" {
		s.ErrorAt(s.At.Find(s.Key.Value+".url"), "notifier %q: url is required", s.Name)
	}
	return h
}

func TestKindSection(t *testing.T) {
	c := mustParse(t, `
services:
  web: {command: ./web}
  p:
    kind: probe
    target: tcp:h:1
    every: 5s
    peer: web
    alert: "> 5"
    depends_on: [web]
    restart: {policy: always}
  b: {kind: bare, disabled: true}
`)
	p := c.Services["p"]
	want := &testProbe{Target: "tcp:h:1", Every: 5 * time.Second, Peer: "web", Alert: Threshold{Op: ">", Value: 5, Text: "> 5"}}
	if got, ok := p.Spec.(*testProbe); !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("Spec = %+v, want %+v", p.Spec, want)
	}
	if p.Kind != "probe" || p.Command != nil || !reflect.DeepEqual(p.DependsOn, []string{"web"}) || p.Restart.Policy != RestartAlways {
		t.Errorf("p = %+v", p)
	}
	if b := c.Services["b"]; b.Kind != "bare" || b.Spec != nil || !b.Disabled {
		t.Errorf("b = %+v", b)
	}
	// A change of a spec is a change of its service; the same text is none.
	d := Compare(c, mustParse(t, strings.Replace(string(c.Source), "every: 5s", "every: 6s", 1)))
	if !reflect.DeepEqual(d.Changed, []string{"p"}) {
		t.Errorf("Changed = %q, want [p]", d.Changed)
	}
	if d := Compare(c, mustParse(t, "\n"+string(c.Source))); !d.Empty() {
		t.Errorf("Compare with itself moved a line = %+v", d)
	}
}

func TestSectionErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"kind", `services:
  p: {kind: probe, target: x, every: 0, peer: webb, alert: "> 5 pct", command: x}
  q: {kind: probe, target: udp:x}
  web: {command: x}
`, []string{
			`steward.yaml:2:38: every must be more than 0`,
			`steward.yaml:2:47: peer "webb" is not a service (did you mean "web"?)`,
			`steward.yaml:2:65: alert: unknown unit "pct", want % or a size like MB or GiB`,
			`steward.yaml:2:71: unknown key "command"`,
			`steward.yaml:3:28: target: "udp:x" must start with tcp:`,
		}},
		{"unknown kind", "services:\n  a: {kind: probes}\n", []string{`steward.yaml:2:13: kind "probes" is not supported`}},
		{"notifiers", `notify:
  a: {hook: {}}
  b: {hook: {url: x}, page: {url: y}}
  c: {}
  d: {hook: {url: [x]}}
  e: {hok: {}}
`, []string{
			`steward.yaml:2:7: notifier "a": url is required`,
			`steward.yaml:3:23: notifier "b": page: only one kind per notifier, and hook is already set`,
			`steward.yaml:4:3: notifier "c": needs one of hook or page`,
			`steward.yaml:5:19: url must be a string`,
			`steward.yaml:6:7: unknown key "hok" (did you mean "hook"?)`,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	// Without a registry, no kind and no notifier is known.
	_, err := Parse("steward.yaml", []byte("services:\n  p: {kind: probe}\nnotify:\n  h: {hook: {}}\n"), Registry{})
	want := "steward.yaml:2:13: kind \"probe\" is not supported\nsteward.yaml:4:7: unknown key \"hook\""
	if err == nil || err.Error() != want {
		t.Errorf("Parse without a registry = %v, want\n%s", err, want)
	}
}

func TestNotifierPositions(t *testing.T) {
	c := mustParse(t, "notify:\n  h:\n    hook:\n      url: https://h/\n")
	n := c.Notify["h"]
	if n.Type != "hook" || !reflect.DeepEqual(n.Spec, &hookSpec{URL: "https://h/"}) {
		t.Fatalf("h = %+v", n)
	}
	if got := c.ErrorAt(n.At.Find("hook.url.host"), "bad").Error(); got != filepath.Join(testDir, "steward.yaml")+":4:12: bad" {
		t.Errorf("ErrorAt = %q", got)
	}
	if got := c.ErrorAt(n.At.Find("nothing"), "bad").Error(); got != filepath.Join(testDir, "steward.yaml")+":2:3: bad" {
		t.Errorf("ErrorAt of an unknown field = %q", got)
	}
	// Moving a notifier changes no section.
	if d := Compare(c, mustParse(t, "\n"+string(c.Source))); !d.Empty() {
		t.Errorf("Compare = %+v", d)
	}
}
