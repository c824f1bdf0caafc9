package bus

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/micro"
)

// Service is one instance of a NATS micro service on the bus (a plugin):
// what it answers $SRV.INFO and $SRV.STATS with.
type Service struct {
	Name        string
	ID          string
	Version     string
	Description string
	Metadata    map[string]string
	Started     time.Time
	Endpoints   []Endpoint
}

// Endpoint is one endpoint of a Service, with its figures.
type Endpoint struct {
	Name       string
	Subject    string
	QueueGroup string
	Metadata   map[string]string
	Requests   int
	Errors     int
	LastError  string
	// ProcessingTime is the total time its requests took; Average, per
	// request.
	ProcessingTime        time.Duration
	AverageProcessingTime time.Duration
}

// discovery bounds the wait for the services' answers: the whole wait,
// and the quiet after the last answer that ends it early.
var (
	discoveryWait  = time.Second
	discoveryQuiet = 250 * time.Millisecond
)

// Services discovers the NATS micro services on the bus, as `nats micro
// ls` does: every instance answering $SRV.INFO, with its figures from
// $SRV.STATS, by name and id.
func (s *Server) Services(ctx context.Context) ([]Service, error) {
	var infos []micro.Info
	if err := s.discover(ctx, "$SRV.INFO", func(b []byte) error {
		var i micro.Info
		err := json.Unmarshal(b, &i)
		if err == nil && i.ID != "" {
			infos = append(infos, i)
		}
		return err
	}); err != nil {
		return nil, err
	}
	stats := map[string]micro.Stats{}
	if len(infos) > 0 {
		if err := s.discover(ctx, "$SRV.STATS", func(b []byte) error {
			var st micro.Stats
			err := json.Unmarshal(b, &st)
			if err == nil {
				stats[st.ID] = st
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	out := make([]Service, 0, len(infos))
	for _, i := range infos {
		st := stats[i.ID]
		svc := Service{Name: i.Name, ID: i.ID, Version: i.Version, Description: i.Description, Metadata: i.Metadata, Started: st.Started}
		for _, e := range i.Endpoints {
			ep := Endpoint{Name: e.Name, Subject: e.Subject, QueueGroup: e.QueueGroup, Metadata: e.Metadata}
			for _, es := range st.Endpoints {
				if es != nil && es.Name == e.Name && es.Subject == e.Subject {
					ep.Requests, ep.Errors, ep.LastError = es.NumRequests, es.NumErrors, es.LastError
					ep.ProcessingTime, ep.AverageProcessingTime = es.ProcessingTime, es.AverageProcessingTime
				}
			}
			svc.Endpoints = append(svc.Endpoints, ep)
		}
		out = append(out, svc)
	}
	slices.SortFunc(out, func(a, b Service) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// discover sends a request on subject and calls fn with each answer that
// comes within discoveryWait, until none came for discoveryQuiet after
// the last one. An answer fn cannot read is logged and skipped.
func (s *Server) discover(ctx context.Context, subject string, fn func([]byte) error) error {
	inbox := s.nc.NewRespInbox()
	sub, err := s.nc.SubscribeSync(inbox)
	if err != nil {
		return fmt.Errorf("discover services: %w", err)
	}
	defer sub.Unsubscribe()
	if err := s.nc.PublishRequest(subject, inbox, nil); err != nil {
		return fmt.Errorf("discover services: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryWait)
	defer cancel()
	wait := discoveryWait
	for {
		qctx, qcancel := context.WithTimeout(ctx, wait)
		m, err := sub.NextMsgWithContext(qctx)
		qcancel()
		if err != nil {
			if ctx.Err() == context.Canceled {
				return ctx.Err()
			}
			return nil // the wait or the quiet is over
		}
		if len(m.Data) > 0 { // not the server's "no responders"
			if err := fn(m.Data); err != nil {
				s.log.Warn("bus: a service's answer to "+subject+" is not JSON", "err", err)
			}
		}
		wait = discoveryQuiet
	}
}
