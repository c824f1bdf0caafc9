package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crypto/tls"
)

// reportMessage is the message of a report job for the file at path.
func reportMessage(t *testing.T, path string, size int64) Message {
	t.Helper()
	since := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	return Message{Key: "report-7-1-mail", Node: "web-01", Time: since.Add(7 * 24 * time.Hour), Alerts: []Alert{},
		Report: &Report{Job: "weekly", Path: path, Name: "weekly-20261207T080000Z.csv", ContentType: "text/csv; charset=utf-8",
			Size: size, SHA256: "abc123", Since: since, Until: since.Add(7 * 24 * time.Hour),
			URL: "http://127.0.0.1:8080/v1/report?format=csv"}}
}

// parts returns the MIME parts of the mail data, by Content-Type.
func parts(t *testing.T, data string) (*mail.Message, map[string][]byte, map[string]string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q (%v), want multipart/mixed", msg.Header.Get("Content-Type"), err)
	}
	bodies, names := map[string][]byte{}, map[string]string{}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			if b, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), "")); err != nil {
				t.Fatal(err)
			}
		}
		bodies[ct], names[ct] = b, p.FileName()
	}
	return msg, bodies, names
}

func TestSMTPReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	content := []byte("service,availability_percent\napi,99.5\n")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	mb := &mailbox{}
	n, err := NewSMTP(SMTPConfig{Host: startSMTP(t, mb, tls.Certificate{}, false), From: "steward@example.com",
		To: []string{"ops@example.com"}, TLS: TLSNone}, Resolver{})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), reportMessage(t, path, int64(len(content)))); err != nil {
		t.Fatal(err)
	}
	mb.mu.Lock()
	data := mb.mails[0].data
	mb.mu.Unlock()
	msg, bodies, names := parts(t, data)
	if s := msg.Header.Get("Subject"); s != "steward report weekly: 2026-11-30 08:00 to 2026-12-07 08:00 UTC on node web-01" {
		t.Errorf("Subject = %q", s)
	}
	if !bytes.Equal(bodies["text/csv"], content) || names["text/csv"] != "weekly-20261207T080000Z.csv" {
		t.Errorf("attachment %q = %q", names["text/csv"], bodies["text/csv"])
	}
	text := string(bodies["text/plain"])
	for _, want := range []string{"file: " + path, "sha256: abc123", "link: http://127.0.0.1:8080/v1/report?format=csv"} {
		if !strings.Contains(text, want) {
			t.Errorf("body lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "not attached") {
		t.Errorf("body says not attached:\n%s", text)
	}

	// Too large: the path and link only, and the body says so.
	big := reportMessage(t, path, MaxAttachment+1)
	if err := n.Notify(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	mb.mu.Lock()
	data = mb.mails[1].data
	mb.mu.Unlock()
	if strings.Contains(data, "multipart/mixed") || !strings.Contains(data, "larger than 10 MB: it is not attached") {
		t.Errorf("large report mail:\n%s", data)
	}

	// Gone, or grown past the bound since: an error to retry, no mail.
	if err := os.WriteFile(path, make([]byte, MaxAttachment+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), reportMessage(t, path, 10)); err == nil || !strings.Contains(err.Error(), "grew to") {
		t.Errorf("grown report: %v", err)
	}
	if err := n.Notify(context.Background(), reportMessage(t, path+".gone", 10)); err == nil || !strings.Contains(err.Error(), "smtp: report:") {
		t.Errorf("gone report: %v", err)
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if len(mb.mails) != 2 {
		t.Errorf("%d mails, want 2", len(mb.mails))
	}
}

func TestWebhookReport(t *testing.T) {
	rc := newReceiver(t)
	m := reportMessage(t, "/var/lib/steward/reports/r.csv", 40)
	for _, format := range []string{FormatJSON, FormatSlack, FormatTeams} {
		w, err := NewWebhook(WebhookConfig{URL: Secret(rc.URL), Format: format}, Resolver{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Notify(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		_, body := rc.last(t)
		if format == FormatJSON {
			var v struct {
				Title  string
				Report Report
			}
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			if v.Report != *m.Report || !strings.HasPrefix(v.Title, "steward report weekly") {
				t.Errorf("json payload = %s", body)
			}
			continue
		}
		for _, want := range []string{"/var/lib/steward/reports/r.csv", "abc123", "/v1/report?format=csv"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s payload lacks %q: %s", format, want, body)
			}
		}
	}
}
