package config

import (
	"reflect"
	"slices"
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
			`steward.yaml:1:30: unknown key "stream"`}},
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
