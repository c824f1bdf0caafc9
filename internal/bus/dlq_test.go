package bus

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/testwait"
)

// withDeadLetters is cfg with the stream orders on orders.>, its dead
// letters kept.
func withDeadLetters(cfg config.Bus) config.Bus {
	cfg.Streams = map[string]*config.BusStream{"orders": {Name: "orders", Subjects: []string{"orders.>"},
		DeadLetter: &config.BusDeadLetter{MaxDeliver: 2}}}
	cfg.StreamOrder = []string{"orders"}
	return cfg
}

// deadLetterOne makes a consumer of orders that gives up after 2
// deliveries, publishes two messages, naks the first twice (it reaches
// MaxDeliver) and terminates the second.
func deadLetterOne(t *testing.T, s *Server, consumer string) {
	t.Helper()
	ctx := context.Background()
	cons, err := s.js.CreateOrUpdateConsumer(ctx, "orders", jetstream.ConsumerConfig{
		Durable: consumer, AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, data := range []string{"nak me", "term me"} {
		if _, err := s.Publish(ctx, Message{Subject: "orders.new", Data: []byte(data), Header: map[string]string{"X-Order": string(rune('1' + i))}}); err != nil {
			t.Fatal(err)
		}
	}
	for deliveries := 0; deliveries < 3; {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			deliveries++
			if string(m.Data()) == "term me" {
				m.TermWithReason("cannot parse")
			} else {
				m.Nak()
			}
		}
	}
	// JetStream gives up on the first when it would deliver it again.
	if _, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second)); err != nil {
		t.Fatal(err)
	}
}

func TestDeadLetters(t *testing.T) {
	s := start(t, "")
	ctx := context.Background()
	if err := s.Reload(ctx, withDeadLetters(s.options().Config), nil, nil); err != nil {
		t.Fatal(err)
	}
	deadLetterOne(t, s, "worker")
	var list []DeadLetter
	testwait.For(t, 20*time.Second, "2 dead letters", func() bool {
		var err error
		list, err = s.DeadLetters(ctx, "orders", 0, 0)
		return err == nil && len(list) == 2
	})
	reasons := map[string]DeadLetter{}
	for _, d := range list {
		reasons[d.Reason] = d
		if d.Stream != "orders" || d.Subject != "orders.new" || d.Consumer != "worker" || d.Time.IsZero() || d.Message.ID == "" || d.Message.Header["X-Order"] == "" {
			t.Errorf("dead letter %+v", d)
		}
	}
	nak, term := reasons[ReasonMaxDeliveries], reasons[ReasonTerminated+": cannot parse"]
	if string(nak.Message.Data) != "nak me" || nak.Deliveries != 2 || nak.Seq != 1 {
		t.Errorf("max deliveries: %+v", nak)
	}
	if string(term.Message.Data) != "term me" || term.Seq != 2 {
		t.Errorf("terminated: %+v (reasons %v)", term, reasons)
	}
	if got, err := s.DeadLetter(ctx, nak.ID); err != nil || got.Seq != 1 {
		t.Errorf("DeadLetter(%d) = %+v, %v", nak.ID, got, err)
	}
	if _, err := s.DeadLetter(ctx, 999); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("DeadLetter(999): %v, want not found", err)
	}
	if other, err := s.DeadLetters(ctx, "other", 0, 0); err != nil || len(other) != 0 {
		t.Errorf("dead letters of another stream: %+v, %v", other, err)
	}

	// A replay publishes it again into its stream and takes it out of the DLQ.
	p, err := s.ReplayDeadLetter(ctx, nak.ID)
	if err != nil || p.Stream != "orders" || p.Seq != 3 || !strings.HasSuffix(p.ID, fmt.Sprintf(".replay.%d", nak.ID)) {
		t.Fatalf("replay: %+v, %v", p, err)
	}
	st, _ := s.js.Stream(ctx, "orders")
	raw, err := st.GetMsg(ctx, 3)
	if err != nil || string(raw.Data) != "nak me" || raw.Header.Get("X-Order") != "1" || raw.Header.Get(HeaderDLQStream) != "" {
		t.Errorf("replayed message: %+v, %v", raw, err)
	}
	if _, err := s.DeadLetter(ctx, nak.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("the replayed entry is still there: %v", err)
	}
	if _, err := s.ReplayDeadLetter(ctx, nak.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("replay again: %v, want not found", err)
	}
	if n, err := s.PurgeDeadLetters(ctx, "orders"); err != nil || n != 1 {
		t.Errorf("purge: %d, %v", n, err)
	}
	if list, err := s.DeadLetters(ctx, "", 0, 0); err != nil || len(list) != 0 {
		t.Errorf("after the purge: %+v, %v", list, err)
	}

	// Dropping dead_letter drops the advisories' stream; the DLQ stays.
	if err := s.Reload(ctx, start(t, "").options().Config, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.js.Stream(ctx, AdvisoryStream); err != jetstream.ErrStreamNotFound {
		t.Errorf("advisory stream after dead_letter went: %v", err)
	}
	if _, err := s.js.Stream(ctx, DLQStream); err != nil {
		t.Errorf("DLQ stream: %v", err)
	}
}

// TestDeadLettersReplayAll: every entry of a stream is replayed, and the
// DLQ is empty after.
func TestDeadLettersReplayAll(t *testing.T) {
	s := start(t, "")
	ctx := context.Background()
	if err := s.Reload(ctx, withDeadLetters(s.options().Config), nil, nil); err != nil {
		t.Fatal(err)
	}
	deadLetterOne(t, s, "w")
	testwait.For(t, 20*time.Second, "2 dead letters", func() bool {
		list, err := s.DeadLetters(ctx, "", 0, 0)
		return err == nil && len(list) == 2
	})
	if n, err := s.ReplayDeadLetters(ctx, "orders"); err != nil || n != 2 {
		t.Errorf("replay all: %d, %v", n, err)
	}
	if list, err := s.DeadLetters(ctx, "", 0, 0); err != nil || len(list) != 0 {
		t.Errorf("after the replay: %+v, %v", list, err)
	}
}
