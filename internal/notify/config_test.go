package notify

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    Spec
		errs []string
	}{
		{"webhook", &WebhookConfig{URL: "https://h/x"}, nil},
		{"smtp", &SMTPConfig{Host: "h", From: "a@b.c", To: []string{"d@e.f"}}, nil},
		{"exec", &ExecConfig{Command: []string{"x"}}, nil},
		{"webhook nested", &WebhookConfig{}, []string{"url: is required"}},
		{"smtp nested", &SMTPConfig{}, []string{"host", "from", "to"}},
		{"exec nested", &ExecConfig{}, []string{"command"}},
		{"syslog nested", &SyslogConfig{Network: "x"}, []string{"network"}},
		{"eventlog nested", &EventLogConfig{Source: `a\b`, EventID: 70000}, []string{"source", "event_id"}},
	} {
		want := tt.errs
		if tt.name == "eventlog nested" && runtime.GOOS != "windows" {
			want = append(want, "the Windows Event Log is only available on Windows")
		}
		if tt.name == "syslog nested" && runtime.GOOS == "windows" {
			want = append(want, "syslog is not available")
		}
		checkProblems(t, tt.name, tt.s.Validate(), want)
		n, err := New(tt.s, Resolver{})
		if (err == nil) != (len(want) == 0) || (err == nil && n == nil) {
			t.Errorf("%s: New = %v, %v", tt.name, n, err)
		}
	}
	// An error found while building names its field.
	_, err := New(&WebhookConfig{URL: "${env:STEWARD_NOPE}"}, Resolver{})
	if fes := FieldErrors(err); len(fes) != 1 || fes[0].Field != "url" {
		t.Errorf("New with an unset variable: %v, want a url problem", err)
	}
	if runtime.GOOS != "windows" {
		n, err := New(&SyslogConfig{}, Resolver{})
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
