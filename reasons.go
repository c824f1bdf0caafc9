package steward

import "strings"

// The words of the event reasons that steward writes and its reports read
// back: internal/supervise and internal/daemon write them, internal/report
// tells crashes from manual restarts and steward's starts from its stops by
// them. Each begins or ends a reason.
const (
	// ReasonStopRequested begins the reason of a stop someone asked for:
	// "stop requested", or "stop requested by alice".
	ReasonStopRequested = "stop requested"
	// ReasonRemoved is the reason of the stop of a service that a reload
	// removed.
	ReasonRemoved = "removed from config"
	// ReasonRestarting ends the reason of a stop or a start that steward
	// made on its own to restart a service ("exit status 1; restarting",
	// "unhealthy: timeout; restarting"); a backoff's reason goes on with
	// " in 2s".
	ReasonRestarting = "; restarting"
	// ReasonStarted and ReasonStopped begin the reasons of steward's own
	// start and stop events (EventSystem).
	ReasonStarted = "steward started"
	ReasonStopped = "steward stopped"
)

// healthArrow parts the old health from the new in a health event's reason.
const healthArrow = " → "

// HealthReason is the reason of a health event (EventHealth): "healthy →
// unhealthy: 2 checks in a row failed".
func HealthReason(from, to Health, msg string) string {
	return string(from) + healthArrow + string(to) + ": " + msg
}

// HealthChanged reads the new health back from a reason HealthReason
// wrote; ok is false for any other text.
func HealthChanged(reason string) (to Health, ok bool) {
	_, after, ok := strings.Cut(reason, healthArrow)
	if !ok {
		return "", false
	}
	word, _, _ := strings.Cut(after, ":")
	switch h := Health(word); h {
	case HealthHealthy, HealthUnhealthy, HealthUnknown:
		return h, true
	}
	return "", false
}
