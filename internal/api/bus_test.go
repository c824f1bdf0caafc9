package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/bus"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/config"
)

// busFixture is an API over a real embedded bus.
func busFixture(t *testing.T) (*client.Client, *bus.Server) {
	t.Helper()
	srv, err := bus.Start(context.Background(), bus.Options{
		Config: config.Bus{JetStream: config.BusJetStream{MaxMemory: 8 << 20, MaxStore: 64 << 20}, Events: config.BusEvents{MaxAge: time.Hour}},
		Node:   "node-1", StoreDir: t.TempDir(), Credentials: bus.NewCredentials(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	s := api.New(api.Options{Services: apitest.NewServices(), Events: &apitest.Events{}, Bus: srv, Logger: slog.New(slog.DiscardHandler)})
	c := client.New(apitest.Serve(t, s.Handler()))
	t.Cleanup(c.Close)
	return c, srv
}

func TestBusRoutes(t *testing.T) {
	c, srv := busFixture(t)
	ctx := context.Background()

	// A subscriber through the API gets what is published through it.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan struct{})
	got := make(chan steward.BusMessage, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		c.BusSubscribe(sctx, steward.BusSubscribeQuery{Subject: "orders.>"}, func() { close(ready) }, func(m steward.BusMessage) error {
			got <- m
			return nil
		})
	})
	<-ready
	p, err := c.BusPublish(ctx, steward.BusPublishRequest{Subject: "orders.new", Data: "one", Headers: map[string]string{"X-Tenant": "acme"}, Type: "command"})
	if err != nil || p.ID == "" || p.Stream != "" {
		t.Fatalf("publish: %+v, %v", p, err)
	}
	select {
	case m := <-got:
		if m.Data != "one" || m.Type != "command" || m.ID != p.ID || m.Headers["X-Tenant"] != "acme" || m.Source != "steward.node-1" {
			t.Errorf("subscriber got %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscriber got nothing")
	}
	cancel()
	wg.Wait()

	// Request/reply: the reply carries the correlation id; no responder is a 404.
	sub, err := srv.Conn().Subscribe("echo", func(msg *nats.Msg) {
		req, _ := bus.Parse(msg)
		bus.Reply(msg, bus.Respond(req, append([]byte("re: "), req.Data...), "echo"))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	reply, err := c.BusRequest(ctx, steward.BusRequest{Subject: "echo", Data: "hi", Timeout: "2s"})
	if err != nil || reply.Data != "re: hi" || reply.Type != "response" || reply.CorrelationID == "" {
		t.Errorf("request: %+v, %v", reply, err)
	}
	_, err = c.BusRequest(ctx, steward.BusRequest{Subject: "nobody", Data: "hi"})
	if steward.ErrorCode(err) != steward.ENOTFOUND || !strings.Contains(err.Error(), "no service answers on nobody") {
		t.Errorf("request without responders: %v", err)
	}

	streams, err := c.BusStreams(ctx)
	if err != nil || len(streams) != 1 || streams[0].Name != bus.EventsStream {
		t.Errorf("streams: %+v, %v", streams, err)
	}
}

// TestBusReplay: since= replays from the stream that holds the subject.
func TestBusReplay(t *testing.T) {
	c, srv := busFixture(t)
	ctx := context.Background()
	for _, d := range []string{"a", "b"} {
		if _, err := srv.Publish(ctx, bus.Message{Subject: "steward.node-1.event.state.web", Data: []byte(d)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	err := c.BusSubscribe(ctx, steward.BusSubscribeQuery{Subject: "steward.node-1.event.>", Since: time.Now().Add(-time.Hour)}, nil, func(m steward.BusMessage) error {
		if m.Stream != bus.EventsStream || m.Seq == 0 {
			t.Errorf("replayed %+v", m)
		}
		got = append(got, m.Data)
		if len(got) == 2 {
			return errors.New("enough")
		}
		return nil
	})
	if err == nil || err.Error() != "enough" || strings.Join(got, ",") != "a,b" {
		t.Errorf("replay: %q, %v", got, err)
	}
	err = c.BusSubscribe(ctx, steward.BusSubscribeQuery{Subject: "nostream.x", Since: time.Now()}, nil, func(steward.BusMessage) error { return nil })
	if steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("replay without a stream: %v, want not found", err)
	}
}

// TestBusBadInput: bad input is a 4xx and publishes nothing.
func TestBusBadInput(t *testing.T) {
	c, srv := busFixture(t)
	ctx := context.Background()
	seen := make(chan *nats.Msg, 16)
	sub, err := srv.Conn().ChanSubscribe(">", seen)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	big := strings.Repeat("x", int(srv.Conn().MaxPayload())+1)
	for _, tt := range []struct {
		req  steward.BusPublishRequest
		code string
	}{
		{steward.BusPublishRequest{Subject: "a.*"}, steward.EINVALID},
		{steward.BusPublishRequest{Subject: "a..b"}, steward.EINVALID},
		{steward.BusPublishRequest{Subject: "$JS.API.STREAM.DELETE.STEWARD_EVENTS"}, steward.EINVALID},
		{steward.BusPublishRequest{Subject: "steward.node-1.event.state.x"}, steward.EINVALID},
		{steward.BusPublishRequest{Subject: "a", Type: "shout"}, steward.EINVALID},
		{steward.BusPublishRequest{Subject: "a", Headers: map[string]string{"Nats-Msg-Id": "x"}}, steward.EINVALID},
		{steward.BusPublishRequest{Subject: "a", Headers: map[string]string{"X": "a\r\nb"}}, steward.EINVALID},
		{steward.BusPublishRequest{Subject: "a", Data: "!", Encoding: "base64"}, steward.EINVALID},
		{steward.BusPublishRequest{Subject: "a", Data: big[:900<<10] + big[:200<<10]}, steward.ETOOLARGE},
	} {
		if _, err := c.BusPublish(ctx, tt.req); steward.ErrorCode(err) != tt.code {
			t.Errorf("publish %.60v: %v, want %s", tt.req, err, tt.code)
		}
	}
	if _, err := c.BusRequest(ctx, steward.BusRequest{Subject: "a", Timeout: "1h"}); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("request with a timeout of 1h: %v", err)
	}
	srv.Conn().Flush()
	for {
		select {
		case m := <-seen:
			// The server's own advisories (a stream or consumer the fixture made) come from
			// JetStream, not from the API; anything else was published by bad input.
			if !strings.HasPrefix(m.Subject, "$JS.EVENT.ADVISORY.") {
				t.Errorf("bad input published %q", m.Subject)
			}
		default:
			return
		}
	}
}

// TestNoBus: without a bus the routes say so.
func TestNoBus(t *testing.T) {
	f := newFixture(t)
	for _, r := range [][2]string{{"GET", "/v1/bus/streams"}, {"GET", "/v1/bus/subscribe?subject=a"}, {"POST", "/v1/bus/publish"},
		{"GET", "/v1/bus/dlq"}, {"GET", "/v1/bus/dlq/1"}, {"POST", "/v1/bus/dlq/1/replay"}, {"POST", "/v1/bus/dlq/replay"}, {"DELETE", "/v1/bus/dlq"},
		{"GET", "/v1/bus/services"}} {
		status, _, body := f.do(t, r[0], r[1], strings.NewReader(`{"subject":"a","data":""}`))
		if status != http.StatusConflict || !strings.Contains(errorOf(t, body).Message, "no bus configured") {
			t.Errorf("%s %s: %d %s", r[0], r[1], status, body)
		}
	}
}
