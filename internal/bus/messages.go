package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward"
)

// Published is where a published message went.
type Published struct {
	ID string
	// Stream and Seq are set when a stream holds the subject; Duplicate
	// when the stream had the message's id already.
	Stream    string
	Seq       uint64
	Duplicate bool
}

// flushTimeout bounds the wait for the server to have a message published
// outside a stream.
const flushTimeout = 5 * time.Second

// source is the Source of steward's own messages.
func (s *Server) source() string { return "steward." + Token(s.node) }

// complete fills in m's envelope: a new id, steward as the source, now.
func (s *Server) complete(m *Message, typ string) {
	if m.Type == "" {
		m.Type = typ
	}
	if m.ID == "" {
		m.ID = NewID()
	}
	if m.Source == "" {
		m.Source = s.source()
	}
	if m.Time.IsZero() {
		m.Time = time.Now()
	}
}

// checkPayload refuses data larger than the server takes.
func (s *Server) checkPayload(m Message) error {
	if max := s.nc.MaxPayload(); int64(len(m.Data)) > max {
		return steward.Errorf(steward.ETOOLARGE, "the data is %d bytes, the bus takes at most %d", len(m.Data), max)
	}
	return nil
}

// Publish publishes m, an event unless m says otherwise. When a stream
// holds its subject it goes through JetStream and returns once stored;
// else once the server has it.
func (s *Server) Publish(ctx context.Context, m Message) (Published, error) {
	if err := CheckSubject(m.Subject, false); err != nil {
		return Published{}, steward.Wrap(steward.EINVALID, err, "publish")
	}
	if err := s.checkPayload(m); err != nil {
		return Published{}, err
	}
	s.complete(&m, TypeEvent)
	stream, err := s.js.StreamNameBySubject(ctx, m.Subject)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if err := s.nc.PublishMsg(m.msg()); err != nil {
			return Published{}, fmt.Errorf("publish on %s: %w", m.Subject, err)
		}
		fctx, cancel := context.WithTimeout(ctx, flushTimeout)
		defer cancel()
		if err := s.nc.FlushWithContext(fctx); err != nil {
			return Published{}, fmt.Errorf("publish on %s: %w", m.Subject, err)
		}
		return Published{ID: m.ID}, nil
	case err != nil:
		return Published{}, fmt.Errorf("publish on %s: find its stream: %w", m.Subject, err)
	}
	ack, err := s.js.PublishMsg(ctx, m.msg(), jetstream.WithExpectStream(stream))
	if err != nil {
		return Published{}, fmt.Errorf("publish on %s into %s: %w", m.Subject, stream, err)
	}
	return Published{ID: m.ID, Stream: ack.Stream, Seq: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// Request sends m, a query unless m says otherwise, and returns the
// reply. The request's correlation id is its id unless m sets one; the
// reply carries it (a reply that names another is an error). No service
// on the subject is an ENOTFOUND error saying so, not a timeout.
func (s *Server) Request(ctx context.Context, m Message, timeout time.Duration) (Message, error) {
	if err := CheckSubject(m.Subject, false); err != nil {
		return Message{}, steward.Wrap(steward.EINVALID, err, "request")
	}
	if err := s.checkPayload(m); err != nil {
		return Message{}, err
	}
	s.complete(&m, TypeQuery)
	if m.CorrelationID == "" {
		m.CorrelationID = m.ID
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reply, err := s.nc.RequestMsgWithContext(ctx, m.msg())
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return Message{}, steward.Errorf(steward.ENOTFOUND, "no service answers on %s", m.Subject)
	case errors.Is(err, context.DeadlineExceeded):
		return Message{}, steward.Errorf(steward.EUNAVAILABLE, "no answer on %s within %v", m.Subject, timeout)
	case err != nil:
		return Message{}, fmt.Errorf("request on %s: %w", m.Subject, err)
	}
	out, err := Parse(reply)
	if err != nil {
		return Message{}, steward.Wrap(steward.EINVALID, err, "the reply on %s", m.Subject)
	}
	switch out.CorrelationID {
	case "":
		out.CorrelationID = m.CorrelationID // it answered our inbox
	case m.CorrelationID:
	default:
		return Message{}, steward.Errorf(steward.EINVALID, "the reply on %s correlates to %q, not %q", m.Subject, out.CorrelationID, m.CorrelationID)
	}
	return out, nil
}

// Respond returns the response to req, with data: a response carrying
// req's correlation id, to be sent to req's reply subject.
func Respond(req Message, data []byte, source string) Message {
	return Message{
		Type: TypeResponse, ID: NewID(), Source: source, Time: time.Now(),
		CorrelationID: req.CorrelationID, Data: data,
	}
}

// Reply sends the response r to the request msg received.
func Reply(msg *nats.Msg, r Message) error {
	r.Subject = msg.Reply
	out := r.msg()
	out.Subject = msg.Reply
	if err := msg.RespondMsg(out); err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	return nil
}

// StreamInfo describes one stream.
type StreamInfo struct {
	Name      string
	Subjects  []string
	Messages  uint64
	Bytes     uint64
	FirstSeq  uint64
	LastSeq   uint64
	FirstTime time.Time
	LastTime  time.Time
	Consumers int
	MaxAge    time.Duration
	MaxBytes  int64
	Storage   string
	Created   time.Time
	// Replicas is how many servers keep it; Leader, in a cluster, the one
	// that leads it now ("" on a server of its own).
	Replicas int
	Leader   string
}

// Streams lists the streams, by name.
func (s *Server) Streams(ctx context.Context) ([]StreamInfo, error) {
	var out []StreamInfo
	l := s.js.ListStreams(ctx)
	for si := range l.Info() {
		c, st := si.Config, si.State
		out = append(out, StreamInfo{
			Name: c.Name, Subjects: c.Subjects, Messages: st.Msgs, Bytes: st.Bytes,
			FirstSeq: st.FirstSeq, LastSeq: st.LastSeq, FirstTime: st.FirstTime, LastTime: st.LastTime,
			Consumers: st.Consumers, MaxAge: c.MaxAge, MaxBytes: c.MaxBytes, Storage: c.Storage.String(), Created: si.Created,
			Replicas: max(c.Replicas, 1),
		})
		if si.Cluster != nil {
			out[len(out)-1].Leader = si.Cluster.Leader
		}
	}
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	return out, nil
}

// SubscribeOptions say where a subscription begins.
type SubscribeOptions struct {
	// Since, when set, replays from the stream that holds the subject the
	// messages stored since then, before the live ones; AfterSeq, when
	// set, those after that sequence.
	Since    time.Time
	AfterSeq uint64
	// Buffer is how many messages may wait for the reader; a reader that
	// falls further behind loses the subscription. 0 means 256.
	Buffer int
	// Ready, when set, is called once the subscription is in place.
	Ready func()
}

// Subscribe calls fn with each message on subject (wildcards allowed)
// until ctx ends (it returns nil), fn returns an error (that error), or
// the reader falls behind (an EUNAVAILABLE error). With a replay asked
// for, an ordered consumer of the stream that holds the subject delivers
// the stored messages and then the live ones without a gap; without a
// stream for the subject that is an ENOTFOUND error.
func (s *Server) Subscribe(ctx context.Context, subject string, o SubscribeOptions, fn func(Message) error) error {
	if err := CheckSubject(subject, true); err != nil {
		return steward.Wrap(steward.EINVALID, err, "subscribe")
	}
	if o.Buffer == 0 {
		o.Buffer = 256
	}
	if o.Ready == nil {
		o.Ready = func() {}
	}
	if o.Since.IsZero() && o.AfterSeq == 0 {
		return s.subscribeLive(ctx, subject, o, fn)
	}
	stream, err := s.js.StreamNameBySubject(ctx, subject)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return steward.Errorf(steward.ENOTFOUND, "no stream holds %s to replay from", subject)
	case err != nil:
		return fmt.Errorf("subscribe to %s: find its stream: %w", subject, err)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverByStartTimePolicy}
	if o.AfterSeq > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, o.AfterSeq+1
	} else {
		since := o.Since
		cfg.OptStartTime = &since
	}
	cons, err := s.js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return fmt.Errorf("subscribe to %s in %s: %w", subject, stream, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(o.Buffer))
	if err != nil {
		return fmt.Errorf("subscribe to %s in %s: %w", subject, stream, err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	o.Ready()
	for {
		jm, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return fmt.Errorf("subscribe to %s in %s: %w", subject, stream, err)
		}
		m, err := Parse(&nats.Msg{Subject: jm.Subject(), Header: jm.Headers(), Data: jm.Data()})
		if err != nil {
			s.log.Warn("bus: a stored message with a bad envelope", "subject", jm.Subject(), "err", err)
			m = Message{Subject: jm.Subject(), Data: jm.Data()}
		}
		if md, err := jm.Metadata(); err == nil {
			m.Stream, m.Seq = md.Stream, md.Sequence.Stream
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}

// subscribeLive is Subscribe without a replay.
func (s *Server) subscribeLive(ctx context.Context, subject string, o SubscribeOptions, fn func(Message) error) error {
	buffer := o.Buffer
	sub, err := s.nc.SubscribeSync(subject)
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", subject, err)
	}
	defer sub.Unsubscribe()
	if err := sub.SetPendingLimits(buffer, -1); err != nil {
		return fmt.Errorf("subscribe to %s: %w", subject, err)
	}
	if err := s.nc.FlushTimeout(flushTimeout); err != nil {
		return fmt.Errorf("subscribe to %s: %w", subject, err)
	}
	o.Ready()
	for {
		msg, err := sub.NextMsgWithContext(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, nats.ErrSlowConsumer):
			return steward.Errorf(steward.EUNAVAILABLE, "the subscription to %s fell more than %d messages behind and ended", subject, buffer)
		case err != nil:
			return fmt.Errorf("subscribe to %s: %w", subject, err)
		}
		m, err := Parse(msg)
		if err != nil {
			s.log.Warn("bus: a message with a bad envelope", "subject", msg.Subject, "err", err)
			m = Message{Subject: msg.Subject, Data: msg.Data}
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}
