package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward"
)

// Request is an API request for another node.
type Request struct {
	Method string
	Target string // path and query: /v1/services?x=y
	Header http.Header
	Body   []byte
	// Principal is who asked, on this node: the target authorizes and
	// audits the request as its, via this node.
	Principal steward.Principal
	// Timeout bounds the request, or the start of a stream's answer; 0
	// means DefaultRequestTimeout.
	Timeout time.Duration
	// Stream says the answer streams (logs -f, events -f): it lasts until
	// either side goes away, and is flushed as it comes.
	Stream bool
}

// DefaultRequestTimeout bounds a fleet request.
const DefaultRequestTimeout = 30 * time.Second

// Forward sends rq to node and writes its answer to w as it comes. Before
// anything is written, a node that is not known, down or does not answer
// in time is an error saying so; once the answer started, it ends early
// on a failure, and for a stream returns an error saying why.
func (f *Fleet) Forward(ctx context.Context, node string, rq Request, w http.ResponseWriter) error {
	known, up, lastSeen := f.node(node)
	switch {
	case !known:
		return steward.Errorf(steward.ENOTFOUND, "no node %q in the fleet", node)
	case !up:
		return steward.Errorf(steward.EUNAVAILABLE, "node %q is down (last seen %s ago)", node, f.opts.Now().Sub(lastSeen).Round(time.Millisecond))
	}
	if node == f.opts.Node {
		return f.local(ctx, rq, w)
	}
	timeout := rq.Timeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	m := nats.NewMsg(apiSubject(node))
	m.Header.Set(hMethod, rq.Method)
	m.Header.Set(hTarget, rq.Target)
	p, err := json.Marshal(rq.Principal)
	if err != nil {
		return fmt.Errorf("request node %s: %w", node, err)
	}
	m.Header.Set(hCaller, string(p))
	m.Header.Set(hFrom, f.opts.Node)
	if rq.Stream {
		m.Header.Set(hStream, "1")
	} else {
		m.Header.Set(hTimeout, strconv.FormatInt(timeout.Milliseconds(), 10))
	}
	callerCtx := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, h := range forwardedHeaders {
		if v := rq.Header.Get(h); v != "" {
			m.Header.Set(h, v)
		}
	}
	m.Data = rq.Body
	if int64(len(m.Data))+4096 > f.nc.MaxPayload() {
		return steward.Errorf(steward.ETOOLARGE, "a request of %d bytes is more than the bus carries", len(m.Data))
	}
	m.Reply = f.nc.NewInbox()
	sub, err := f.nc.SubscribeSync(m.Reply)
	if err != nil {
		return fmt.Errorf("request node %s: %w", node, err)
	}
	defer sub.Unsubscribe()
	if err := f.nc.PublishMsg(m); err != nil {
		return fmt.Errorf("request node %s: %w", node, err)
	}
	started := false
	for {
		in, err := sub.NextMsgWithContext(ctx)
		switch {
		case err != nil && started:
			return nil // the answer ends early, once its start is written
		case errors.Is(err, nats.ErrNoResponders):
			return steward.Errorf(steward.EUNAVAILABLE, "node %q does not answer on the bus", node)
		case errors.Is(err, context.DeadlineExceeded):
			return steward.Errorf(steward.EUNAVAILABLE, "node %q did not answer within %v", node, timeout)
		case err != nil:
			return err
		}
		if !started {
			status, err := strconv.Atoi(in.Header.Get(hStatus))
			if err != nil || status < 100 || status > 999 {
				return steward.Errorf(steward.EINTERNAL, "node %q answered without a status", node)
			}
			for _, h := range forwardedHeaders {
				if v := in.Header.Get(h); v != "" {
					w.Header().Set(h, v)
				}
			}
			w.WriteHeader(status)
			started = true
			if rq.Stream {
				return f.forwardStream(callerCtx, node, sub, in, w)
			}
		}
		if _, err := w.Write(in.Data); err != nil || in.Header.Get(hDone) != "" {
			return nil
		}
	}
}

// local serves rq with this node's own handler.
func (f *Fleet) local(ctx context.Context, rq Request, w http.ResponseWriter) error {
	req, err := http.NewRequestWithContext(ctx, rq.Method, "http://steward"+rq.Target, bytes.NewReader(rq.Body))
	if err != nil {
		return steward.Wrap(steward.EINVALID, err, "request")
	}
	for _, h := range forwardedHeaders {
		if v := rq.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req = req.WithContext(f.opts.Caller(ctx, rq.Principal))
	f.opts.Handler.ServeHTTP(w, req)
	return nil
}

// FanOutTimeout bounds how long a request fanned out to the fleet waits
// for each node.
const FanOutTimeout = 3 * time.Second

// FanOut sends the GET request target to every node that is up, this one
// included, at once, and returns their answers by node, the nodes that are
// down with an error saying so. It waits at most timeout (FanOutTimeout
// when 0) for any node.
func (f *Fleet) FanOut(ctx context.Context, target string, p steward.Principal, timeout time.Duration) []steward.FleetAnswer {
	if timeout <= 0 {
		timeout = FanOutTimeout
	}
	up, down := f.upNodes()
	out := make([]steward.FleetAnswer, len(up), len(up)+len(down))
	var wg sync.WaitGroup
	for i, node := range up {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			rq := Request{Method: http.MethodGet, Target: target, Header: http.Header{"Accept": {"application/json"}}, Principal: p, Timeout: timeout}
			err := f.Forward(ctx, node, rq, rec)
			out[i] = answer(node, rec, err)
		})
	}
	wg.Wait()
	now := f.opts.Now()
	for _, node := range down {
		_, _, seen := f.node(node)
		out = append(out, steward.FleetAnswer{Node: node, Error: &steward.ErrorBody{Code: steward.EUNAVAILABLE,
			Message: fmt.Sprintf("node %q is down (last seen %s ago)", node, now.Sub(seen).Round(time.Millisecond))}})
	}
	return out
}

// answer is node's answer as rec holds it, or err (with no status).
func answer(node string, rec *httptest.ResponseRecorder, err error) steward.FleetAnswer {
	a := steward.FleetAnswer{Node: node}
	if err == nil {
		a.Status = rec.Code
	}
	switch {
	case err != nil:
		code := steward.EINTERNAL
		if e := steward.Coded(err); e != nil {
			code = e.Code
		}
		a.Error = &steward.ErrorBody{Code: code, Message: err.Error()}
	case rec.Code >= 300:
		var e steward.ErrorResponse
		if json.Unmarshal(rec.Body.Bytes(), &e) == nil && e.Error.Code != "" {
			a.Error = &e.Error
		} else {
			a.Error = &steward.ErrorBody{Code: steward.EINTERNAL, Message: fmt.Sprintf("node %q answered %d", node, rec.Code)}
		}
	case !json.Valid(rec.Body.Bytes()):
		a.Error = &steward.ErrorBody{Code: steward.EINTERNAL, Message: fmt.Sprintf("node %q answered with something else than JSON", node)}
	default:
		a.Body = json.RawMessage(bytes.Clone(rec.Body.Bytes()))
	}
	return a
}
