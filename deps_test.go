package steward_test

import (
	"testing"

	"github.com/stewardhq/steward/internal/deptest"
)

// TestDeps locks the root package's import direction on every OS steward
// builds for: its domain words and wire types import no internal package,
// no store and no network client.
func TestDeps(t *testing.T) {
	bad := map[string]string{
		"github.com/stewardhq/steward/internal/...": "the root package is a leaf",
		"modernc.org/...":                 "SQLite belongs to the store",
		"net/http":                        "network clients belong to the packages that use them",
		"net/smtp":                        "network clients belong to the notifiers",
		"github.com/wneessen/go-mail/...": "network clients belong to the notifiers",
		"github.com/fsnotify/...":         "file watching belongs to logwatch",
		"github.com/nats-io/...":          "the bus is not the root package's",
	}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			deptest.Rule{GOOS: goos, Bad: bad}.Check(t, "github.com/stewardhq/steward")
		})
	}
}
