package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// The streams of the dead letters: their names, with _NODE after them
// where nodes share one JetStream (streamOf).
const (
	// DLQStream keeps the dead letters, on steward.NODE.dlq.STREAM.
	DLQStream = "STEWARD_DLQ"
	// AdvisoryStream keeps JetStream's advisories of the messages that
	// reached their consumer's MaxDeliver or were terminated, for the
	// streams with dead_letter, until steward stored the message in
	// DLQStream: advisories are published once, to whoever listens, and
	// this stream listens while steward does not.
	AdvisoryStream = "STEWARD_DLQ_ADVISORIES"
	// dlqConsumer is steward's durable consumer of AdvisoryStream.
	dlqConsumer = "steward-dlq"
	// dlqDuplicates is how long STEWARD_DLQ remembers the ids of the
	// entries, so that an advisory handled twice (steward stopped between
	// storing the entry and acking the advisory) is stored once.
	dlqDuplicates = 24 * time.Hour
	// dlqTimeout bounds the handling of one advisory.
	dlqTimeout = 10 * time.Second
)

// The advisories JetStream publishes, STREAM.CONSUMER after them.
const (
	advisoryMaxDeliveries = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
	advisoryTerminated    = "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED"
	advisoryCreated       = "$JS.EVENT.ADVISORY.CONSUMER.CREATED"
)

// The reasons of a dead letter.
const (
	ReasonMaxDeliveries = "max_deliveries"
	ReasonTerminated    = "terminated"
)

// The headers steward adds to a dead letter; the original message's own
// headers are kept but for JetStream's (Nats-…), its id going to
// HeaderDLQMsgID.
const (
	HeaderDLQStream     = "Steward-Dlq-Stream"
	HeaderDLQSubject    = "Steward-Dlq-Subject"
	HeaderDLQSeq        = "Steward-Dlq-Seq"
	HeaderDLQConsumer   = "Steward-Dlq-Consumer"
	HeaderDLQReason     = "Steward-Dlq-Reason"
	HeaderDLQDeliveries = "Steward-Dlq-Deliveries"
	HeaderDLQTime       = "Steward-Dlq-Time"
	HeaderDLQMsgID      = "Steward-Dlq-Msg-Id"
	// HeaderDLQMissing is "true" when the message was gone from its
	// stream (removed by its limits) before steward could read it.
	HeaderDLQMissing = "Steward-Dlq-Missing"
)

// DeadLetter is one entry of the DLQ.
type DeadLetter struct {
	// ID is its sequence in DLQStream.
	ID uint64
	// Stream, Subject and Seq are where the message was.
	Stream   string
	Subject  string
	Seq      uint64
	Consumer string
	// Reason is ReasonMaxDeliveries or ReasonTerminated (with the
	// consumer's reason after a colon, when it gave one).
	Reason     string
	Deliveries uint64
	// Time is when the consumer gave up on it.
	Time time.Time
	// Missing is set when the message was gone before it was read.
	Missing bool
	// Message is the original message: its envelope, headers and data.
	Message Message
}

// deadLetters is the DLQ's running part: the consumer of the advisories
// and the watch of new consumers.
type deadLetters struct {
	cc      jetstream.ConsumeContext
	created *nats.Subscription
	once    sync.Once
}

func (d *deadLetters) close() {
	if d == nil {
		return
	}
	d.once.Do(func() {
		d.cc.Stop()
		d.created.Unsubscribe()
	})
}

// dlqSubject is the subject of stream's dead letters in DLQStream.
func (s *Server) dlqSubject(stream string) string {
	if stream == "" {
		return "steward." + Token(s.node) + ".dlq.>"
	}
	return "steward." + Token(s.node) + ".dlq." + stream
}

// ensureDeadLetters sets the DLQ up for the streams of cfg with
// dead_letter: the DLQ stream, the advisory stream taking their
// advisories, and steward's consumer of it. Without such a stream the
// advisory stream goes; the DLQ stays, with its entries.
func (s *Server) ensureDeadLetters(ctx context.Context, cfg config.Bus) error {
	var subjects []string
	expect := map[string]int{}
	for _, name := range cfg.StreamOrder {
		if dl := cfg.Streams[name].DeadLetter; dl != nil {
			expect[name] = dl.MaxDeliver
			subjects = append(subjects, advisoryMaxDeliveries+"."+name+".*", advisoryTerminated+"."+name+".*")
		}
	}
	s.mu.Lock()
	old := s.dlq
	s.dlq = nil
	s.mu.Unlock()
	old.close()
	if len(subjects) == 0 {
		if err := s.js.DeleteStream(ctx, s.advisoryStream()); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("stream %s: %w", s.advisoryStream(), err)
		}
		return nil
	}
	if _, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        s.dlqStream(),
		Description: "the messages the consumers of steward's streams with dead_letter gave up on",
		Subjects:    []string{s.dlqSubject("")},
		Storage:     jetstream.FileStorage,
		MaxBytes:    -1,
		Duplicates:  dlqDuplicates,
	}); err != nil {
		return fmt.Errorf("stream %s: %w", s.dlqStream(), err)
	}
	adv, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        s.advisoryStream(),
		Description: "JetStream's advisories of dead letters, until steward stored them in " + s.dlqStream(),
		Subjects:    subjects,
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.WorkQueuePolicy,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.advisoryStream(), err)
	}
	cons, err := adv.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       dlqConsumer,
		Description:   "steward, storing each dead letter in " + s.dlqStream(),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: 64,
	})
	if err != nil {
		return fmt.Errorf("consumer %s of %s: %w", dlqConsumer, s.advisoryStream(), err)
	}
	d := &deadLetters{}
	d.created, err = s.nc.Subscribe(advisoryCreated+".*.*", func(m *nats.Msg) {
		toks := strings.Split(m.Subject, ".")
		if want, ok := expect[toks[len(toks)-2]]; ok {
			s.checkConsumer(toks[len(toks)-2], toks[len(toks)-1], want)
		}
	})
	if err != nil {
		return fmt.Errorf("watch consumers: %w", err)
	}
	d.cc, err = cons.Consume(s.deadLetter, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		s.log.Warn("bus: dead letters", "err", err)
	}))
	if err != nil {
		d.created.Unsubscribe()
		return fmt.Errorf("consume %s: %w", s.advisoryStream(), err)
	}
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.dlq = d
	}
	s.mu.Unlock()
	if closed {
		d.close()
		return nil
	}
	for name, want := range expect {
		st, err := s.js.Stream(ctx, name)
		if err != nil {
			continue // logged by ensureUserStreams
		}
		for name := range st.ConsumerNames(ctx).Name() {
			s.checkConsumer(st.CachedInfo().Config.Name, name, want)
		}
	}
	return nil
}

// checkConsumer warns when a consumer of a stream with dead_letter would
// not give up after want deliveries: JetStream dead-letters a message when
// the consumer's own MaxDeliver is reached, and steward does not change
// the consumers of others.
func (s *Server) checkConsumer(stream, consumer string, want int) {
	ctx, cancel := context.WithTimeout(s.ctx, dlqTimeout)
	defer cancel()
	c, err := s.js.Consumer(ctx, stream, consumer)
	if err != nil {
		return
	}
	cfg := c.CachedInfo().Config
	if cfg.AckPolicy == jetstream.AckNonePolicy || cfg.MaxDeliver == want {
		return
	}
	s.log.Warn("bus: a consumer of a stream with dead_letter has another max_deliver; its messages go to the DLQ after its own",
		"stream", stream, "consumer", consumer, "max_deliver", cfg.MaxDeliver, "dead_letter.max_deliver", want)
}

// advisory is what the advisories of a dead letter say.
type advisory struct {
	Timestamp  time.Time `json:"timestamp"`
	Stream     string    `json:"stream"`
	Consumer   string    `json:"consumer"`
	StreamSeq  uint64    `json:"stream_seq"`
	Deliveries uint64    `json:"deliveries"`
	Reason     string    `json:"reason"`
}

// deadLetter stores the message an advisory names in the DLQ, then acks
// the advisory; on failure the advisory comes again.
func (s *Server) deadLetter(msg jetstream.Msg) {
	var a advisory
	if err := json.Unmarshal(msg.Data(), &a); err != nil || a.Stream == "" || a.StreamSeq == 0 {
		s.log.Warn("bus: an advisory of a dead letter that says nothing", "subject", msg.Subject(), "err", err)
		msg.Term()
		return
	}
	reason := ReasonMaxDeliveries
	if strings.HasPrefix(msg.Subject(), advisoryTerminated) {
		reason = ReasonTerminated
		if a.Reason != "" {
			reason += ": " + a.Reason
		}
	}
	ctx, cancel := context.WithTimeout(s.ctx, dlqTimeout)
	defer cancel()
	out := nats.NewMsg(s.dlqSubject(a.Stream))
	var orig *jetstream.RawStreamMsg
	st, err := s.js.Stream(ctx, a.Stream)
	if err == nil {
		orig, err = st.GetMsg(ctx, a.StreamSeq)
	}
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound), errors.Is(err, jetstream.ErrStreamNotFound):
		out.Header.Set(HeaderDLQMissing, "true")
	case err != nil:
		s.log.Warn("bus: read a dead letter", "stream", a.Stream, "seq", a.StreamSeq, "err", err)
		msg.NakWithDelay(time.Second)
		return
	default:
		for k, vs := range orig.Header {
			switch {
			case k == HeaderID:
				out.Header.Set(HeaderDLQMsgID, orig.Header.Get(k))
			case !strings.HasPrefix(k, "Nats-"):
				out.Header[k] = vs
			}
		}
		out.Header.Set(HeaderDLQSubject, orig.Subject)
		out.Data = orig.Data
	}
	for _, kv := range [][2]string{
		{HeaderDLQStream, a.Stream}, {HeaderDLQSeq, strconv.FormatUint(a.StreamSeq, 10)},
		{HeaderDLQConsumer, a.Consumer}, {HeaderDLQReason, reason},
		{HeaderDLQDeliveries, strconv.FormatUint(a.Deliveries, 10)},
		{HeaderDLQTime, a.Timestamp.UTC().Format(time.RFC3339Nano)},
		{HeaderID, fmt.Sprintf("dlq.%s.%d.%s", a.Stream, a.StreamSeq, a.Consumer)},
	} {
		out.Header.Set(kv[0], kv[1])
	}
	if _, err := s.js.PublishMsg(ctx, out, jetstream.WithExpectStream(s.dlqStream())); err != nil {
		s.log.Warn("bus: store a dead letter", "stream", a.Stream, "seq", a.StreamSeq, "err", err)
		msg.NakWithDelay(time.Second)
		return
	}
	s.log.Info("bus: dead letter", "stream", a.Stream, "seq", a.StreamSeq, "consumer", a.Consumer, "reason", reason)
	msg.Ack()
}

// maxDeadLetters bounds one listing.
const maxDeadLetters = 1000

// DeadLetters lists up to limit entries of the DLQ (of stream's messages,
// or all for ""), oldest first, from the entry after after.
func (s *Server) DeadLetters(ctx context.Context, stream string, after uint64, limit int) ([]DeadLetter, error) {
	if limit <= 0 || limit > maxDeadLetters {
		limit = maxDeadLetters
	}
	st, err := s.js.Stream(ctx, s.dlqStream())
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	var out []DeadLetter
	for seq := after + 1; len(out) < limit; {
		raw, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(s.dlqSubject(stream)))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("dead letters: %w", err)
		}
		out = append(out, deadLetterOf(raw))
		seq = raw.Sequence + 1
	}
	return out, nil
}

// DeadLetter returns the entry id of the DLQ.
func (s *Server) DeadLetter(ctx context.Context, id uint64) (DeadLetter, error) {
	st, err := s.js.Stream(ctx, s.dlqStream())
	if err == nil {
		var raw *jetstream.RawStreamMsg
		if raw, err = st.GetMsg(ctx, id); err == nil {
			return deadLetterOf(raw), nil
		}
	}
	if errors.Is(err, jetstream.ErrMsgNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return DeadLetter{}, steward.Errorf(steward.ENOTFOUND, "no dead letter %d", id)
	}
	return DeadLetter{}, fmt.Errorf("dead letter %d: %w", id, err)
}

// deadLetterOf reads an entry of the DLQ.
func deadLetterOf(raw *jetstream.RawStreamMsg) DeadLetter {
	h := raw.Header
	d := DeadLetter{
		ID: raw.Sequence, Stream: h.Get(HeaderDLQStream), Subject: h.Get(HeaderDLQSubject),
		Consumer: h.Get(HeaderDLQConsumer), Reason: h.Get(HeaderDLQReason), Missing: h.Get(HeaderDLQMissing) == "true",
	}
	d.Seq, _ = strconv.ParseUint(h.Get(HeaderDLQSeq), 10, 64)
	d.Deliveries, _ = strconv.ParseUint(h.Get(HeaderDLQDeliveries), 10, 64)
	d.Time, _ = time.Parse(time.RFC3339Nano, h.Get(HeaderDLQTime))
	orig := originalMsg(raw)
	m, err := Parse(orig)
	if err != nil {
		m = Message{Subject: orig.Subject, Data: orig.Data}
	}
	m.Stream, m.Seq = d.Stream, d.Seq
	d.Message = m
	return d
}

// originalMsg is the message an entry of the DLQ keeps: its subject,
// headers (its id back in Nats-Msg-Id) and data.
func originalMsg(raw *jetstream.RawStreamMsg) *nats.Msg {
	m := nats.NewMsg(raw.Header.Get(HeaderDLQSubject))
	m.Data = raw.Data
	for k, vs := range raw.Header {
		if !strings.HasPrefix(k, "Steward-Dlq-") && !strings.HasPrefix(k, "Nats-") {
			m.Header[k] = vs
		}
	}
	if id := raw.Header.Get(HeaderDLQMsgID); id != "" {
		m.Header.Set(HeaderID, id)
	}
	return m
}

// ReplayDeadLetter publishes the entry id of the DLQ again on its
// subject, into its stream, and then removes it from the DLQ. The copy's
// message id is the original's with ".replay.ID" (or "dlq.NODE.ID"), so
// that a replay retried is stored once, and not refused as the original.
func (s *Server) ReplayDeadLetter(ctx context.Context, id uint64) (Published, error) {
	d, err := s.DeadLetter(ctx, id)
	if err != nil {
		return Published{}, err
	}
	if d.Missing || d.Subject == "" {
		return Published{}, steward.Errorf(steward.ECONFLICT, "dead letter %d has no message: it was gone from %s before it was read", id, d.Stream)
	}
	st, err := s.js.Stream(ctx, s.dlqStream())
	if err != nil {
		return Published{}, fmt.Errorf("replay dead letter %d: %w", id, err)
	}
	raw, err := st.GetMsg(ctx, id)
	if err != nil {
		return Published{}, fmt.Errorf("replay dead letter %d: %w", id, err)
	}
	out := originalMsg(raw)
	msgID := "dlq." + Token(s.node) + "." + strconv.FormatUint(id, 10)
	if orig := out.Header.Get(HeaderID); orig != "" {
		msgID = orig + ".replay." + strconv.FormatUint(id, 10)
	}
	out.Header.Set(HeaderID, msgID)
	ack, err := s.js.PublishMsg(ctx, out, jetstream.WithExpectStream(d.Stream))
	if err != nil {
		return Published{}, fmt.Errorf("replay dead letter %d on %s into %s: %w", id, d.Subject, d.Stream, err)
	}
	if err := st.DeleteMsg(ctx, id); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return Published{}, fmt.Errorf("replayed dead letter %d, but could not remove it from %s: %w", id, s.dlqStream(), err)
	}
	return Published{ID: msgID, Stream: ack.Stream, Seq: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// ReplayDeadLetters replays every entry of the DLQ of stream's messages,
// or all for "", oldest first, and returns how many it replayed; it stops
// at the first that fails.
func (s *Server) ReplayDeadLetters(ctx context.Context, stream string) (int, error) {
	n := 0
	for after := uint64(0); ; {
		list, err := s.DeadLetters(ctx, stream, after, 0)
		if err != nil || len(list) == 0 {
			return n, err
		}
		for _, d := range list {
			after = d.ID
			if d.Missing {
				continue
			}
			if _, err := s.ReplayDeadLetter(ctx, d.ID); err != nil {
				return n, err
			}
			n++
		}
	}
}

// PurgeDeadLetters removes the entries of the DLQ of stream's messages, or
// all for "", and returns how many went.
func (s *Server) PurgeDeadLetters(ctx context.Context, stream string) (uint64, error) {
	st, err := s.js.Stream(ctx, s.dlqStream())
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("purge dead letters: %w", err)
	}
	subj := s.dlqSubject(stream)
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return 0, fmt.Errorf("purge dead letters: %w", err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
		return 0, fmt.Errorf("purge dead letters: %w", err)
	}
	return n, nil
}
