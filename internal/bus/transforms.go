package bus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"text/template"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward/internal/config"
)

// transformQueue is the queue group of steward's subscriptions for the
// transforms with a template: of several stewards on one bus, one
// republishes each message.
const transformQueue = "steward-transforms"

// transforms are the transforms in force: the subject mappings steward put
// on the embedded server's account, and the subscriptions of those with a
// template.
type transforms struct {
	mapped []string
	subs   []*nats.Subscription
	once   sync.Once
}

func (t *transforms) close() {
	if t == nil {
		return
	}
	t.once.Do(func() {
		for _, sub := range t.subs {
			sub.Unsubscribe()
		}
	})
}

// subjectMatcher maps a subject to its destination.
type subjectMatcher interface {
	Match(subject string) (string, error)
}

// applyTransforms puts the transforms of cfg in force, in place of the
// previous ones. A transform without a template is a subject mapping of
// the embedded server's account: the server delivers (and streams store)
// the message on its destination instead. One with a template is steward
// subscribing to from and republishing each message on its destination
// with the template's output as its payload: at most once, like any core
// NATS subscription.
func (s *Server) applyTransforms(cfg config.Bus) error {
	s.mu.Lock()
	old := s.transforms
	s.transforms = nil
	s.mu.Unlock()
	old.close()
	t := &transforms{}
	if s.ns != nil {
		acc := s.ns.GlobalAccount()
		if old != nil {
			for _, from := range old.mapped {
				acc.RemoveMapping(from)
			}
		}
		for _, tr := range cfg.Transforms {
			if tr.Template != "" {
				continue
			}
			if err := acc.AddMapping(tr.From, tr.To); err != nil {
				return fmt.Errorf("bus.transforms: %s to %s: %w", tr.From, tr.To, err)
			}
			t.mapped = append(t.mapped, tr.From)
		}
	}
	for _, tr := range cfg.Transforms {
		if tr.Template == "" {
			continue
		}
		m, err := server.NewSubjectTransform(tr.From, tr.To)
		if err != nil {
			t.close()
			return fmt.Errorf("bus.transforms: %s to %s: %w", tr.From, tr.To, err)
		}
		tmpl, err := config.ParseTransformTemplate(tr.Template)
		if err != nil {
			t.close()
			return fmt.Errorf("bus.transforms: %s: %w", tr.From, err)
		}
		sub, err := s.nc.QueueSubscribe(tr.From, transformQueue, func(msg *nats.Msg) { s.transform(msg, m, tmpl) })
		if err != nil {
			t.close()
			return fmt.Errorf("bus.transforms: subscribe to %s: %w", tr.From, err)
		}
		t.subs = append(t.subs, sub)
	}
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.transforms = t
	}
	s.mu.Unlock()
	if closed {
		t.close()
	}
	return nil
}

// transform republishes msg on its destination, its payload the output of
// tmpl over its JSON data, its headers and reply subject kept. A message
// whose data is not JSON, or that the template fails on, is logged and
// not republished.
func (s *Server) transform(msg *nats.Msg, m subjectMatcher, tmpl *template.Template) {
	subject, err := m.Match(msg.Subject)
	if err == nil {
		var data []byte
		if data, err = Transform(tmpl, msg.Data); err == nil {
			out := &nats.Msg{Subject: subject, Reply: msg.Reply, Header: msg.Header, Data: data}
			if err = s.nc.PublishMsg(out); err == nil {
				return
			}
		}
	}
	s.log.Warn("bus: transform", "subject", msg.Subject, "err", err)
}

// Transform is the output of a transform's template over data, a JSON
// value, which the template sees as maps, lists, strings, json.Numbers,
// booleans and nil.
func Transform(tmpl *template.Template, data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the data is not JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("the data is more than one JSON value")
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
