// Package client is the Go client of steward's API, over the local socket
// (or named pipe) or over TCP with a bearer token. The CLI and tests use it;
// its methods mirror the endpoints, take and return the wire types of the
// root package only, and return every error the server sends as an
// *steward.Error with the server's code. It imports no internal package
// but ipc, the transport (a test locks that).
package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/ipc"
)

// maxLine is the longest NDJSON or SSE line read from a stream.
const maxLine = 4 << 20

// Client talks to one steward. It is safe for concurrent use.
type Client struct {
	address string // as given to New
	base    string // URL the paths are appended to
	prefix  string // put before every path: a fleet node's proxy (WithNode)
	token   string
	tlsConf *tls.Config
	hc      *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithToken sends token as the bearer token of every request (for TCP).
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithTLSConfig sets the TLS configuration of an https address.
func WithTLSConfig(conf *tls.Config) Option { return func(c *Client) { c.tlsConf = conf } }

// New returns a Client of the steward at address: an http:// or https://
// URL for TCP, else the path of the local socket (or the name of the
// Windows named pipe). It connects only when a method is called.
func New(address string, opts ...Option) *Client {
	c := &Client{address: address}
	for _, o := range opts {
		o(c)
	}
	tr := &http.Transport{
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
		TLSClientConfig:     c.tlsConf,
	}
	if strings.HasPrefix(address, "http://") || strings.HasPrefix(address, "https://") {
		c.base = strings.TrimSuffix(address, "/")
		tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	} else {
		c.base = "http://steward"
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return ipc.Dial(ctx, address)
		}
	}
	c.hc = &http.Client{Transport: tr}
	return c
}

// Address returns the address the Client was made for.
func (c *Client) Address() string { return c.address }

// Close closes idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// ConfigError is a configuration the server found invalid, with every
// problem in it. It unwraps to the *steward.Error the server sent.
type ConfigError struct {
	Err      *steward.Error
	Problems []steward.Problem
}

func (e *ConfigError) Error() string { return e.Err.Message }
func (e *ConfigError) Unwrap() error { return e.Err }

// request is one API call.
type request struct {
	method, path string
	query        url.Values
	header       http.Header
	body         io.Reader
	contentType  string
}

// send makes the call and returns the response when its status is 2xx.
func (c *Client) send(ctx context.Context, rq request) (*http.Response, error) {
	u := c.base + c.prefix + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, u, rq.body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", rq.method, rq.path, err)
	}
	for k, v := range rq.header {
		req.Header[k] = v
	}
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.connError(ctx, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp, nil
}

// connError turns a failure to reach steward into the error to report.
func (c *Client) connError(ctx context.Context, err error) error {
	var se *steward.Error
	switch {
	case errors.As(err, &se):
		return se
	case ctx.Err() != nil:
		return ctx.Err()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return steward.Wrap(steward.EUNAVAILABLE, oe.Err, "steward is not reachable at %s", c.address)
	}
	return fmt.Errorf("talk to steward at %s: %w", c.address, err)
}

// responseError decodes the JSON error of a failed response.
func responseError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body steward.ErrorResponse
	if err := json.Unmarshal(data, &body); err != nil || body.Error.Code == "" {
		msg := strings.TrimSpace(string(data))
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return steward.Errorf(statusCode(resp.StatusCode), "%s: %s", resp.Status, firstLine(msg))
	}
	e := &steward.Error{Code: body.Error.Code, Message: body.Error.Message}
	if len(body.Error.Details) > 0 {
		return &ConfigError{Err: e, Problems: body.Error.Details}
	}
	return e
}

// statusCode is the error code of an HTTP status without a JSON error.
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusMethodNotAllowed:
		return steward.EINVALID
	case http.StatusNotFound:
		return steward.ENOTFOUND
	case http.StatusConflict:
		return steward.ECONFLICT
	case http.StatusRequestEntityTooLarge:
		return steward.ETOOLARGE
	case http.StatusUnauthorized:
		return steward.EUNAUTHORIZED
	case http.StatusForbidden:
		return steward.EFORBIDDEN
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return steward.EUNAVAILABLE
	case http.StatusTooManyRequests:
		return steward.ETOOMANY
	}
	return steward.EINTERNAL
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// call makes the call and decodes its JSON answer into out.
func (c *Client) call(ctx context.Context, rq request, out any) error {
	resp, err := c.send(ctx, rq)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", rq.method, rq.path, err)
	}
	return nil
}

// Health returns nil when steward serves its API.
func (c *Client) Health(ctx context.Context) error {
	var out steward.HealthResponse
	return c.call(ctx, request{method: "GET", path: "/healthz"}, &out)
}

// OpenAPI returns the OpenAPI document of the API.
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	resp, err := c.send(ctx, request{method: "GET", path: "/v1/openapi.json"})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// Info describes the running steward.
func (c *Client) Info(ctx context.Context) (steward.Info, error) {
	var out steward.Info
	err := c.call(ctx, request{method: "GET", path: "/v1/info"}, &out)
	return out, err
}

// Services returns every service's status.
func (c *Client) Services(ctx context.Context) ([]steward.ServiceStatus, error) {
	var out []steward.ServiceStatus
	err := c.call(ctx, request{method: "GET", path: "/v1/services"}, &out)
	return out, err
}

// Service returns the status of the service name.
func (c *Client) Service(ctx context.Context, name string) (steward.ServiceStatus, error) {
	var out steward.ServiceStatus
	err := c.call(ctx, request{method: "GET", path: "/v1/services/" + url.PathEscape(name)}, &out)
	return out, err
}

// Start starts the named services (at least one) and returns their status
// once started.
func (c *Client) Start(ctx context.Context, names ...string) ([]steward.ServiceStatus, error) {
	return c.action(ctx, "start", names, false)
}

// Stop stops the named services (at least one) and returns their status
// once stopped.
func (c *Client) Stop(ctx context.Context, names ...string) ([]steward.ServiceStatus, error) {
	return c.action(ctx, "stop", names, false)
}

// Restart restarts the named services (at least one) and returns their
// status.
func (c *Client) Restart(ctx context.Context, names ...string) ([]steward.ServiceStatus, error) {
	return c.action(ctx, "restart", names, false)
}

// StartAll starts every service that is not disabled.
func (c *Client) StartAll(ctx context.Context) ([]steward.ServiceStatus, error) {
	return c.action(ctx, "start", nil, true)
}

// StopAll stops every service.
func (c *Client) StopAll(ctx context.Context) ([]steward.ServiceStatus, error) {
	return c.action(ctx, "stop", nil, true)
}

// RestartAll restarts every service.
func (c *Client) RestartAll(ctx context.Context) ([]steward.ServiceStatus, error) {
	return c.action(ctx, "restart", nil, true)
}

// action acts on every service or on names: one service, or several.
func (c *Client) action(ctx context.Context, verb string, names []string, all bool) ([]steward.ServiceStatus, error) {
	rq := request{method: "POST", path: "/v1/services/-/" + verb}
	switch {
	case all:
	case len(names) == 0:
		return nil, steward.Errorf(steward.EINVALID, "%s: no service named", verb)
	case len(names) == 1 && names[0] != "-" && names[0] != "":
		rq.path = "/v1/services/" + url.PathEscape(names[0]) + "/" + verb
	default:
		body, err := json.Marshal(steward.ActionRequest{Names: names})
		if err != nil {
			return nil, err
		}
		rq.body, rq.contentType = bytes.NewReader(body), "application/json"
	}
	var out []steward.ServiceStatus
	err := c.call(ctx, rq, &out)
	return out, err
}

// RotateLogs rotates the log files of the named services, or of every
// service when no name is given.
func (c *Client) RotateLogs(ctx context.Context, names ...string) ([]steward.LogRotation, error) {
	if len(names) == 0 {
		out := []steward.LogRotation{}
		err := c.call(ctx, request{method: "POST", path: "/v1/logs/rotate"}, &out)
		return out, err
	}
	out := []steward.LogRotation{}
	for _, n := range names {
		var r steward.LogRotation
		if err := c.call(ctx, request{method: "POST", path: "/v1/services/" + url.PathEscape(n) + "/logs/rotate"}, &r); err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Logs returns the last n lines (n < 0: the server's default) of the
// service name's output.
func (c *Client) Logs(ctx context.Context, name string, n int) ([]steward.LogLine, error) {
	var out []steward.LogLine
	err := c.FollowLogs(ctx, name, n, false, func(l steward.LogLine) error {
		out = append(out, l)
		return nil
	})
	return out, err
}

// FollowLogs calls fn with the last n lines (n < 0: the server's default)
// of the service name's output and then, when follow is set, with each new
// line as it comes, until ctx ends (it returns ctx.Err()), steward ends the
// stream (nil), or fn returns an error (that error).
func (c *Client) FollowLogs(ctx context.Context, name string, n int, follow bool, fn func(steward.LogLine) error) error {
	q := url.Values{}
	if n >= 0 {
		q.Set("n", strconv.Itoa(n))
	}
	if follow {
		q.Set("follow", "1")
	}
	resp, err := c.send(ctx, request{method: "GET", path: "/v1/services/" + url.PathEscape(name) + "/logs", query: q})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l steward.LogLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("read logs: %w", err)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	return c.streamEnd(ctx, "read logs", resp, sc.Err())
}

// streamEnd is the result of a stream, resp, that ended with err: a
// stream forwarded to another node that ended early says why in its
// trailer.
func (c *Client) streamEnd(ctx context.Context, what string, resp *http.Response, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if msg := resp.Trailer.Get(steward.StreamErrorTrailer); msg != "" {
		return steward.Errorf(steward.EUNAVAILABLE, "%s: %s", what, msg)
	}
	return nil
}

// Events returns the events q selects, in ascending ID order; with neither
// Since nor After, the newest ones.
func (c *Client) Events(ctx context.Context, q steward.EventQuery) ([]steward.Event, error) {
	var out []steward.Event
	err := c.call(ctx, request{method: "GET", path: "/v1/events", query: q.Values()}, &out)
	return out, err
}

// FollowEvents calls fn with the stored events q selects and then with each
// new one as it is recorded, until ctx ends (it returns ctx.Err()), steward
// ends the stream (nil), or fn returns an error (that error). To resume
// after an error, call it again with After set to the last event's ID.
func (c *Client) FollowEvents(ctx context.Context, q steward.EventQuery, fn func(steward.Event) error) error {
	v := q.Values()
	v.Set("follow", "1")
	resp, err := c.send(ctx, request{method: "GET", path: "/v1/events", query: v,
		header: http.Header{"Accept": {"text/event-stream"}}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var data []byte
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if len(data) == 0 {
				continue
			}
			var ev steward.Event
			if err := json.Unmarshal(data, &ev); err != nil {
				return fmt.Errorf("read events: %w", err)
			}
			data = data[:0]
			if err := fn(ev); err != nil {
				return err
			}
		case bytes.HasPrefix(line, []byte("data:")):
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" "))...)
		}
	}
	return c.streamEnd(ctx, "read events", resp, sc.Err())
}

// Reload makes steward re-read its config file and apply it.
func (c *Client) Reload(ctx context.Context) (steward.Applied, error) {
	var out steward.Applied
	err := c.call(ctx, request{method: "POST", path: "/v1/reload"}, &out)
	return out, err
}

// Config returns the applied configuration.
func (c *Client) Config(ctx context.Context) (steward.ConfigText, error) {
	var out steward.ConfigText
	err := c.call(ctx, request{method: "GET", path: "/v1/config"}, &out)
	return out, err
}

// ValidateConfig checks the configuration text without applying it. An
// invalid text gives a *ConfigError listing every problem.
func (c *Client) ValidateConfig(ctx context.Context, text []byte) error {
	var out steward.Validation
	return c.call(ctx, configRequest("POST", "/v1/config/validate", text), &out)
}

// ApplyConfig stores the configuration text as a new version and applies
// it. An invalid text changes nothing and gives a *ConfigError.
func (c *Client) ApplyConfig(ctx context.Context, text []byte) (steward.Applied, error) {
	var out steward.Applied
	err := c.call(ctx, configRequest("PUT", "/v1/config", text), &out)
	return out, err
}

func configRequest(method, path string, text []byte) request {
	return request{method: method, path: path, body: bytes.NewReader(text), contentType: "application/yaml"}
}

// ConfigVersions returns the stored config versions, newest first, without
// their text.
func (c *Client) ConfigVersions(ctx context.Context) ([]steward.ConfigVersion, error) {
	var out []steward.ConfigVersion
	err := c.call(ctx, request{method: "GET", path: "/v1/config/versions"}, &out)
	return out, err
}

// ConfigVersion returns stored config version n with its text.
func (c *Client) ConfigVersion(ctx context.Context, n int) (steward.ConfigVersion, error) {
	var out steward.ConfigVersion
	err := c.call(ctx, request{method: "GET", path: "/v1/config/versions/" + strconv.Itoa(n)}, &out)
	return out, err
}

// ConfigDiff returns the unified diff from config version from to to.
func (c *Client) ConfigDiff(ctx context.Context, from, to int) (string, error) {
	q := url.Values{"from": {strconv.Itoa(from)}, "to": {strconv.Itoa(to)}}
	resp, err := c.send(ctx, request{method: "GET", path: "/v1/config/diff", query: q})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read config diff: %w", err)
	}
	return string(b), nil
}

// Rollback applies stored config version n again, as a new version.
func (c *Client) Rollback(ctx context.Context, n int) (steward.Applied, error) {
	var out steward.Applied
	err := c.call(ctx, request{method: "POST", path: "/v1/config/rollback/" + strconv.Itoa(n)}, &out)
	return out, err
}
