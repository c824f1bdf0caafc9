package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/bus"
)

// Bus is the message bus as the API drives it: messages, streams, the
// dead-letter queue and the NATS micro services on it.
type Bus interface {
	Publish(ctx context.Context, m bus.Message) (bus.Published, error)
	Request(ctx context.Context, m bus.Message, timeout time.Duration) (bus.Message, error)
	Subscribe(ctx context.Context, subject string, o bus.SubscribeOptions, fn func(bus.Message) error) error
	Streams(ctx context.Context) ([]bus.StreamInfo, error)

	DeadLetters(ctx context.Context, stream string, after uint64, limit int) ([]bus.DeadLetter, error)
	DeadLetter(ctx context.Context, id uint64) (bus.DeadLetter, error)
	ReplayDeadLetter(ctx context.Context, id uint64) (bus.Published, error)
	ReplayDeadLetters(ctx context.Context, stream string) (int, error)
	PurgeDeadLetters(ctx context.Context, stream string) (uint64, error)

	Services(ctx context.Context) ([]bus.Service, error)
}

var errNoBus = steward.Errorf(steward.ECONFLICT, "no bus configured: add a bus: section to the configuration")

// Request bounds.
const (
	defaultBusTimeout = 5 * time.Second
	maxBusTimeout     = 60 * time.Second
	maxBusHeaders     = 32
	maxBusHeader      = 4096
)

// busPublish serves POST /v1/bus/publish.
func (s *Server) busPublish(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Bus == nil {
		return errNoBus
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req steward.BusPublishRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	switch req.Type {
	case "", bus.TypeCommand, bus.TypeEvent, bus.TypeQuery, bus.TypeResponse:
	default:
		return steward.Errorf(steward.EINVALID, "type %q: want event, command, query or response", req.Type)
	}
	m, err := busMessage(req.Subject, req.Data, req.Encoding, req.Headers)
	if err != nil {
		return err
	}
	m.Type = req.Type
	p, err := s.opts.Bus.Publish(r.Context(), m)
	if err != nil {
		return err
	}
	s.log.Info("api bus publish", "subject", m.Subject, "id", p.ID, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusOK, steward.BusPublished{Subject: m.Subject, ID: p.ID, Stream: p.Stream, Seq: p.Seq, Duplicate: p.Duplicate})
}

// busRequest serves POST /v1/bus/request: the reply, or 404 when no service
// answers on the subject.
func (s *Server) busRequest(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Bus == nil {
		return errNoBus
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req steward.BusRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	timeout := defaultBusTimeout
	if req.Timeout != "" {
		d, err := time.ParseDuration(req.Timeout)
		if err != nil || d <= 0 || d > maxBusTimeout {
			return steward.Errorf(steward.EINVALID, "timeout %q: want a duration like 2s, at most %v", req.Timeout, maxBusTimeout)
		}
		timeout = d
	}
	m, err := busMessage(req.Subject, req.Data, req.Encoding, req.Headers)
	if err != nil {
		return err
	}
	reply, err := s.opts.Bus.Request(r.Context(), m, timeout)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wireMessage(reply))
}

// busStreams serves GET /v1/bus/streams.
func (s *Server) busStreams(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Bus == nil {
		return errNoBus
	}
	list, err := s.opts.Bus.Streams(r.Context())
	if err != nil {
		return err
	}
	out := make([]steward.BusStream, len(list))
	for i, st := range list {
		out[i] = steward.BusStream{
			Name: st.Name, Subjects: st.Subjects, Messages: st.Messages, Bytes: st.Bytes,
			FirstSeq: st.FirstSeq, LastSeq: st.LastSeq, FirstTime: st.FirstTime, LastTime: st.LastTime,
			Consumers: st.Consumers, MaxAge: st.MaxAge, MaxBytes: st.MaxBytes, Storage: st.Storage, Created: st.Created,
			Replicas: st.Replicas, Leader: st.Leader,
		}
		if out[i].Subjects == nil {
			out[i].Subjects = []string{}
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// busSubscribe serves GET /v1/bus/subscribe?subject=&since= as Server-Sent
// Events, one message each: live messages on subject (wildcards allowed)
// and, with since (or a Last-Event-ID on a reconnect), first those the
// stream that holds the subject stored since then, each with its stream
// sequence as the event id.
func (s *Server) busSubscribe(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Bus == nil {
		return errNoBus
	}
	q := r.URL.Query()
	subject := q.Get("subject")
	if err := bus.CheckSubject(subject, true); err != nil {
		return steward.Wrap(steward.EINVALID, err, "subscribe")
	}
	var o bus.SubscribeOptions
	var err error
	if o.Since, err = timeParam("since", q.Get("since"), s.now()); err != nil {
		return err
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if o.AfterSeq, err = strconv.ParseUint(id, 10, 64); err != nil {
			return steward.Errorf(steward.EINVALID, "Last-Event-ID %q: want a stream sequence", id)
		}
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	msgs := make(chan bus.Message)
	ready := make(chan struct{})
	o.Ready = func() { close(ready) }
	done := make(chan error, 1)
	go func() {
		done <- s.opts.Bus.Subscribe(ctx, subject, o, func(m bus.Message) error {
			select {
			case msgs <- m:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	select {
	case err := <-done:
		return err // before the subscription began: a JSON error
	case <-ready:
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return err
	}
	tick := time.NewTicker(s.keepalive)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil && ctx.Err() == nil {
				fmt.Fprintf(w, "event: error\ndata: %s\n\n", jsonString(steward.ErrorMessage(err)))
				rc.Flush()
			}
			return nil
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return err
			}
		case m := <-msgs:
			data, err := json.Marshal(wireMessage(m))
			if err != nil {
				return err
			}
			if m.Seq > 0 {
				fmt.Fprintf(w, "id: %d\n", m.Seq)
			}
			if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
				return err
			}
		}
		if err := rc.Flush(); err != nil {
			return err
		}
	}
}

// dlqStream is the stream= query parameter: a stream's name or "".
func dlqStream(r *http.Request) (string, error) {
	st := r.URL.Query().Get("stream")
	if strings.ContainsAny(st, ".*> \t") {
		return "", steward.Errorf(steward.EINVALID, "stream=%q: a stream name has no '.', '*', '>' or spaces", st)
	}
	return st, nil
}

// dlqID is the {id} of a DLQ route.
func dlqID(r *http.Request) (uint64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil || id < 1 {
		return 0, steward.Errorf(steward.EINVALID, "dead letter id %q: want a positive integer", v)
	}
	return id, nil
}

// deadLetter returns the bus and the dead letter the path's {id} names.
func (s *Server) deadLetter(r *http.Request) (Bus, bus.DeadLetter, error) {
	d := s.opts.Bus
	if d == nil {
		return nil, bus.DeadLetter{}, errNoBus
	}
	id, err := dlqID(r)
	if err != nil {
		return nil, bus.DeadLetter{}, err
	}
	dl, err := d.DeadLetter(r.Context(), id)
	return d, dl, err
}

// busDLQ serves GET /v1/bus/dlq?stream=&after=&limit=: the dead letters,
// oldest first, without their messages.
func (s *Server) busDLQ(w http.ResponseWriter, r *http.Request) error {
	d := s.opts.Bus
	if d == nil {
		return errNoBus
	}
	stream, err := dlqStream(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var after uint64
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			return steward.Errorf(steward.EINVALID, "after=%q: want a dead letter id", v)
		}
	}
	limit, err := intParam("limit", q.Get("limit"), 1, 0)
	if err != nil {
		return err
	}
	list, err := d.DeadLetters(r.Context(), stream, after, limit)
	if err != nil {
		return err
	}
	out := make([]steward.BusDeadLetter, len(list))
	for i, dl := range list {
		out[i] = wireDeadLetter(dl)
	}
	return writeJSON(w, http.StatusOK, out)
}

// busDLQEntry serves GET /v1/bus/dlq/{id}: one dead letter with its
// message.
func (s *Server) busDLQEntry(w http.ResponseWriter, r *http.Request) error {
	_, dl, err := s.deadLetter(r)
	if err != nil {
		return err
	}
	out := wireDeadLetter(dl)
	if !dl.Missing {
		m := wireMessage(dl.Message)
		out.Message = &m
	}
	return writeJSON(w, http.StatusOK, out)
}

// busDLQReplay serves POST /v1/bus/dlq/{id}/replay: the message goes
// again to its subject and stream, and the entry goes.
func (s *Server) busDLQReplay(w http.ResponseWriter, r *http.Request) error {
	d, dl, err := s.deadLetter(r)
	if err != nil {
		return err
	}
	p, err := d.ReplayDeadLetter(r.Context(), dl.ID)
	if err != nil {
		return err
	}
	s.log.Info("api bus dlq replay", "id", dl.ID, "subject", dl.Subject, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusOK, steward.BusPublished{Subject: dl.Subject, ID: p.ID, Stream: p.Stream, Seq: p.Seq, Duplicate: p.Duplicate})
}

// busDLQReplayAll serves POST /v1/bus/dlq/replay?stream=: every dead
// letter (of one stream) replayed, oldest first.
func (s *Server) busDLQReplayAll(w http.ResponseWriter, r *http.Request) error {
	d := s.opts.Bus
	if d == nil {
		return errNoBus
	}
	stream, err := dlqStream(r)
	if err != nil {
		return err
	}
	n, err := d.ReplayDeadLetters(r.Context(), stream)
	if n > 0 {
		s.log.Info("api bus dlq replay", "stream", stream, "replayed", n, "who", s.who(r.Context()))
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, steward.BusDLQCount{Count: uint64(n)})
}

// busDLQPurge serves DELETE /v1/bus/dlq?stream=: the dead letters (of one
// stream) removed.
func (s *Server) busDLQPurge(w http.ResponseWriter, r *http.Request) error {
	d := s.opts.Bus
	if d == nil {
		return errNoBus
	}
	stream, err := dlqStream(r)
	if err != nil {
		return err
	}
	n, err := d.PurgeDeadLetters(r.Context(), stream)
	if err != nil {
		return err
	}
	s.log.Info("api bus dlq purge", "stream", stream, "purged", n, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusOK, steward.BusDLQCount{Count: n})
}

func wireDeadLetter(d bus.DeadLetter) steward.BusDeadLetter {
	return steward.BusDeadLetter{
		ID: d.ID, Stream: d.Stream, Subject: d.Subject, Seq: d.Seq, Consumer: d.Consumer,
		Reason: d.Reason, Deliveries: d.Deliveries, Time: d.Time, Missing: d.Missing,
	}
}

// busServices serves GET /v1/bus/services: the NATS micro services on the
// bus, with their endpoints and figures.
func (s *Server) busServices(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Bus == nil {
		return errNoBus
	}
	list, err := s.opts.Bus.Services(r.Context())
	if err != nil {
		return err
	}
	out := make([]steward.BusService, len(list))
	for i, svc := range list {
		o := steward.BusService{Name: svc.Name, ID: svc.ID, Version: svc.Version, Description: svc.Description,
			Metadata: svc.Metadata, Started: svc.Started, Endpoints: make([]steward.BusEndpoint, len(svc.Endpoints))}
		for j, e := range svc.Endpoints {
			o.Endpoints[j] = steward.BusEndpoint{Name: e.Name, Subject: e.Subject, QueueGroup: e.QueueGroup, Metadata: e.Metadata,
				Requests: e.Requests, Errors: e.Errors, LastError: e.LastError,
				ProcessingTime: e.ProcessingTime, AverageProcessingTime: e.AverageProcessingTime}
		}
		out[i] = o
	}
	return writeJSON(w, http.StatusOK, out)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// busMessage checks what a client asks to send and returns it as a message.
func busMessage(subject, data, encoding string, headers map[string]string) (bus.Message, error) {
	if err := bus.CheckSubject(subject, false); err != nil {
		return bus.Message{}, steward.Wrap(steward.EINVALID, err, "")
	}
	if reserved(subject) {
		return bus.Message{}, steward.Errorf(steward.EINVALID, "subject %q: $ subjects (but $SRV.) and steward. subjects are steward's own", subject)
	}
	m := bus.Message{Subject: subject, Data: []byte(data)}
	switch encoding {
	case "":
	case steward.EncodingBase64:
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return bus.Message{}, steward.Errorf(steward.EINVALID, "data is not base64: %v", err)
		}
		m.Data = b
	default:
		return bus.Message{}, steward.Errorf(steward.EINVALID, "encoding %q: want base64, or none for text", encoding)
	}
	if len(headers) > maxBusHeaders {
		return bus.Message{}, steward.Errorf(steward.EINVALID, "%d headers, at most %d", len(headers), maxBusHeaders)
	}
	for k, v := range headers {
		if err := checkHeader(k, v); err != nil {
			return bus.Message{}, err
		}
	}
	if len(headers) > 0 {
		m.Header = headers
	}
	return m, nil
}

// reserved reports whether a client may not send on subject: the system's
// and JetStream's $ subjects (NATS micro's $SRV. aside) and steward's own.
func reserved(subject string) bool {
	return strings.HasPrefix(subject, "$") && !strings.HasPrefix(subject, "$SRV.") || strings.HasPrefix(subject, "steward.")
}

// checkHeader checks one application header: a name of letters, digits and
// '-' that is not the envelope's (Steward-…, Nats-…), and a value of
// printable ASCII.
func checkHeader(k, v string) error {
	if k == "" || len(k) > 128 || strings.Trim(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
		return steward.Errorf(steward.EINVALID, "header %q: a name is letters, digits and '-'", k)
	}
	if l := strings.ToLower(k); strings.HasPrefix(l, "steward-") || strings.HasPrefix(l, "nats-") {
		return steward.Errorf(steward.EINVALID, "header %q: Steward- and Nats- headers are the envelope's; set type instead", k)
	}
	if len(v) > maxBusHeader || strings.IndexFunc(v, func(c rune) bool { return c < ' ' || c > '~' }) >= 0 {
		return steward.Errorf(steward.EINVALID, "header %q: the value must be printable ASCII of at most %d bytes", k, maxBusHeader)
	}
	return nil
}

// wireMessage is m on the wire: its data as text when it is UTF-8, else
// in base64.
func wireMessage(m bus.Message) steward.BusMessage {
	out := steward.BusMessage{
		Subject: m.Subject, Type: m.Type, ID: m.ID, Source: m.Source, CorrelationID: m.CorrelationID,
		ReplyTo: m.ReplyTo, Time: m.Time, Headers: m.Header, Data: string(m.Data), Stream: m.Stream, Seq: m.Seq,
	}
	if !utf8.Valid(m.Data) {
		out.Data, out.Encoding = base64.StdEncoding.EncodeToString(m.Data), steward.EncodingBase64
	}
	return out
}
