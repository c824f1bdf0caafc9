package bus

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward/internal/config"
)

// TestTransforms: a subject mapping moves messages to their destination,
// where a stream stores them; a template rewrites the payload; a reload
// replaces both.
func TestTransforms(t *testing.T) {
	s := start(t, "")
	ctx := context.Background()
	cfg := s.options().Config
	cfg.Streams = map[string]*config.BusStream{"orders": {Name: "orders", Subjects: []string{"orders.>"}}}
	cfg.StreamOrder = []string{"orders"}
	cfg.Transforms = []config.BusTransform{
		{From: "legacy.order.*", To: "orders.{{wildcard(1)}}"},
		{From: "shop.in.*", To: "shop.out.{{wildcard(1)}}", Template: `{"id":{{json .id}},"total":{{.amount}}}`},
	}
	if err := s.Reload(ctx, cfg, nil, nil); err != nil {
		t.Fatal(err)
	}
	out, err := s.Conn().SubscribeSync("shop.out.*")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Unsubscribe()
	s.Conn().Flush()
	if _, err := s.Publish(ctx, Message{Subject: "legacy.order.7", Data: []byte("seven")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(ctx, Message{Subject: "shop.in.eu", Data: []byte(`{"id":"a1","amount":12.50,"extra":true}`), Header: map[string]string{"X-K": "v"}}); err != nil {
		t.Fatal(err)
	}
	s.Conn().Publish("shop.in.eu", []byte("not json")) // logged, not republished
	m, err := out.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "shop.out.eu" || string(m.Data) != `{"id":"a1","total":12.50}` || m.Header.Get("X-K") != "v" {
		t.Errorf("transformed: %s %q %v", m.Subject, m.Data, m.Header)
	}
	if m, err := out.NextMsg(200 * time.Millisecond); err != nats.ErrTimeout {
		t.Errorf("a message that is not JSON came out: %v %v", m, err)
	}
	st, _ := s.js.Stream(ctx, "orders")
	raw, err := st.GetMsg(ctx, 1)
	if err != nil || raw.Subject != "orders.7" || string(raw.Data) != "seven" {
		t.Errorf("mapped message: %+v, %v", raw, err)
	}

	// Without the transforms, messages stay where they were published.
	cfg.Transforms = nil
	if err := s.Reload(ctx, cfg, []string{"svc"}, nil); err != nil {
		t.Fatal(err)
	}
	legacy, _ := s.Conn().SubscribeSync("legacy.>")
	defer legacy.Unsubscribe()
	s.Conn().Flush()
	s.Conn().Publish("legacy.order.8", []byte("eight"))
	s.Conn().Publish("shop.in.us", []byte(`{"id":"b"}`))
	if m, err := legacy.NextMsg(10 * time.Second); err != nil || m.Subject != "legacy.order.8" {
		t.Errorf("after the reload: %v, %v", m, err)
	}
	if m, err := out.NextMsg(200 * time.Millisecond); err != nats.ErrTimeout {
		t.Errorf("a template without its transform: %v %v", m, err)
	}
}

func TestTransformTemplate(t *testing.T) {
	tmpl, err := config.ParseTransformTemplate(`{{range .}}{{.}},{{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := Transform(tmpl, []byte(`[1, "a", null]`)); err != nil || string(out) != "1,a,<no value>," {
		t.Errorf("Transform = %q, %v", out, err)
	}
	for _, data := range []string{`{"a":1} {"b":2}`, `{`, ``} {
		if out, err := Transform(tmpl, []byte(data)); err == nil {
			t.Errorf("Transform(%q) = %q, want an error", data, out)
		}
	}
	missing, _ := config.ParseTransformTemplate(`{{.nope}}`)
	if out, err := Transform(missing, []byte(`{"a":1}`)); err == nil {
		t.Errorf("a missing key: %q, want an error", out)
	}
}
