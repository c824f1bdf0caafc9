package steward_test

import (
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/deptest"
)

// TestDeps locks the root package's import direction on every OS steward
// builds for: its domain words and wire types import the standard library
// only, and of it no network client.
func TestDeps(t *testing.T) {
	bad := map[string]string{
		"net/http": "network clients belong to the packages that use them",
		"net/smtp": "network clients belong to the notifiers",
	}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			deptest.Rule{GOOS: goos, Bad: bad}.Check(t, "github.com/stewardhq/steward")
			deps, err := deptest.Deps(goos, "github.com/stewardhq/steward")
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range deps {
				if first, _, _ := strings.Cut(d, "/"); strings.Contains(first, ".") {
					t.Errorf("the root package imports %s, which is not the standard library", d)
				}
			}
		})
	}
}
