package run

import (
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestWorkflowTriggers(t *testing.T) {
	h := newWF(t)
	h.apply(`  w:
    on: [{schedule: "@every 10s"}, {subject: orders.new}, {event: {service: api, state: failed}}, {event: {alert: critical}}]
    steps: {a: {command: a}}
`)
	h.clock.Advance(10 * time.Second)
	h.waitRuns("w", 1)
	h.bus.send(t, "orders.new", `{"id": 1}`)
	h.waitRuns("w", 2)
	h.events.send(t, steward.Event{Type: steward.EventState, Service: "api", To: steward.StateFailed})
	h.waitRuns("w", 3)
	h.events.send(t, steward.Event{Type: steward.EventAlert, To: steward.State(steward.AlertFiring), Reason: "alert 3 cpu on api (warning): hot"})
	h.events.send(t, steward.Event{Type: steward.EventAlert, To: steward.State(steward.AlertFiring), Reason: "alert 7 cpu on api (critical): hot"})
	list := h.waitRuns("w", 4)
	want := []string{steward.TriggerEvent, steward.TriggerEvent, steward.TriggerSubject, steward.TriggerSchedule}
	for i, r := range list {
		if i >= len(want) || r.Trigger != want[i] {
			t.Fatalf("runs %v, want triggers %v (the warning alert fires none)", list, want)
		}
	}
}
