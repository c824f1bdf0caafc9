// Package deptest lets a test lock the import direction of a package: it
// lists the package's transitive imports with `go list -deps` and fails on
// any that a rule forbids, as tailscale's tstest/deptest does. Only tests
// import it.
package deptest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// Rule forbids imports: Bad maps an import path, or a prefix of one ending
// in "/..." ("modernc.org/..."), to why it is forbidden. Allow lists paths
// that Bad's prefixes would otherwise forbid.
type Rule struct {
	GOOS  string // "" for the host's
	Bad   map[string]string
	Allow []string
}

// Check fails t for every package that pkg imports, directly or not, and
// that r forbids. pkg is an import path or a relative one ("." or "./x").
func (r Rule) Check(t *testing.T, pkg string) {
	t.Helper()
	deps, err := Deps(r.GOOS, pkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps {
		if why, bad := r.forbids(d); bad {
			t.Errorf("%s imports %s: %s", pkg, d, why)
		}
	}
}

func (r Rule) forbids(path string) (string, bool) {
	for _, a := range r.Allow {
		if a == path {
			return "", false
		}
	}
	if why, ok := r.Bad[path]; ok {
		return why, true
	}
	for pat, why := range r.Bad {
		if prefix, ok := strings.CutSuffix(pat, "/..."); ok && (path == prefix || strings.HasPrefix(path, prefix+"/")) {
			return why, true
		}
	}
	return "", false
}

// Deps returns the import paths of every package that pkg depends on, test
// files excluded, for goos ("" for the host's).
func Deps(goos, pkg string) ([]string, error) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Deps", pkg)
	if goos != "" {
		cmd.Env = append(cmd.Environ(), "GOOS="+goos)
	}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, errors.New("go list " + pkg + ": " + strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, err
	}
	var p struct{ Deps []string }
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, fmt.Errorf("go list %s: %w", pkg, err)
	}
	return p.Deps, nil
}
