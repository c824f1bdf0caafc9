package config

import (
	"testing"

	"github.com/stewardhq/steward/internal/deptest"
)

// leafRule is what a leaf of steward's import graph, config or the root
// package, may never import: it is data and validation, and whoever needs
// a store, a watcher or a network client builds it from that data.
var leafRule = map[string]string{
	"github.com/stewardhq/steward/internal/...": "a leaf imports no internal package",
	"modernc.org/...":                 "SQLite belongs to the store",
	"net/http":                        "network clients belong to the notifiers and checks",
	"net/smtp":                        "network clients belong to the notifiers",
	"github.com/wneessen/go-mail/...": "network clients belong to the notifiers",
	"github.com/fsnotify/...":         "file watching belongs to logwatch",
	"github.com/nats-io/...":          "the bus is not config's",
}

// TestDeps locks config's import direction on every OS steward builds for.
func TestDeps(t *testing.T) {
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			deptest.Rule{GOOS: goos, Bad: leafRule}.Check(t, "github.com/stewardhq/steward/internal/config")
		})
	}
}
