package bus

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	m := Message{Subject: "orders.new", Type: TypeCommand, ID: "id-1", Source: "svc web", CorrelationID: "c-1",
		ReplyTo: "orders.replies", Time: time.Date(2026, 12, 6, 1, 2, 3, 4, time.UTC), Header: map[string]string{"X-Tenant": "acme"},
		Data: []byte("{}")}
	got, err := Parse(m.msg())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("got %+v, want %+v", got, m)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tt := range []struct {
		header nats.Header
		want   string
	}{
		{nats.Header{HeaderType: {"shout"}}, "not command, event, query or response"},
		{nats.Header{HeaderID: {"has space"}}, "printable ASCII"},
		{nats.Header{HeaderID: {strings.Repeat("x", maxID+1)}}, "printable ASCII"},
		{nats.Header{HeaderCorrelationID: {""}}, "printable ASCII"},
		{nats.Header{HeaderReplyTo: {"a.*"}}, "wildcards"},
		{nats.Header{HeaderTime: {"yesterday"}}, "cannot parse"},
		{nats.Header{HeaderSource: {"a", "b"}}, "given 2 times"},
		{nats.Header{"X": {"a\nb"}}, "not printable"},
	} {
		_, err := Parse(&nats.Msg{Subject: "s", Header: tt.header})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.header, err, tt.want)
		}
	}
}

// FuzzEnvelope: Parse never panics, and an envelope it accepts encodes to
// one that parses to the same message.
func FuzzEnvelope(f *testing.F) {
	// A full envelope, as steward sends it.
	f.Add("command", "id-1", "steward.web", "c-1", "replies.x", "2026-12-06T01:02:03.000000004Z", "X-A", "b")
	// No envelope at all: a message from a plain NATS client.
	f.Add("", "", "", "", "", "", "", "")
	// An unknown type, a bad time, a wildcard reply-to.
	f.Add("shout", "id", "s", "c", "a.*", "yesterday", "", "")
	// Spaces, control bytes and non-ASCII where ids must be plain.
	f.Add("event", "a b", "s\x00", "ü", "a..b", "2026-12-06T01:02:03+01:00", "Steward-Type", "query")
	f.Fuzz(func(t *testing.T, typ, id, source, corr, replyTo, when, key, value string) {
		h := nats.Header{}
		for _, kv := range [][2]string{{HeaderType, typ}, {HeaderID, id}, {HeaderSource, source},
			{HeaderCorrelationID, corr}, {HeaderReplyTo, replyTo}, {HeaderTime, when}} {
			if kv[1] != "" {
				h.Set(kv[0], kv[1])
			}
		}
		if key != "" {
			h.Add(key, value)
		}
		m, err := Parse(&nats.Msg{Subject: "s", Header: h, Data: []byte("d")})
		if err != nil {
			return
		}
		again, err := Parse(m.msg())
		if err != nil {
			t.Fatalf("Parse of an encoded envelope %+v: %v", m, err)
		}
		if !again.Time.Equal(m.Time) {
			t.Fatalf("time %v became %v", m.Time, again.Time)
		}
		again.Time = m.Time
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip: %+v became %+v", m, again)
		}
	})
}
