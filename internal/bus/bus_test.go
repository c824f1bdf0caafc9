package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/testwait"
)

// start starts a server on a fresh store; listen "" is in-process only.
func start(t *testing.T, listen string, services ...string) *Server {
	t.Helper()
	cfg := config.Bus{Listen: listen, JetStream: config.BusJetStream{MaxMemory: 8 << 20, MaxStore: 64 << 20},
		Events: config.BusEvents{MaxAge: time.Hour}}
	s, err := Start(context.Background(), Options{Config: cfg, Node: "web.01", StoreDir: t.TempDir(),
		Credentials: NewCredentials(), Services: services})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestStartClose(t *testing.T) {
	testwait.NoLeak(t)
	s := start(t, "")
	if s.Addr() != nil {
		t.Errorf("Addr = %v, want nil without bus.listen", s.Addr())
	}
	streams, err := s.Streams(context.Background())
	if err != nil || len(streams) != 1 || streams[0].Name != EventsStream || streams[0].MaxAge != time.Hour {
		t.Errorf("Streams = %+v, %v", streams, err)
	}
	s.Close()
	s.Close()
}

// TestListenFails: a taken address is an error of Start, not an exit.
func TestListenFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = Start(context.Background(), Options{Config: config.Bus{Listen: l.Addr().String(),
		JetStream: config.BusJetStream{MaxMemory: 8 << 20, MaxStore: 64 << 20}, Events: config.BusEvents{MaxAge: time.Hour}},
		Node: "n", StoreDir: t.TempDir(), Credentials: NewCredentials()})
	if err == nil || !strings.Contains(err.Error(), "listening") {
		t.Errorf("Start on a taken port: %v, want a listen error", err)
	}
}

func TestPublishSubscribe(t *testing.T) {
	s := start(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan Message, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		s.Subscribe(ctx, "orders.*", SubscribeOptions{}, func(m Message) error {
			got <- m
			return nil
		})
	})
	testwait.NoError(t, 5*time.Second, func() error {
		if _, err := s.Publish(ctx, Message{Subject: "orders.new", Data: []byte("hi"), Header: map[string]string{"X-A": "b"}}); err != nil {
			return err
		}
		select {
		case m := <-got:
			if string(m.Data) != "hi" || m.Type != TypeEvent || m.ID == "" || m.Source != "steward.web_01" || m.Header["X-A"] != "b" || m.Time.IsZero() {
				t.Errorf("got %+v", m)
			}
			return nil
		case <-time.After(50 * time.Millisecond):
			return errors.New("no message yet")
		}
	})
	cancel()
	wg.Wait()
	for _, bad := range []string{"", "a..b", "a.*", "a b", "a.>"} {
		if _, err := s.Publish(context.Background(), Message{Subject: bad}); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("publish on %q: %v, want invalid", bad, err)
		}
	}
	big := make([]byte, s.Conn().MaxPayload()+1)
	if _, err := s.Publish(context.Background(), Message{Subject: "a", Data: big}); steward.ErrorCode(err) != steward.ETOOLARGE {
		t.Errorf("publish of %d bytes: %v, want too large", len(big), err)
	}
}

func TestRequest(t *testing.T) {
	s := start(t, "")
	ctx := context.Background()
	_, err := s.Request(ctx, Message{Subject: "nobody.home"}, time.Second)
	if steward.ErrorCode(err) != steward.ENOTFOUND || !strings.Contains(err.Error(), "no service answers on nobody.home") {
		t.Errorf("request without responders: %v", err)
	}
	sub, err := s.Conn().Subscribe("echo", func(msg *nats.Msg) {
		req, err := Parse(msg)
		if err != nil {
			t.Error(err)
			return
		}
		Reply(msg, Respond(req, append([]byte("echo: "), req.Data...), "test"))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	reply, err := s.Request(ctx, Message{Subject: "echo", Data: []byte("x"), CorrelationID: "c-1"}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(reply.Data) != "echo: x" || reply.Type != TypeResponse || reply.CorrelationID != "c-1" {
		t.Errorf("reply = %+v", reply)
	}
	// A responder that says another correlation id is an error.
	liar, _ := s.Conn().Subscribe("liar", func(msg *nats.Msg) {
		Reply(msg, Message{Type: TypeResponse, CorrelationID: "other"})
	})
	defer liar.Unsubscribe()
	if _, err := s.Request(ctx, Message{Subject: "liar"}, 5*time.Second); err == nil || !strings.Contains(err.Error(), "correlates to") {
		t.Errorf("a reply of another correlation: %v", err)
	}
}

// TestListenAuth: bus.listen takes only the generated credentials, and a
// service may not publish as steward.
func TestListenAuth(t *testing.T) {
	addr := freePort(t)
	s := start(t, addr, "web")
	url := s.creds.URL(addr, "web", false)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect with the service's URL %s: %v", url, err)
	}
	defer nc.Close()
	for _, bad := range []string{"nats://" + addr, "nats://web:wrong@" + addr, "nats://nobody:x@" + addr} {
		if c, err := nats.Connect(bad); err == nil {
			c.Close()
			t.Errorf("connect to %s: no error, want refused", bad)
		} else if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(err.Error(), "Authorization") {
			t.Errorf("connect to %s: %v, want an authorization error", bad, err)
		}
	}
	errs := make(chan error, 1)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	nc.Publish("steward.web_01.event.state.web", []byte("{}"))
	nc.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Errorf("publish on steward.>: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("a service published on steward.> without a permissions violation")
	}
	if _, err := nc.Request("$JS.API.STREAM.DELETE."+EventsStream, nil, time.Second); err == nil {
		t.Error("a service deleted the events stream")
	}
	if st, err := s.Streams(context.Background()); err != nil || len(st) != 1 {
		t.Errorf("streams after a service tried to delete one: %+v, %v", st, err)
	}
}

// source is an EventSource over a slice, for the forwarder. Like the
// events recorder, it drops a subscriber that falls behind: with drop set,
// after each event.
type source struct {
	mu   sync.Mutex
	evs  []steward.Event
	subs map[chan steward.Event]bool
	drop bool
}

func (s *source) add(ev steward.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev.ID = int64(len(s.evs) + 1)
	s.evs = append(s.evs, ev)
	for c := range s.subs {
		select {
		case c <- ev:
			if !s.drop {
				continue
			}
		default:
		}
		delete(s.subs, c)
		close(c)
	}
}

func (s *source) Subscribe() (<-chan steward.Event, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := make(chan steward.Event, 16)
	if s.subs == nil {
		s.subs = map[chan steward.Event]bool{}
	}
	s.subs[c] = true
	return c, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.subs[c] {
			delete(s.subs, c)
			close(c)
		}
	}
}

func (s *source) After(_ context.Context, id int64, _ time.Time, limit int) ([]steward.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []steward.Event
	for _, ev := range s.evs {
		if ev.ID > id && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func TestForwardEvents(t *testing.T) {
	s := start(t, "")
	src := &source{}
	src.add(steward.Event{Type: steward.EventSystem, Reason: "stored before the bus started", Time: time.Now()})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.ForwardEvents(ctx, src) })
	for i := range 3 {
		src.add(steward.Event{Type: steward.EventState, Service: "api.v2", To: steward.StateRunning, Reason: fmt.Sprint(i), Time: time.Now()})
	}
	testwait.For(t, 10*time.Second, "4 events in the stream", func() bool {
		st, err := s.Streams(ctx)
		return err == nil && len(st) == 1 && st[0].Messages == 4
	})
	var got []Message
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	s.Subscribe(sctx, "steward.web_01.event.state.api_v2", SubscribeOptions{Since: time.Now().Add(-time.Minute)}, func(m Message) error {
		got = append(got, m)
		if len(got) == 3 {
			return errors.New("done")
		}
		return nil
	})
	if len(got) != 3 || got[0].Stream != EventsStream || got[0].ID != "event.web_01.2" || !strings.Contains(string(got[0].Data), `"reason":"0"`) {
		t.Errorf("replayed %+v", got)
	}
	cancel()
	wg.Wait()
	// A new forwarder starts after the last event in the stream.
	if id, seq, err := s.tail(context.Background()); id != 4 || seq != 4 || err != nil {
		t.Errorf("tail = %d, %d, %v; want 4, 4", id, seq, err)
	}
}

// TestUserStreams: bus.streams are made at start and on reload; a message
// published on their subjects is stored.
func TestUserStreams(t *testing.T) {
	s := start(t, "")
	ctx := context.Background()
	cfg := s.options().Config
	cfg.Streams = map[string]*config.BusStream{"orders": {Name: "orders", Subjects: []string{"orders.>"}, MaxAge: time.Hour}}
	cfg.StreamOrder = []string{"orders"}
	if err := s.Reload(ctx, cfg, nil, nil); err != nil {
		t.Fatal(err)
	}
	p, err := s.Publish(ctx, Message{Subject: "orders.new", Data: []byte("1"), ID: "order-1"})
	if err != nil || p.Stream != "orders" || p.Seq != 1 {
		t.Fatalf("publish into orders: %+v, %v", p, err)
	}
	// The same id again is stored once.
	if p, err := s.Publish(ctx, Message{Subject: "orders.new", Data: []byte("1"), ID: "order-1"}); err != nil || !p.Duplicate {
		t.Errorf("publish of the same id: %+v, %v", p, err)
	}
	list, err := s.Streams(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("streams: %+v, %v", list, err)
	}
	for _, st := range list {
		if st.Name == "orders" && (st.Messages != 1 || st.MaxAge != time.Hour) {
			t.Errorf("orders = %+v", st)
		}
	}
}

// TestForwardCatchesUp: a forwarder that its source drops, or whose
// publishes the stream refuses, catches up from the store: every event
// ends up in the stream once, in order.
func TestForwardCatchesUp(t *testing.T) {
	s := start(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &source{drop: true}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { s.ForwardEvents(ctx, src) })

	// The stream takes 3 messages and refuses more until it is widened.
	st, err := s.js.Stream(ctx, EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	narrow := st.CachedInfo().Config
	narrow.MaxMsgs, narrow.Discard = 3, jetstream.DiscardNew
	if _, err := s.js.UpdateStream(ctx, narrow); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		src.add(steward.Event{Type: steward.EventState, Service: "web", Reason: fmt.Sprint(i), Time: time.Now()})
	}
	testwait.For(t, 10*time.Second, "3 events in the narrow stream", func() bool {
		list, err := s.Streams(ctx)
		return err == nil && list[0].Messages == 3
	})
	if err := s.ensureEventsStream(ctx); err != nil { // as configured again
		t.Fatal(err)
	}
	testwait.For(t, 20*time.Second, fmt.Sprintf("%d events in the stream", n), func() bool {
		list, err := s.Streams(ctx)
		return err == nil && list[0].Messages == n
	})
	var ids []string
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	s.Subscribe(sctx, "steward.>", SubscribeOptions{AfterSeq: 0, Since: time.Now().Add(-time.Hour)}, func(m Message) error {
		ids = append(ids, m.ID)
		if len(ids) == n {
			return errors.New("done")
		}
		return nil
	})
	for i, id := range ids {
		if want := fmt.Sprintf("event.web_01.%d", i+1); id != want {
			t.Fatalf("message %d is %s, want %s (all: %q)", i, id, want, ids)
		}
	}
	if len(ids) != n {
		t.Errorf("%d events replayed, want %d", len(ids), n)
	}
}
