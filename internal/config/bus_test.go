package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseBus(t *testing.T) {
	if c := mustParse(t, "services: {a: {command: ./a}}\n"); c.Bus != nil {
		t.Errorf("no bus: section: Bus = %+v, want nil", c.Bus)
	}
	for _, tt := range []struct {
		src  string
		want Bus
	}{
		{"bus:\n", *defaultBus()},
		{"bus: {}\n", *defaultBus()},
		{"bus: {listen: 127.0.0.1:4222, jetstream: {max_memory: 8MiB, max_store: 2GB}, events: {max_age: 24h}}\n",
			Bus{Listen: "127.0.0.1:4222", JetStream: BusJetStream{MaxMemory: 8 << 20, MaxStore: 2e9}, Events: BusEvents{MaxAge: 24 * time.Hour}}},
		{"bus: {jetstream: {max_store: 10GiB}}\n",
			Bus{JetStream: BusJetStream{MaxMemory: DefaultBusMaxMemory, MaxStore: 10 << 30}, Events: BusEvents{MaxAge: DefaultBusEventsMaxAge}}},
	} {
		c := mustParse(t, tt.src)
		if c.Bus == nil || !reflect.DeepEqual(*c.Bus, tt.want) {
			t.Errorf("%q: got %+v, want %+v", tt.src, c.Bus, tt.want)
		}
	}
}

func TestParseBusErrors(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want []string
	}{
		{"bus: {listen: nowhere}\n", []string{"steward.yaml:1:15: bus.listen must be host:port, e.g. 127.0.0.1:4222"}},
		{"bus: {listen: 127.0.0.1:0}\n", []string{"steward.yaml:1:15: bus.listen needs a port other than 0: the services are told it in NATS_URL"}},
		{"bus: {listen: 0.0.0.0:4222}\n", []string{`steward.yaml:1:15: bus.listen "0.0.0.0:4222" is not a loopback address: it needs api.tls.cert and api.tls.key`}},
		{"api: {listen: 127.0.0.1:7070}\nbus: {listen: 127.0.0.1:7070}\n", []string{`steward.yaml:2:15: bus.listen "127.0.0.1:7070" is the address of api.listen or web.listen`}},
		{"bus: {jetstream: {max_memory: 10KB, max_store: lots}}\n", []string{
			"steward.yaml:1:31: bus.jetstream.max_memory must be at least 1MiB",
			`steward.yaml:1:48: bus.jetstream.max_store: invalid size "lots", want e.g. 512, 10KB or 50MiB`}},
		{"bus: {events: {max_age: 0s}, stream: x}\n", []string{
			"steward.yaml:1:25: bus.events.max_age must be more than 0",
			`steward.yaml:1:30: unknown key "stream" (did you mean "streams"?)`}},
		{"bus: [a]\n", []string{"steward.yaml:1:6: bus must be a mapping"}},
	} {
		got := parseErrors(t, tt.src)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q:\ngot  %q\nwant %q", tt.src, got, tt.want)
		}
	}
}

// TestBusTLS: api.tls serves bus.listen too, so it may be set for bus.listen alone.
func TestBusTLS(t *testing.T) {
	c := mustParse(t, "api: {tls: {cert: c.pem, key: k.pem}}\nbus: {listen: 0.0.0.0:4222}\n")
	if c.Bus.Listen != "0.0.0.0:4222" {
		t.Errorf("bus.listen = %q", c.Bus.Listen)
	}
}

func TestCompareBus(t *testing.T) {
	a := mustParse(t, "bus:\n")
	b := mustParse(t, "bus: {listen: 127.0.0.1:4222}\n")
	if d := Compare(a, b); !slices.Equal(d.Sections, []string{"bus"}) {
		t.Errorf("sections = %q, want [bus]", d.Sections)
	}
	if d := Compare(a, mustParse(t, "bus: {}\n")); !d.Empty() {
		t.Errorf("same bus: %+v", d)
	}
}

func TestParseBusStreams(t *testing.T) {
	c := mustParse(t, `bus:
  streams:
    orders: {subjects: ["orders.>"], max_age: 168h, max_bytes: 1GB}
    audit: {subjects: [audit.a, "audit.*.b"]}
`)
	want := map[string]*BusStream{
		"orders": {Name: "orders", Subjects: []string{"orders.>"}, MaxAge: 168 * time.Hour, MaxBytes: 1e9},
		"audit":  {Name: "audit", Subjects: []string{"audit.a", "audit.*.b"}},
	}
	if !reflect.DeepEqual(c.Bus.Streams, want) || !slices.Equal(c.Bus.StreamOrder, []string{"orders", "audit"}) {
		t.Errorf("streams = %+v %q", c.Bus.Streams, c.Bus.StreamOrder)
	}
	got := parseErrors(t, `bus:
  streams:
    bad.name: {subjects: [x]}
    STEWARD_EVENTS: {subjects: [y]}
    empty: {}
    subj: {subjects: ["a..b", "a.>.c", "a b", "steward.x", "$JS.API.>", "ok.*", "ok.*"]}
    limits: {subjects: [z], max_age: soon, max_bytes: lots}
`)
	wantErrs := []string{
		`steward.yaml:3:5: bus.streams: stream name "bad.name" must be 1 to 64 letters, digits, '_' and '-'`,
		"steward.yaml:4:5: bus.streams: STEWARD_EVENTS: names starting with STEWARD_ are steward's own streams",
		"steward.yaml:5:5: bus.streams.empty needs subjects",
		`steward.yaml:6:23: bus.streams.subj.subjects: subject "a..b" has an empty token`,
		`steward.yaml:6:31: bus.streams.subj.subjects: subject "a.>.c": > must be the last token`,
		`steward.yaml:6:40: bus.streams.subj.subjects: subject "a b" must not contain spaces`,
		`steward.yaml:6:47: bus.streams.subj.subjects: "steward.x" takes steward's or the system's subjects`,
		`steward.yaml:6:60: bus.streams.subj.subjects: "$JS.API.>" takes steward's or the system's subjects`,
		`steward.yaml:6:81: bus.streams.subj.subjects: "ok.*" is stream subj's already`,
		`steward.yaml:7:38: bus.streams.limits.max_age: invalid duration "soon", want e.g. 100ms, 10s or 1m30s`,
		`steward.yaml:7:55: bus.streams.limits.max_bytes: invalid size "lots", want e.g. 512, 10KB or 50MiB`,
	}
	if !slices.Equal(got, wantErrs) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantErrs, "\n"))
	}
}
