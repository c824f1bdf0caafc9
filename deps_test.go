package steward_test

import (
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/deptest"
)

// TestDeps keeps the root package a leaf: the wire types and domain words
// import the standard library only, on every OS.
func TestDeps(t *testing.T) {
	for _, goos := range []string{"linux", "windows", "darwin"} {
		deps, err := deptest.Deps(goos, "github.com/stewardhq/steward")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range deps {
			if first, _, _ := strings.Cut(d, "/"); strings.Contains(first, ".") {
				t.Errorf("GOOS=%s: the root package imports %s, which is not the standard library", goos, d)
			}
		}
	}
}
