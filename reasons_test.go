package steward_test

import (
	"testing"

	"github.com/stewardhq/steward"
)

// TestHealthReason: HealthChanged reads back the new health of every
// reason HealthReason writes, and nothing from other texts.
func TestHealthReason(t *testing.T) {
	for _, from := range []steward.Health{steward.HealthUnknown, steward.HealthHealthy, steward.HealthUnhealthy} {
		for _, to := range []steward.Health{steward.HealthUnknown, steward.HealthHealthy, steward.HealthUnhealthy} {
			r := steward.HealthReason(from, to, "dial tcp: connection refused: x → y")
			if got, ok := steward.HealthChanged(r); !ok || got != to {
				t.Errorf("HealthChanged(%q) = %q, %v; want %q", r, got, ok, to)
			}
		}
	}
	for _, r := range []string{"", "healthy", "healthy → sick: no", "exit status 1; restarting"} {
		if got, ok := steward.HealthChanged(r); ok {
			t.Errorf("HealthChanged(%q) = %q, want not ok", r, got)
		}
	}
}
