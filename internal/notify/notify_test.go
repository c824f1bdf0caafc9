package notify

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMain runs this test binary as the program of an exec notifier when
// execHelperEnv is set.
func TestMain(m *testing.M) {
	if mode := os.Getenv(execHelperEnv); mode != "" {
		os.Exit(execHelper(mode))
	}
	os.Exit(m.Run())
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testMessage returns a message of two firing alerts and a resolved one.
func testMessage() Message {
	m := Message{
		Key:   "k-123",
		Route: "ops",
		Node:  "web-01",
		Time:  t0,
		Alerts: []Alert{
			{Status: StatusResolved, Severity: SeverityCritical, Rule: "mem", Subject: "api", Summary: "back to 40%", Started: t0.Add(-time.Hour), Ended: t0},
			{Status: StatusFiring, Severity: SeverityWarning, Rule: "cpu", Subject: "web-01", Summary: "91% for 5m", Started: t0.Add(-time.Minute)},
			{Status: StatusFiring, Severity: SeverityCritical, Rule: "disk", Subject: "/var", Service: "db", Labels: map[string]string{"b": "2", "a": "1"}, Summary: "93% used\nsoon full", Started: t0.Add(-2 * time.Minute)},
		},
	}
	m.Summarize()
	return m
}

func TestSummarize(t *testing.T) {
	m := testMessage()
	if m.Status != StatusFiring || m.Severity != SeverityCritical {
		t.Errorf("status, severity = %s, %s, want firing, critical", m.Status, m.Severity)
	}
	var rules []string
	for _, a := range m.Alerts {
		rules = append(rules, a.Rule)
	}
	if want := []string{"disk", "cpu", "mem"}; !slices.Equal(rules, want) {
		t.Errorf("order = %v, want %v (firing first, most severe first)", rules, want)
	}
	r := Message{Alerts: []Alert{{Status: StatusResolved, Severity: "odd"}, {Status: StatusResolved, Severity: SeverityInfo}}}
	r.Summarize()
	if r.Status != StatusResolved || r.Severity != SeverityInfo {
		t.Errorf("resolved message: %s, %s, want resolved, info", r.Status, r.Severity)
	}
	for s, want := range map[string]int{"critical": 3, "warning": 2, "info": 1, "page": 0} {
		if got := SeverityRank(s); got != want {
			t.Errorf("SeverityRank(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestTitleAndText(t *testing.T) {
	m := testMessage()
	if got, want := m.Title(), "[FIRING] critical: disk on /var (and 2 more) on node web-01"; got != want {
		t.Errorf("Title = %q, want %q", got, want)
	}
	text := m.Text()
	for _, want := range []string{
		"FIRING critical disk on /var: 93% used soon full\n",
		"  started: 2026-03-01T11:58:00Z\n  service: db\n  labels: a=1 b=2\n",
		"RESOLVED critical mem on api: back to 40%\n  started: 2026-03-01T11:00:00Z, ended: 2026-03-01T12:00:00Z\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Text lacks %q:\n%s", want, text)
		}
	}
	for _, tt := range []struct {
		a    Alert
		want string
	}{
		{Alert{Status: StatusFiring, Rule: "r"}, "FIRING r"},
		{Alert{Status: StatusFiring, Subject: "s", Severity: "info"}, "FIRING info s"},
	} {
		if got := tt.a.Line(); got != tt.want {
			t.Errorf("Line(%+v) = %q, want %q", tt.a, got, tt.want)
		}
	}
	if got := (Message{Status: StatusResolved}).Title(); got != "[RESOLVED]" {
		t.Errorf("empty title = %q", got)
	}
}

func TestFingerprint(t *testing.T) {
	a := Alert{Rule: "disk", Subject: "/", Labels: map[string]string{"x": "1", "y": "2"}}
	b := a
	b.Labels = map[string]string{"y": "2", "x": "1"}
	b.Summary, b.Status = "other", StatusResolved
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("fingerprint depends on map order, summary or status")
	}
	for _, c := range []Alert{
		{Rule: "disk", Subject: "/", Labels: map[string]string{"x": "1"}},
		{Rule: "disk/", Subject: "", Labels: map[string]string{"x": "1", "y": "2"}},
		{Rule: "disk", Subject: "/", Service: "s", Labels: map[string]string{"x": "1", "y": "2"}},
	} {
		if c.Fingerprint() == a.Fingerprint() {
			t.Errorf("%+v has the fingerprint of %+v", c, a)
		}
	}
	if got := (Alert{ID: "inc-1", Rule: "x"}).Fingerprint(); got != "inc-1" {
		t.Errorf("fingerprint with an ID = %q, want the ID", got)
	}
}

func TestProblems(t *testing.T) {
	var p Problems
	if p.Err() != nil {
		t.Fatal("empty Problems has an error")
	}
	p.Add("url", "is %s", "required")
	inner := errors.Join(&FieldError{Field: "to", Msg: "empty"}, &FieldError{Field: "[2].x", Msg: "bad"}, &FieldError{Msg: "whole"})
	p.Nest("routes[0]", inner)
	p.Nest("a", fmt.Errorf("wrapped: %w", &FieldError{Field: "b", Msg: "c"}))
	p.Nest("plain", errors.New("boom"))
	p.Nest("", &FieldError{Field: "top", Msg: "m"})
	p.Nest("none", nil)
	var got []string
	for _, fe := range FieldErrors(p.Err()) {
		got = append(got, fe.Error())
	}
	want := []string{"url: is required", "routes[0].to: empty", "routes[0][2].x: bad", "routes[0]: whole", "a.b: c", "plain: boom", "top: m"}
	if !slices.Equal(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
	if (&FieldError{Msg: "m"}).Error() != "m" {
		t.Error("FieldError without a field")
	}
}
