//go:build unix

package supervise

import (
	"os/user"
	"slices"
	"testing"

	"github.com/stewardhq/steward/internal/config"
)

// TestBuildEnvUser: a service with user: set gets that user's HOME, USER
// and LOGNAME, not steward's, by name or by numeric id.
func TestBuildEnvUser(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	t.Setenv("HOME", "/steward-home")
	t.Setenv("USER", "steward-user")
	for _, name := range []string{u.Username, u.Uid} {
		env, err := buildEnv(&config.Service{Name: "a", User: name}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"HOME=" + u.HomeDir, "USER=" + u.Username, "LOGNAME=" + u.Username} {
			if !slices.Contains(env, want) {
				t.Errorf("user %s: env lacks %s: %q", name, want, env)
			}
		}
	}
}
