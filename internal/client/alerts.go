package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/stewardhq/steward"
)

// jsonRequest is a request with v as its JSON body.
func jsonRequest(method, path string, v any) (request, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return request{}, err
	}
	return request{method: method, path: path, body: bytes.NewReader(b), contentType: "application/json"}, nil
}

// Alerts returns the open alerts, or with all every stored one, newest first.
func (c *Client) Alerts(ctx context.Context, all bool) ([]steward.Alert, error) {
	var out []steward.Alert
	err := c.call(ctx, request{method: "GET", path: "/v1/alerts", query: steward.AlertQuery{All: all}.Values()}, &out)
	return out, err
}

// Alert returns alert id with its transitions.
func (c *Client) Alert(ctx context.Context, id int64) (steward.Alert, error) {
	var out steward.Alert
	err := c.call(ctx, request{method: "GET", path: "/v1/alerts/" + strconv.FormatInt(id, 10)}, &out)
	return out, err
}

// Ack acknowledges open alert id, with an optional comment.
func (c *Client) Ack(ctx context.Context, id int64, comment string) (steward.Alert, error) {
	rq, err := jsonRequest("POST", "/v1/alerts/"+strconv.FormatInt(id, 10)+"/ack", steward.AckRequest{Comment: comment})
	if err != nil {
		return steward.Alert{}, err
	}
	var out steward.Alert
	err = c.call(ctx, rq, &out)
	return out, err
}

// Silences returns the silences that have not ended.
func (c *Client) Silences(ctx context.Context) ([]steward.Silence, error) {
	var out []steward.Silence
	err := c.call(ctx, request{method: "GET", path: "/v1/silences"}, &out)
	return out, err
}

// AddSilence silences the alerts matchers match for d from now.
func (c *Client) AddSilence(ctx context.Context, matchers map[string]string, d time.Duration, comment string) (steward.Silence, error) {
	rq, err := jsonRequest("POST", "/v1/silences", steward.SilenceRequest{Matchers: matchers, Duration: d.String(), Comment: comment})
	if err != nil {
		return steward.Silence{}, err
	}
	var out steward.Silence
	err = c.call(ctx, rq, &out)
	return out, err
}

// DeleteSilence ends silence id now.
func (c *Client) DeleteSilence(ctx context.Context, id int64) error {
	resp, err := c.send(ctx, request{method: "DELETE", path: "/v1/silences/" + strconv.FormatInt(id, 10)})
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Checks returns the standalone checks and their last results.
func (c *Client) Checks(ctx context.Context) ([]steward.CheckState, error) {
	var out []steward.CheckState
	err := c.call(ctx, request{method: "GET", path: "/v1/checks"}, &out)
	return out, err
}

// QueryMetrics returns the history of the metric q names whose series
// have the labels q gives.
func (c *Client) QueryMetrics(ctx context.Context, q steward.MetricQuery) ([]steward.MetricSeries, error) {
	var out steward.QueryResult
	err := c.call(ctx, request{method: "GET", path: "/v1/metrics/query", query: q.Values()}, &out)
	return out.Series, err
}

// PushMetrics records custom samples.
func (c *Client) PushMetrics(ctx context.Context, samples ...steward.MetricSample) error {
	rq, err := jsonRequest("POST", "/v1/metrics", steward.PushRequest{Samples: samples})
	if err != nil {
		return err
	}
	var out steward.PushResult
	return c.call(ctx, rq, &out)
}

// Prometheus returns the Prometheus text exposition of GET /metrics.
func (c *Client) Prometheus(ctx context.Context) ([]byte, error) {
	resp, err := c.send(ctx, request{method: "GET", path: "/metrics"})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
