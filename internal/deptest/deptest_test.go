package deptest

import (
	"slices"
	"testing"
)

func TestDepsListsTransitiveImports(t *testing.T) {
	deps, err := Deps("", "github.com/stewardhq/steward/internal/deptest")
	if err != nil {
		t.Fatal(err)
	}
	// os/exec imports syscall indirectly; a list without it is not transitive.
	for _, want := range []string{"os/exec", "encoding/json", "syscall"} {
		if !slices.Contains(deps, want) {
			t.Errorf("Deps lacks %s: %v", want, deps)
		}
	}
}

func TestForbids(t *testing.T) {
	r := Rule{
		Bad:   map[string]string{"net/http": "network client", "modernc.org/...": "SQLite", "github.com/x/internal/...": "internal"},
		Allow: []string{"github.com/x/internal/leaf"},
	}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"net/http", true},
		{"net/http/httptest", false},
		{"modernc.org", true},
		{"modernc.org/sqlite", true},
		{"modernc.orgx", false},
		{"github.com/x/internal/store", true},
		{"github.com/x/internal/leaf", false},
		{"fmt", false},
	} {
		if _, got := r.forbids(tc.path); got != tc.want {
			t.Errorf("forbids(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
