package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is an HTTP server that records what it is sent.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
	// answer, when set, decides the response to each request.
	answer func(w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, r)
		rc.body = append(rc.body, b)
		answer := rc.answer
		rc.mu.Unlock()
		if answer != nil {
			answer(w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) setAnswer(f func(w http.ResponseWriter, r *http.Request)) {
	rc.mu.Lock()
	rc.answer = f
	rc.mu.Unlock()
}

func (rc *receiver) last(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.reqs) == 0 {
		t.Fatal("the receiver got nothing")
	}
	return rc.reqs[len(rc.reqs)-1], rc.body[len(rc.body)-1]
}

func TestWebhookJSON(t *testing.T) {
	rc := newReceiver(t)
	t.Setenv("STEWARD_TEST_HOOK_SECRET", "s3cret")
	w, err := NewWebhook(WebhookConfig{
		URL:     Secret(rc.URL + "/hook?token=abc"),
		Secret:  "${env:STEWARD_TEST_HOOK_SECRET}",
		Headers: map[string]Secret{"Authorization": "Bearer t", "X-Extra": "1"},
	}, Resolver{})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage()
	if err := w.Notify(context.Background(), m); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	r, body := rc.last(t)
	if r.Method != http.MethodPost || r.URL.Path != "/hook" || r.URL.Query().Get("token") != "abc" {
		t.Errorf("request = %s %s", r.Method, r.URL)
	}
	for h, want := range map[string]string{
		"Content-Type":    "application/json",
		"Idempotency-Key": "k-123",
		"Authorization":   "Bearer t",
		"X-Extra":         "1",
		"User-Agent":      "steward",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	if got, want := r.Header.Get(HeaderSignature), Sign([]byte("s3cret"), body); got != want {
		t.Errorf("signature = %q, want %q", got, want)
	}
	// The signature a receiver computes with its copy of the secret.
	if !strings.HasPrefix(r.Header.Get(HeaderSignature), "sha256=") || len(r.Header.Get(HeaderSignature)) != 7+64 {
		t.Errorf("signature %q is not sha256=<64 hex>", r.Header.Get(HeaderSignature))
	}
	var got struct {
		Message
		Title string `json:"title"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Key != m.Key || got.Status != StatusFiring || got.Title != m.Title() || len(got.Alerts) != 3 ||
		got.Alerts[0].Service != "db" || !got.Alerts[2].Ended.Equal(t0) || !got.Alerts[1].Ended.IsZero() {
		t.Errorf("body = %s", body)
	}
	if strings.Contains(string(body), `"ended":"0001`) {
		t.Errorf("body carries a zero ended time: %s", body)
	}
}

func TestWebhookFormats(t *testing.T) {
	rc := newReceiver(t)
	m := testMessage()
	for _, tt := range []struct {
		format string
		check  func(t *testing.T, v map[string]any)
	}{
		{FormatSlack, func(t *testing.T, v map[string]any) {
			if v["text"] != m.Title() {
				t.Errorf("slack text = %v", v["text"])
			}
			att := v["attachments"].([]any)[0].(map[string]any)
			if att["color"] != "#D9342B" || !strings.Contains(att["text"].(string), "93% used") {
				t.Errorf("slack attachment = %v", att)
			}
		}},
		{FormatTeams, func(t *testing.T, v map[string]any) {
			att := v["attachments"].([]any)[0].(map[string]any)
			if v["type"] != "message" || att["contentType"] != "application/vnd.microsoft.card.adaptive" {
				t.Errorf("teams payload = %v", v)
			}
			card := att["content"].(map[string]any)
			blocks := card["body"].([]any)
			if card["type"] != "AdaptiveCard" || len(blocks) != 4 || blocks[0].(map[string]any)["text"] != m.Title() {
				t.Errorf("teams card = %v", card)
			}
		}},
	} {
		w, err := NewWebhook(WebhookConfig{URL: Secret(rc.URL), Format: tt.format}, Resolver{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Notify(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		r, body := rc.last(t)
		if r.Header.Get(HeaderSignature) != "" {
			t.Errorf("%s: signed without a secret", tt.format)
		}
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: %v", tt.format, err)
		}
		tt.check(t, v)
	}
	for m, want := range map[string]string{
		"firing warning": "E8912D", "firing info": "3B73D9", "resolved critical": "2EB67D",
	} {
		st, sev, _ := strings.Cut(m, " ")
		if got := color(Message{Status: Status(st), Severity: sev}); got != want {
			t.Errorf("color(%s) = %s, want %s", m, got, want)
		}
	}
	for _, sev := range []string{SeverityWarning, SeverityCritical} {
		teamsPayload(Message{Status: StatusResolved, Severity: sev})
		teamsPayload(Message{Status: StatusFiring, Severity: sev})
	}
}

func TestWebhookFailures(t *testing.T) {
	rc := newReceiver(t)
	w, err := NewWebhook(WebhookConfig{URL: Secret(rc.URL + "/p/TOKEN123"), Timeout: 300 * time.Millisecond}, Resolver{})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage()

	rc.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "down for\nmaintenance")
	})
	err = w.Notify(context.Background(), m)
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 503 || he.RetryAfter() != 7*time.Second || he.Body != "down for maintenance" {
		t.Fatalf("503: err = %#v", err)
	}
	if strings.Contains(err.Error(), "TOKEN123") || !strings.Contains(err.Error(), "503 Service Unavailable") {
		t.Errorf("503 error = %q: want the status, not the URL's path", err)
	}

	rc.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	if err := w.Notify(context.Background(), m); !errors.As(err, &he) || he.StatusCode != 307 {
		t.Errorf("redirect: err = %v, want a 307 HTTPError, not followed", err)
	}

	rc.setAnswer(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }) // a receiver that never answers
	start := time.Now()
	err = w.Notify(context.Background(), m)
	if err == nil || strings.Contains(err.Error(), "TOKEN123") {
		t.Errorf("timeout: err = %v, want one without the URL's path", err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("timeout took %v, want about 300ms", d)
	}

	rc.setAnswer(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Notify(ctx, m); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v, want context.Canceled", err)
	}

	rc.Close()
	if err := w.Notify(context.Background(), m); err == nil || strings.Contains(err.Error(), "TOKEN123") {
		t.Errorf("closed receiver: err = %v, want one without the URL's path", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		"-1":                            0,
		"soon":                          0,
		"Sun, 01 Mar 2026 12:00:30 GMT": 30 * time.Second,
		"Sun, 01 Mar 2026 11:00:00 GMT": 0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestWebhookValidate(t *testing.T) {
	for _, tt := range []struct {
		c    WebhookConfig
		errs []string
	}{
		{WebhookConfig{URL: "https://hooks.example.com/x"}, nil},
		{WebhookConfig{URL: "${env:HOOK_URL}", Format: FormatSlack, Secret: "${file:/run/secret}"}, nil},
		{WebhookConfig{}, []string{"url: is required"}},
		{WebhookConfig{URL: "ftp://x/y"}, []string{"url: URL scheme must be http or https"}},
		{WebhookConfig{URL: "http:///path"}, []string{"url: URL has no host"}},
		{WebhookConfig{URL: "http://a b/%zz"}, []string{"url: invalid URL"}},
		{WebhookConfig{URL: "${env:}"}, []string{"url: invalid environment variable name"}},
		{WebhookConfig{URL: "http://h", Format: "xml", Secret: "${x}", Timeout: -1,
			Headers: map[string]Secret{"Bad Name": "v", "content-type": "text/plain", "X-Ok": "${env:"}},
			[]string{"format: unknown format", "secret: invalid reference", "timeout: must not be negative",
				"headers.Bad Name: invalid header name", "headers.content-type: header Content-Type is set by steward",
				"headers.X-Ok: unterminated"}},
	} {
		checkProblems(t, fmt.Sprintf("%+v", tt.c), tt.c.Validate(), tt.errs)
	}
	r := Resolver{LookupEnv: func(k string) (string, bool) {
		v, ok := map[string]string{"URL": "gopher://x", "GOOD": "https://h"}[k]
		return v, ok
	}}
	for _, tt := range []struct {
		c   WebhookConfig
		err string
	}{
		{WebhookConfig{URL: "${env:URL}"}, "url: URL scheme must be http or https (after expanding references)"},
		{WebhookConfig{URL: "${env:NONE}"}, "url: environment variable NONE is not set"},
		{WebhookConfig{URL: "${env:GOOD}", Secret: "${env:NONE}"}, "secret: environment variable NONE"},
		{WebhookConfig{URL: "${env:GOOD}", Headers: map[string]Secret{"A": "${env:NONE}"}}, "headers.A: environment variable NONE"},
		{WebhookConfig{URL: "x"}, "url: URL scheme"},
	} {
		if _, err := NewWebhook(tt.c, r); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("NewWebhook(%+v) = %v, want %q", tt.c, err, tt.err)
		}
	}
}
