package api

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward/internal/bus"
)

// FuzzBusMessage: what a client asks to publish is refused with an error
// or accepted as a message on a subject it may use, whose headers the
// envelope's parser takes.
func FuzzBusMessage(f *testing.F) {
	// A plain message with one header.
	f.Add("orders.new", "hello", "", "X-Tenant", "acme")
	// base64 data, and bad base64.
	f.Add("a", "aGk=", "base64", "", "")
	f.Add("a", "!!", "base64", "", "")
	// Wildcards, reserved subjects, an envelope header, a header with a newline.
	f.Add("a.*", "", "", "", "")
	f.Add("$JS.API.INFO", "", "", "", "")
	f.Add("steward.n.event.x.y", "", "", "", "")
	f.Add("a", "", "", "Nats-Msg-Id", "1")
	f.Add("a", "", "", "X", "a\r\nb")
	f.Fuzz(func(t *testing.T, subject, data, encoding, key, value string) {
		var headers map[string]string
		if key != "" {
			headers = map[string]string{key: value}
		}
		m, err := busMessage(subject, data, encoding, headers)
		if err != nil {
			return
		}
		if bus.CheckSubject(m.Subject, false) != nil || reserved(m.Subject) {
			t.Fatalf("accepted subject %q", m.Subject)
		}
		h := nats.Header{}
		for k, v := range m.Header {
			h.Set(k, v)
		}
		got, err := bus.Parse(&nats.Msg{Subject: m.Subject, Header: h, Data: m.Data})
		if err != nil {
			t.Fatalf("headers %q accepted by the API, refused by the envelope: %v", m.Header, err)
		}
		if len(m.Header) > 0 && got.Header[key] != value {
			t.Fatalf("header %q=%q became %q", key, value, got.Header)
		}
	})
}
