package notify

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    Config
		kind string
		errs []string
	}{
		{"webhook", Config{Webhook: &WebhookConfig{URL: "https://h/x"}}, "webhook", nil},
		{"smtp", Config{SMTP: &SMTPConfig{Host: "h", From: "a@b.c", To: []string{"d@e.f"}}}, "smtp", nil},
		{"exec", Config{Exec: &ExecConfig{Command: []string{"x"}}}, "exec", nil},
		{"none", Config{}, "", []string{"needs one of webhook, smtp, exec, syslog or eventlog"}},
		{"two", Config{Webhook: &WebhookConfig{URL: "https://h"}, Exec: &ExecConfig{Command: []string{"x"}}}, "",
			[]string{"exec: only one kind per notifier, and webhook is already set"}},
		{"nested", Config{Webhook: &WebhookConfig{}}, "webhook", []string{"webhook.url: is required"}},
		{"smtp nested", Config{SMTP: &SMTPConfig{}}, "smtp", []string{"smtp.host", "smtp.from", "smtp.to"}},
		{"exec nested", Config{Exec: &ExecConfig{}}, "exec", []string{"exec.command"}},
		{"syslog nested", Config{Syslog: &SyslogConfig{Network: "x"}}, "syslog", []string{"syslog.network"}},
		{"eventlog nested", Config{EventLog: &EventLogConfig{Source: `a\b`, EventID: 70000}}, "eventlog", []string{"eventlog.source", "eventlog.event_id"}},
	} {
		if got := tt.c.Kind(); got != tt.kind {
			t.Errorf("%s: Kind = %q, want %q", tt.name, got, tt.kind)
		}
		want := tt.errs
		if tt.name == "eventlog nested" && runtime.GOOS != "windows" {
			want = append(want, "eventlog: the Windows Event Log is only available on Windows")
		}
		if tt.name == "syslog nested" && runtime.GOOS == "windows" {
			want = append(want, "syslog: syslog is not available")
		}
		checkProblems(t, tt.name, tt.c.Validate(), want)
		n, err := New(tt.c, Resolver{})
		if (err == nil) != (len(want) == 0) || (err == nil && n == nil) {
			t.Errorf("%s: New = %v, %v", tt.name, n, err)
		}
	}
	// An error found while building is reported under the kind.
	_, err := New(Config{Webhook: &WebhookConfig{URL: "${env:STEWARD_NOPE}"}}, Resolver{})
	if fes := FieldErrors(err); len(fes) != 1 || fes[0].Field != "webhook.url" {
		t.Errorf("New with an unset variable: %v, want a webhook.url problem", err)
	}
	if runtime.GOOS != "windows" {
		n, err := New(Config{Syslog: &SyslogConfig{}}, Resolver{})
		if err != nil || n == nil {
			t.Errorf("New syslog = %v, %v", n, err)
		}
	}
}

func TestEventLogElsewhere(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("tests the stub")
	}
	if _, err := NewEventLog(EventLogConfig{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("NewEventLog = %v, want ErrUnsupported", err)
	}
	for _, err := range []error{
		(&EventLog{}).Notify(context.Background(), Message{}),
		InstallEventSource("x"),
		RemoveEventSource("x"),
	} {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("err = %v, want ErrUnsupported", err)
		}
	}
	if got := eventText(testMessage()); !strings.HasPrefix(got, "[FIRING] critical") || !strings.HasSuffix(got, "\r\nkey: k-123") || strings.Contains(strings.ReplaceAll(got, "\r\n", ""), "\n") {
		t.Errorf("eventText = %q", got)
	}
}
