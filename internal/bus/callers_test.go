package bus

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestCallers: a service may publish the commands of the workbook services
// that list it as a caller, and no other subject of steward's; no service
// may subscribe to the commands. A reload that drops it from callers
// takes that back.
func TestCallers(t *testing.T) {
	addr := freePort(t)
	s := start(t, addr, "a", "b")
	wbs := map[string][]string{"excel": {"a"}, "other.one": {"b"}}
	if err := s.Reload(context.Background(), s.options().Config, []string{"a", "b"}, wbs); err != nil {
		t.Fatal(err)
	}
	got, err := s.Conn().SubscribeSync("steward.>")
	if err != nil {
		t.Fatal(err)
	}
	s.Conn().Flush()
	conn := func(user string) (*nats.Conn, chan error) {
		nc, err := nats.Connect(s.creds.URL(addr, user, false))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		errs := make(chan error, 16)
		nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
		return nc, errs
	}
	a, aerrs := conn("a")
	b, berrs := conn("b")
	allowed := func(nc *nats.Conn, subject string) {
		t.Helper()
		if err := nc.Publish(subject, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
		m, err := got.NextMsg(5 * time.Second)
		if err != nil || m.Subject != subject {
			t.Errorf("publish on %s: steward got %v, %v", subject, m, err)
		}
	}
	refused := func(nc *nats.Conn, errs chan error, what string, do func() error) {
		t.Helper()
		if err := do(); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
		select {
		case err := <-errs:
			if !strings.Contains(err.Error(), "Permissions Violation") {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: no permissions violation", what)
		}
	}
	allowed(a, "steward.web_01.workbook.excel.create_workbook")
	allowed(b, "steward.web_01.workbook.other_one.list_sessions")
	for _, subj := range []string{
		"steward.web_01.workbook.other_one.create_workbook", "steward.web_01.event.state.a",
		"steward.web_01.api", "steward.web_01.dlq.orders", "steward.web_01.workbook.excel.x.y", "steward.web_01",
	} {
		refused(a, aerrs, "a publishes on "+subj, func() error { return a.Publish(subj, nil) })
	}
	refused(b, berrs, "b publishes on excel's commands", func() error { return b.Publish("steward.web_01.workbook.excel.create_workbook", nil) })
	refused(b, berrs, "b subscribes to the commands", func() error {
		_, err := b.SubscribeSync("steward.*.workbook.>")
		return err
	})
	if err := s.Reload(context.Background(), s.options().Config, []string{"a", "b"}, map[string][]string{"excel": nil}); err != nil {
		t.Fatal(err)
	}
	refused(a, aerrs, "a publishes on excel's commands once no caller", func() error {
		return a.Publish("steward.web_01.workbook.excel.create_workbook", nil)
	})
	if m, err := got.NextMsg(100 * time.Millisecond); err == nil {
		t.Errorf("steward got %s from a refused publish", m.Subject)
	}
}

func TestWorkbookSubjects(t *testing.T) {
	if got, want := WorkbookSubjects("web.01", "my.excel"), "steward.web_01.workbook.my_excel"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
