package client_test

import (
	"testing"

	"github.com/stewardhq/steward/internal/deptest"
)

// TestDeps keeps the client a client of the wire types: it may import the
// root package and the transport, no other part of steward.
func TestDeps(t *testing.T) {
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			deptest.Rule{
				GOOS:  goos,
				Bad:   map[string]string{"github.com/stewardhq/steward/internal/...": "the client speaks the wire types of the root package only"},
				Allow: []string{"github.com/stewardhq/steward/internal/ipc"},
			}.Check(t, "github.com/stewardhq/steward/internal/client")
		})
	}
}
