package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/stewardhq/steward"
)

// BusPublish publishes a message on steward's bus.
func (c *Client) BusPublish(ctx context.Context, req steward.BusPublishRequest) (steward.BusPublished, error) {
	var out steward.BusPublished
	rq, err := jsonRequest("POST", "/v1/bus/publish", req)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, rq, &out)
	return out, err
}

// BusRequest sends a request on steward's bus and returns the reply; no
// service on the subject is an ENOTFOUND error.
func (c *Client) BusRequest(ctx context.Context, req steward.BusRequest) (steward.BusMessage, error) {
	var out steward.BusMessage
	rq, err := jsonRequest("POST", "/v1/bus/request", req)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, rq, &out)
	return out, err
}

// BusStreams lists the streams of steward's bus.
func (c *Client) BusStreams(ctx context.Context) ([]steward.BusStream, error) {
	var out []steward.BusStream
	err := c.call(ctx, request{method: "GET", path: "/v1/bus/streams"}, &out)
	return out, err
}

// BusSubscribe calls ready once the subscription is in place, then fn with
// each message on q's subject (first those replayed since q.Since), until
// ctx ends (it returns ctx.Err()), steward ends the stream (nil, or the
// error it sent), or fn returns an error (that error). ready may be nil.
func (c *Client) BusSubscribe(ctx context.Context, q steward.BusSubscribeQuery, ready func(), fn func(steward.BusMessage) error) error {
	resp, err := c.send(ctx, request{method: "GET", path: "/v1/bus/subscribe", query: q.Values(),
		header: http.Header{"Accept": {"text/event-stream"}}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if ready != nil {
		ready()
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var data []byte
	event := ""
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if len(data) == 0 {
				continue
			}
			if event == "error" {
				var msg string
				json.Unmarshal(data, &msg)
				return steward.Errorf(steward.EUNAVAILABLE, "%s", msg)
			}
			var m steward.BusMessage
			if err := json.Unmarshal(data, &m); err != nil {
				return fmt.Errorf("read bus messages: %w", err)
			}
			data, event = data[:0], ""
			if err := fn(m); err != nil {
				return err
			}
		case bytes.HasPrefix(line, []byte("event:")):
			event = string(bytes.TrimSpace(bytes.TrimPrefix(line, []byte("event:"))))
		case bytes.HasPrefix(line, []byte("data:")):
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" "))...)
		}
	}
	return c.streamEnd(ctx, "read bus messages", resp, sc.Err())
}

// BusDeadLetters lists the dead letters of steward's bus, oldest first.
func (c *Client) BusDeadLetters(ctx context.Context, q steward.BusDLQQuery) ([]steward.BusDeadLetter, error) {
	var out []steward.BusDeadLetter
	err := c.call(ctx, request{method: "GET", path: "/v1/bus/dlq", query: q.Values()}, &out)
	return out, err
}

// BusDeadLetter returns dead letter id with its message.
func (c *Client) BusDeadLetter(ctx context.Context, id uint64) (steward.BusDeadLetter, error) {
	var out steward.BusDeadLetter
	err := c.call(ctx, request{method: "GET", path: "/v1/bus/dlq/" + strconv.FormatUint(id, 10)}, &out)
	return out, err
}

// BusReplayDeadLetter publishes dead letter id again on its subject.
func (c *Client) BusReplayDeadLetter(ctx context.Context, id uint64) (steward.BusPublished, error) {
	var out steward.BusPublished
	err := c.call(ctx, request{method: "POST", path: "/v1/bus/dlq/" + strconv.FormatUint(id, 10) + "/replay"}, &out)
	return out, err
}

// BusReplayDeadLetters replays every dead letter (of stream, or all for
// "") and returns how many.
func (c *Client) BusReplayDeadLetters(ctx context.Context, stream string) (steward.BusDLQCount, error) {
	var out steward.BusDLQCount
	err := c.call(ctx, request{method: "POST", path: "/v1/bus/dlq/replay", query: steward.BusDLQQuery{Stream: stream}.Values()}, &out)
	return out, err
}

// BusPurgeDeadLetters removes the dead letters (of stream, or all for "")
// and returns how many.
func (c *Client) BusPurgeDeadLetters(ctx context.Context, stream string) (steward.BusDLQCount, error) {
	var out steward.BusDLQCount
	err := c.call(ctx, request{method: "DELETE", path: "/v1/bus/dlq", query: steward.BusDLQQuery{Stream: stream}.Values()}, &out)
	return out, err
}

// BusServices lists the NATS micro services on steward's bus.
func (c *Client) BusServices(ctx context.Context) ([]steward.BusService, error) {
	var out []steward.BusService
	err := c.call(ctx, request{method: "GET", path: "/v1/bus/services"}, &out)
	return out, err
}
