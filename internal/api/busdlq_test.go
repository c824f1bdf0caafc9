package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/bus"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/testwait"
)

// dlqFixture is an API over a real bus whose stream orders keeps its dead
// letters, with one: a message nak'ed to max deliver by consumer worker.
func dlqFixture(t *testing.T) (*client.Client, *bus.Server, jetstream.Consumer) {
	t.Helper()
	srv, err := bus.Start(context.Background(), bus.Options{
		Config: config.Bus{JetStream: config.BusJetStream{MaxMemory: 8 << 20, MaxStore: 64 << 20}, Events: config.BusEvents{MaxAge: time.Hour},
			Streams:     map[string]*config.BusStream{"orders": {Name: "orders", Subjects: []string{"orders.>"}, DeadLetter: &config.BusDeadLetter{MaxDeliver: 2}}},
			StreamOrder: []string{"orders"}},
		Node: "node-1", StoreDir: t.TempDir(), Credentials: bus.NewCredentials(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	s := api.New(api.Options{Services: apitest.NewServices(), Events: &apitest.Events{}, Bus: srv, Logger: slog.New(slog.DiscardHandler)})
	c := client.New(apitest.Serve(t, s.Handler()))
	t.Cleanup(c.Close)
	js, err := jetstream.New(srv.Conn())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cons, err := js.CreateOrUpdateConsumer(ctx, "orders", jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.BusPublish(ctx, steward.BusPublishRequest{Subject: "orders.new", Data: "order 1", Headers: map[string]string{"X-Order": "1"}}); err != nil {
		t.Fatal(err)
	}
	// Two deliveries nak'ed; JetStream gives up when it would deliver again.
	for range 3 {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			m.Nak()
		}
	}
	testwait.For(t, 20*time.Second, "a dead letter", func() bool {
		list, err := c.BusDeadLetters(ctx, steward.BusDLQQuery{})
		return err == nil && len(list) == 1
	})
	return c, srv, cons
}

func TestBusDLQRoutes(t *testing.T) {
	c, _, cons := dlqFixture(t)
	ctx := context.Background()
	list, err := c.BusDeadLetters(ctx, steward.BusDLQQuery{Stream: "orders"})
	if err != nil || len(list) != 1 {
		t.Fatalf("dlq of orders: %+v, %v", list, err)
	}
	d := list[0]
	if d.Stream != "orders" || d.Subject != "orders.new" || d.Consumer != "worker" || d.Deliveries != 2 || d.Reason != bus.ReasonMaxDeliveries || d.Message != nil || d.Time.IsZero() {
		t.Errorf("listed %+v", d)
	}
	if list, err := c.BusDeadLetters(ctx, steward.BusDLQQuery{Stream: "other"}); err != nil || len(list) != 0 {
		t.Errorf("dlq of another stream: %+v, %v", list, err)
	}
	if list, err := c.BusDeadLetters(ctx, steward.BusDLQQuery{After: d.ID, Limit: 5}); err != nil || len(list) != 0 {
		t.Errorf("dlq after the last: %+v, %v", list, err)
	}
	got, err := c.BusDeadLetter(ctx, d.ID)
	if err != nil || got.Message == nil || got.Message.Data != "order 1" || got.Message.Headers["X-Order"] != "1" || got.Message.Subject != "orders.new" {
		t.Fatalf("show: %+v, %v", got, err)
	}

	// Replay: the message comes again to the consumer, on its subject.
	p, err := c.BusReplayDeadLetter(ctx, d.ID)
	if err != nil || p.Subject != "orders.new" || p.Stream != "orders" || p.Seq != 2 {
		t.Fatalf("replay: %+v, %v", p, err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		if string(m.Data()) != "order 1" || m.Subject() != "orders.new" {
			t.Errorf("replayed message %q on %s", m.Data(), m.Subject())
		}
		m.Ack()
	}
	if n != 1 {
		t.Errorf("the consumer got %d messages after the replay, want 1", n)
	}
	if _, err := c.BusDeadLetter(ctx, d.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("show after the replay: %v, want not found", err)
	}
	if _, err := c.BusReplayDeadLetter(ctx, d.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("replay again: %v, want not found", err)
	}
	if n, err := c.BusReplayDeadLetters(ctx, ""); err != nil || n.Count != 0 {
		t.Errorf("replay all of none: %+v, %v", n, err)
	}
	if n, err := c.BusPurgeDeadLetters(ctx, "orders"); err != nil || n.Count != 0 {
		t.Errorf("purge of none: %+v, %v", n, err)
	}
}

func TestBusDLQReplayAllAndPurge(t *testing.T) {
	c, srv, _ := dlqFixture(t)
	ctx := context.Background()
	if n, err := c.BusReplayDeadLetters(ctx, "orders"); err != nil || n.Count != 1 {
		t.Fatalf("replay all: %+v, %v", n, err)
	}
	if list, _ := c.BusDeadLetters(ctx, steward.BusDLQQuery{}); len(list) != 0 {
		t.Errorf("dlq after replay all: %+v", list)
	}
	// A second dead letter, purged this time.
	if _, err := srv.Publish(ctx, bus.Message{Subject: "orders.x"}); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(srv.Conn())
	cons, err := js.CreateOrUpdateConsumer(ctx, "orders", jetstream.ConsumerConfig{Durable: "strict", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 1, FilterSubject: "orders.x"})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		m.TermWithReason("bad order")
	}
	testwait.For(t, 20*time.Second, "a terminated dead letter", func() bool {
		list, err := c.BusDeadLetters(ctx, steward.BusDLQQuery{})
		return err == nil && len(list) == 1 && strings.HasPrefix(list[0].Reason, bus.ReasonTerminated)
	})
	if n, err := c.BusPurgeDeadLetters(ctx, ""); err != nil || n.Count != 1 {
		t.Errorf("purge: %+v, %v", n, err)
	}
	if list, _ := c.BusDeadLetters(ctx, steward.BusDLQQuery{}); len(list) != 0 {
		t.Errorf("dlq after the purge: %+v", list)
	}
}

func TestBusDLQBadInput(t *testing.T) {
	_, srv := busFixture(t)
	h := api.New(api.Options{Services: apitest.NewServices(), Events: &apitest.Events{}, Bus: srv, Logger: slog.New(slog.DiscardHandler)}).Handler()
	for _, r := range [][2]string{
		{"GET", "/v1/bus/dlq?stream=a.b"}, {"GET", "/v1/bus/dlq?stream=a*"}, {"GET", "/v1/bus/dlq?after=x"},
		{"GET", "/v1/bus/dlq?limit=0"}, {"GET", "/v1/bus/dlq/0"}, {"GET", "/v1/bus/dlq/x"}, {"POST", "/v1/bus/dlq/-1/replay"},
		{"POST", "/v1/bus/dlq/replay?stream=a>"}, {"DELETE", "/v1/bus/dlq?stream=a%20b"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r[0], r[1], nil))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s %s: %d %s, want 400", r[0], r[1], rec.Code, rec.Body)
		}
	}
	// Without a DLQ stream yet: an empty list, and a 404 for an entry.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/bus/dlq", nil))
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("GET /v1/bus/dlq without dead letters: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/bus/dlq/7", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /v1/bus/dlq/7 without dead letters: %d %s", rec.Code, rec.Body)
	}
}

func TestBusServicesRoute(t *testing.T) {
	c, srv := busFixture(t)
	svc, err := micro.AddService(srv.Conn(), micro.Config{Name: "adder", Version: "1.2.3", Description: "adds"})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	if err := svc.AddEndpoint("add", micro.HandlerFunc(func(r micro.Request) { r.Respond([]byte("3")) }), micro.WithEndpointSubject("math.add")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BusRequest(context.Background(), steward.BusRequest{Subject: "math.add", Data: "1 2"}); err != nil {
		t.Fatal(err)
	}
	list, err := c.BusServices(context.Background())
	if err != nil || len(list) != 1 {
		t.Fatalf("services: %+v, %v", list, err)
	}
	s := list[0]
	if s.Name != "adder" || s.Version != "1.2.3" || s.ID == "" || len(s.Endpoints) != 1 || s.Endpoints[0].Subject != "math.add" || s.Endpoints[0].Requests != 1 {
		t.Errorf("service %+v", s)
	}
}

// TestBusDLQBusDown: a bus that went away is an error on every route, not
// an empty answer.
func TestBusDLQBusDown(t *testing.T) {
	_, srv := busFixture(t)
	h := api.New(api.Options{Services: apitest.NewServices(), Events: &apitest.Events{}, Bus: srv, Logger: slog.New(slog.DiscardHandler)}).Handler()
	srv.Close()
	for _, r := range [][2]string{
		{"GET", "/v1/bus/dlq"}, {"GET", "/v1/bus/dlq/1"}, {"POST", "/v1/bus/dlq/1/replay"},
		{"POST", "/v1/bus/dlq/replay"}, {"DELETE", "/v1/bus/dlq"}, {"GET", "/v1/bus/services"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r[0], r[1], nil))
		if rec.Code < 400 || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("%s %s with the bus down: %d %s", r[0], r[1], rec.Code, rec.Body)
		}
	}
}
