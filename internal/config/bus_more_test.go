package config

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseBusTransformsAndDeadLetters(t *testing.T) {
	c := mustParse(t, `bus:
  streams:
    orders: {subjects: ["orders.>"], dead_letter: {max_deliver: 5}}
  transforms:
    - {from: "legacy.order.*", to: "orders.{{wildcard(1)}}"}
    - {from: "a.*.*.>", to: "b.$2.{{ Wildcard(1) }}.>"}
    - {from: "shop.in.*", to: "shop.out.{{wildcard(1)}}", template: '{"id": {{json .id}}}'}
`)
	if d := c.Bus.Streams["orders"].DeadLetter; d == nil || d.MaxDeliver != 5 {
		t.Errorf("dead_letter = %+v", d)
	}
	want := []BusTransform{
		{From: "legacy.order.*", To: "orders.{{wildcard(1)}}"},
		{From: "a.*.*.>", To: "b.$2.{{ Wildcard(1) }}.>"},
		{From: "shop.in.*", To: "shop.out.{{wildcard(1)}}", Template: `{"id": {{json .id}}}`},
	}
	if !reflect.DeepEqual(c.Bus.Transforms, want) {
		t.Errorf("transforms = %+v", c.Bus.Transforms)
	}

	got := parseErrors(t, `bus:
  streams:
    a: {subjects: [a], dead_letter: {max_deliver: 0}}
    b: {subjects: [b], dead_letter: {}}
    c: {subjects: [c], dead_letter: {max_deliver: x}}
  transforms:
    - {from: "x.*", to: "y.{{wildcard(2)}}"}
    - {from: "x.>", to: "y"}
    - {from: "x.*", to: "y"}
    - {from: "steward.>", to: "y"}
    - {from: "p", to: "$JS.API.x"}
    - {from: "q.*", to: "q.*.z"}
    - {from: "r.*", to: "r.{{wildcard(1)}}", template: "{{json .a}}"}
    - {from: "s", to: "t", template: "{{.a"}
    - {from: "u"}
    - [x]
    - {from: "v", to: "w.>"}
    - {from: "w", to: "w.{{split(1)}}"}
`)
	wantErrs := []string{
		"steward.yaml:3:51: bus.streams.a.dead_letter.max_deliver must be at least 1",
		"steward.yaml:4:37: bus.streams.b.dead_letter needs max_deliver: how many deliveries its consumers attempt",
		"steward.yaml:5:51: bus.streams.c.dead_letter.max_deliver must be a whole number",
		`steward.yaml:7:25: bus.transforms[0].to: {{wildcard(2)}}: from "x.*" has 1 * wildcard(s)`,
		`steward.yaml:8:25: bus.transforms[1].to: from "x.>" ends with >: so must "y"`,
		`steward.yaml:9:14: bus.transforms[2].from: "x.*" is mapped already (at 7:14)`,
		`steward.yaml:10:14: bus.transforms[3].from: "steward.>" takes steward's or the system's subjects`,
		`steward.yaml:11:23: bus.transforms[4].to: "$JS.API.x" takes steward's or the system's subjects`,
		`steward.yaml:12:25: bus.transforms[5].to: token "*" of "q.*.z": want a literal, {{wildcard(N)}} or a last >`,
		`steward.yaml:13:25: bus.transforms[6].to: "r.{{wildcard(1)}}" may match from "r.*": steward would republish its own messages`,
		`steward.yaml:14:38: bus.transforms[7].template: template: transform:1: unclosed action`,
		"steward.yaml:15:7: bus.transforms[8] needs from and to",
		"steward.yaml:16:7: bus.transforms[9] must be a mapping",
		`steward.yaml:17:23: bus.transforms[10].to: subject "w.>" ends with >, which from "v" does not`,
		`steward.yaml:18:23: bus.transforms[11].to: token "{{split(1)}}" of "w.{{split(1)}}": want a literal, {{wildcard(N)}} or a last >`,
	}
	if !slices.Equal(got, wantErrs) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantErrs, "\n"))
	}
	if got := parseErrors(t, "bus: {transforms: {from: a}}\n"); !slices.Equal(got, []string{"steward.yaml:1:19: bus.transforms must be a list of {from, to, template}"}) {
		t.Errorf("transforms not a list: %q", got)
	}
}

func TestParseBusURL(t *testing.T) {
	c := mustParse(t, `bus:
  url: "nats://a:4222, tls://b:4222"
  user: steward
  password: secret
  ca: ca.pem
  service_credentials: {creds: app.creds}
  transforms: [{from: "a.*", to: "b.{{wildcard(1)}}", template: "{{.}}"}]
`)
	want := &BusExternal{URL: "nats://a:4222, tls://b:4222", User: "steward", Password: "secret", CA: filepath.Join(testDir, "ca.pem"),
		Services: &BusCredentials{Creds: filepath.Join(testDir, "app.creds")}}
	if !reflect.DeepEqual(c.Bus.External, want) {
		t.Errorf("external = %+v, want %+v", c.Bus.External, want)
	}
	if c := mustParse(t, "bus: {url: nats://a:4222, creds: /etc/s.creds}\n"); c.Bus.External.Creds != filepath.Clean("/etc/s.creds") {
		t.Errorf("creds = %+v", c.Bus.External)
	}
	for _, tt := range []struct {
		src  string
		want []string
	}{
		{"bus: {user: u, ca: x}\n", []string{
			"steward.yaml:1:7: bus.user is a credential for bus.url, which is not set",
			"steward.yaml:1:16: bus.ca is a credential for bus.url, which is not set"}},
		{"bus: {url: 'http://a:80'}\n", []string{`steward.yaml:1:12: bus.url: URL http://a:80: want the scheme nats:// or tls://`}},
		{"bus: {url: 'nats://:4222'}\n", []string{`steward.yaml:1:12: bus.url: URL nats://:4222 has no host`}},
		{"bus: {url: 'nats://a/x'}\n", []string{`steward.yaml:1:12: bus.url: URL nats://a/x: want only a scheme, a host and a port`}},
		{"bus: {url: ' '}\n", []string{`steward.yaml:1:12: bus.url: want a URL like nats://nats.internal:4222`}},
		{"bus: {url: 'nats://a b'}\n", []string{`steward.yaml:1:12: bus.url: parse "nats://a b": invalid character " " in host name`}},
		{"bus: {url: 'nats://a', listen: 127.0.0.1:4222, jetstream: {}, transforms: [{from: a, to: b}]}\n", []string{
			"steward.yaml:1:24: bus.listen is for the embedded server; with bus.url steward embeds none",
			"steward.yaml:1:48: bus.jetstream is for the embedded server; with bus.url steward embeds none",
			"steward.yaml:1:76: bus.transforms: with bus.url, subject mappings are the deployment's (its account's mappings:); only a transform with a template runs in steward"}},
		{"bus: {url: 'nats://a', user: u}\n", []string{"steward.yaml:1:7: bus: user and password go together"}},
		{"bus: {url: 'nats://a', service_credentials: {}}\n", []string{"steward.yaml:1:24: bus.service_credentials: give user and password, creds or nkey"}},
		{"bus: {url: 'nats://a', service_credentials: {password: p}}\n", []string{"steward.yaml:1:24: bus.service_credentials: user and password go together"}},
		{"bus: {url: 'nats://a', service_credentials: {user: u, password: p, creds: c}}\n", []string{"steward.yaml:1:24: bus.service_credentials: give one of user and password, creds or nkey"}},
		{"bus: {url: 'nats://a', service_credentials: {token: t}}\n", []string{"steward.yaml:1:24: bus.service_credentials: give user and password, creds or nkey", "steward.yaml:1:46: unknown key \"token\""}},
		{"bus: {service_credentials: {user: u, password: p}}\n", []string{"steward.yaml:1:7: bus.service_credentials is a credential for bus.url, which is not set"}},
		{"bus: {url: 'nats://a', creds: a, nkey: b}\n", []string{"steward.yaml:1:7: bus: give one of user and password, creds or nkey"}},
	} {
		if got := parseErrors(t, tt.src); !slices.Equal(got, tt.want) {
			t.Errorf("%q:\ngot  %q\nwant %q", tt.src, got, tt.want)
		}
	}
}

func TestOverlaps(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"a.b", "a.b", true}, {"a.*", "a.b", true}, {"a.>", "a.b.c", true}, {"a.b.c", "a.>", true},
		{"a", "a.b", false}, {"a.b", "a", false}, {"a.*", "b.*", false}, {"a.>", "a", false},
	} {
		if got := overlaps(tt.a, tt.b); got != tt.want {
			t.Errorf("overlaps(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
