package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook payload formats.
const (
	FormatJSON  = "json"  // steward's own: the Message as JSON, with a title
	FormatSlack = "slack" // Slack incoming webhooks, and what copies them (Mattermost, Rocket.Chat)
	FormatTeams = "teams" // Microsoft Teams workflow webhooks: an Adaptive Card
)

// Webhook request headers.
const (
	// HeaderSignature carries "sha256=" and the hex HMAC-SHA256 of the
	// request body keyed with the webhook's secret, as GitHub's
	// X-Hub-Signature-256 does.
	HeaderSignature = "X-Steward-Signature"
	// HeaderIdempotencyKey carries Message.Key.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// DefaultWebhookTimeout bounds one webhook request when Timeout is 0.
const DefaultWebhookTimeout = 10 * time.Second

// maxErrorBody is how much of a failed response's body an error quotes.
const maxErrorBody = 512

// WebhookConfig configures a Webhook.
type WebhookConfig struct {
	URL     Secret            `json:"url"`              // http or https; may hold a token, so a Secret
	Format  string            `json:"format,omitempty"` // FormatJSON (default), FormatSlack or FormatTeams
	Secret  Secret            `json:"secret,omitempty"` // HMAC key for HeaderSignature; none when empty
	Headers map[string]Secret `json:"headers,omitempty"`
	Timeout time.Duration     `json:"timeout,omitempty"` // 0 means DefaultWebhookTimeout
}

// reservedHeaders are set by the Webhook itself.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", HeaderSignature, HeaderIdempotencyKey}

// Validate reports every problem with c. A URL with references is checked
// once they are expanded, by NewWebhook.
func (c WebhookConfig) Validate() error {
	var p Problems
	switch {
	case c.URL == "":
		p.Add("url", "is required")
	case CheckSecretRefs(c.URL) != nil:
		p.Add("url", "%v", CheckSecretRefs(c.URL))
	case !HasSecretRefs(c.URL):
		if err := checkURL(string(c.URL)); err != nil {
			p.Add("url", "%v", err)
		}
	}
	switch c.Format {
	case "", FormatJSON, FormatSlack, FormatTeams:
	default:
		p.Add("format", "unknown format %q, want json, slack or teams", c.Format)
	}
	if err := CheckSecretRefs(c.Secret); err != nil {
		p.Add("secret", "%v", err)
	}
	for name, v := range c.Headers {
		f := "headers." + name
		switch {
		case !validHeaderName(name):
			p.Add(f, "invalid header name")
		case isReserved(name):
			p.Add(f, "header %s is set by steward", http.CanonicalHeaderKey(name))
		}
		if err := CheckSecretRefs(v); err != nil {
			p.Add(f, "%v", err)
		}
	}
	if c.Timeout < 0 {
		p.Add("timeout", "must not be negative")
	}
	return p.Err()
}

// checkURL checks a webhook URL without quoting it: it may hold a token.
func checkURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("invalid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("URL scheme must be http or https")
	case u.Host == "":
		return errors.New("URL has no host")
	}
	return nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c > 0x7e || c <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

func isReserved(name string) bool {
	for _, r := range reservedHeaders {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// Webhook posts each message to a URL. It is safe for concurrent use.
type Webhook struct {
	url     string
	host    string // scheme://host, what errors may show of the URL
	format  string
	secret  []byte
	headers http.Header
	client  *http.Client
}

var _ Notifier = (*Webhook)(nil)

// NewWebhook validates c, expands its secrets with r and returns the
// Webhook. It does not connect.
func NewWebhook(c WebhookConfig, r Resolver) (*Webhook, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	u, err := ExpandSecrets(c.URL, r)
	if err != nil {
		return nil, &FieldError{Field: "url", Msg: err.Error()}
	}
	if err := checkURL(u.Reveal()); err != nil {
		return nil, &FieldError{Field: "url", Msg: err.Error() + " (after expanding references)"}
	}
	secret, err := ExpandSecrets(c.Secret, r)
	if err != nil {
		return nil, &FieldError{Field: "secret", Msg: err.Error()}
	}
	h := http.Header{}
	for name, v := range c.Headers {
		val, err := ExpandSecrets(v, r)
		if err != nil {
			return nil, &FieldError{Field: "headers." + name, Msg: err.Error()}
		}
		h.Set(name, val.Reveal())
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultWebhookTimeout
	}
	pu, _ := url.Parse(u.Reveal())
	return &Webhook{
		url:     u.Reveal(),
		host:    pu.Scheme + "://" + pu.Host,
		format:  cmp.Or(c.Format, FormatJSON),
		secret:  []byte(secret.Reveal()),
		headers: h,
		client: &http.Client{
			Timeout: timeout,
			// A redirect would re-send the signed body elsewhere: it fails
			// the attempt instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// HTTPError is a response other than 2xx from a webhook.
type HTTPError struct {
	StatusCode int
	Body       string        // the start of the response body
	After      time.Duration // the response's Retry-After, or 0
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("receiver answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// RetryAfter returns how long the receiver asked the sender to wait, or 0.
func (e *HTTPError) RetryAfter() time.Duration { return e.After }

// Notify posts m and returns nil when the receiver answers 2xx.
func (w *Webhook) Notify(ctx context.Context, m Message) error {
	body, err := w.payload(m)
	if err != nil {
		return fmt.Errorf("webhook: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: post %s/…: invalid request", w.host)
	}
	for k, v := range w.headers {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "steward")
	if m.Key != "" {
		req.Header.Set(HeaderIdempotencyKey, m.Key)
	}
	if len(w.secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(w.secret, body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// A *url.Error quotes the whole URL, which may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook: post %s/…: %w", w.host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return fmt.Errorf("webhook: post %s/…: %w", w.host, &HTTPError{
		StatusCode: resp.StatusCode,
		Body:       oneLine(strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))),
		After:      retryAfter(resp.Header.Get("Retry-After"), time.Now()),
	})
}

// Sign returns the value of HeaderSignature for body keyed with secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// jsonPayload is the FormatJSON body: the message with its title.
type jsonPayload struct {
	Message
	Title string `json:"title"`
}

func (w *Webhook) payload(m Message) ([]byte, error) {
	switch w.format {
	case FormatSlack:
		return json.Marshal(slackPayload(m))
	case FormatTeams:
		return json.Marshal(teamsPayload(m))
	}
	return json.Marshal(jsonPayload{Message: m, Title: m.Title()})
}

// color returns a hex color for m: red, orange, blue or green.
func color(m Message) string {
	if m.Status == StatusResolved {
		return "2EB67D"
	}
	switch m.Severity {
	case SeverityCritical:
		return "D9342B"
	case SeverityWarning:
		return "E8912D"
	}
	return "3B73D9"
}

func slackPayload(m Message) any {
	type attachment struct {
		Color    string `json:"color"`
		Title    string `json:"title"`
		Text     string `json:"text"`
		Footer   string `json:"footer"`
		Ts       int64  `json:"ts"`
		Fallback string `json:"fallback"`
	}
	return struct {
		Text        string       `json:"text"`
		Attachments []attachment `json:"attachments"`
	}{
		Text: m.Title(),
		Attachments: []attachment{{
			Color:    "#" + color(m),
			Title:    m.Title(),
			Text:     m.Text(),
			Footer:   "steward · " + m.Key,
			Ts:       m.Time.Unix(),
			Fallback: m.Title(),
		}},
	}
}

func teamsPayload(m Message) any {
	type block struct {
		Type   string `json:"type"`
		Text   string `json:"text"`
		Weight string `json:"weight,omitempty"`
		Size   string `json:"size,omitempty"`
		Color  string `json:"color,omitempty"`
		Wrap   bool   `json:"wrap"`
	}
	type card struct {
		Schema  string  `json:"$schema"`
		Type    string  `json:"type"`
		Version string  `json:"version"`
		Body    []block `json:"body"`
	}
	type attachment struct {
		ContentType string `json:"contentType"`
		Content     card   `json:"content"`
	}
	colorWord := "good"
	if m.Status == StatusFiring {
		colorWord = "attention"
		if m.Severity != SeverityCritical {
			colorWord = "warning"
		}
	}
	body := []block{{Type: "TextBlock", Text: m.Title(), Weight: "bolder", Size: "medium", Color: colorWord, Wrap: true}}
	if about := m.about(); about != "" {
		body = append(body, block{Type: "TextBlock", Text: about, Wrap: true})
	}
	for _, a := range m.Alerts {
		body = append(body, block{Type: "TextBlock", Text: a.Line(), Wrap: true})
	}
	return struct {
		Type        string       `json:"type"`
		Summary     string       `json:"summary"`
		Attachments []attachment `json:"attachments"`
	}{
		Type:    "message",
		Summary: m.Title(),
		Attachments: []attachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: card{
				Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
				Type:    "AdaptiveCard",
				Version: "1.4",
				Body:    body,
			},
		}},
	}
}
