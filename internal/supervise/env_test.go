package supervise

import (
	"slices"
	"testing"

	"github.com/stewardhq/steward/internal/config"
)

func TestParseEnvFile(t *testing.T) {
	got, err := parseEnvFile([]byte("A=1\n\n; c\nexport B = 'x y'\nC=\"q\\tz\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=1", "B=x y", "C=q\tz"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"novalue", "=x", "A B=1", "A=\"bad\\q\""} {
		if _, err := parseEnvFile([]byte(bad)); err == nil {
			t.Errorf("parseEnvFile(%q) succeeded", bad)
		}
	}
}

// TestBuildEnv checks what of steward's environment a service gets: the
// base, what inherit_env adds, never a secret unless named, then env.
func TestBuildEnv(t *testing.T) {
	t.Setenv("PATH", "/usr/bin:/bin")
	t.Setenv("STEWARD_TEST_SECRET", "s3cret")
	t.Setenv("STEWARD_TEST_PLAIN", "plain")
	secrets := []string{"STEWARD_TEST_SECRET"}
	for _, tt := range []struct {
		name          string
		inherit       config.InheritEnv
		secret, plain bool
	}{
		{"base", config.InheritEnv{}, false, false},
		{"all", config.InheritEnv{All: true}, false, true},
		{"named", config.InheritEnv{Names: []string{"STEWARD_TEST_SECRET"}}, true, false},
		{"all and named", config.InheritEnv{All: true, Names: []string{"STEWARD_TEST_SECRET"}}, true, true},
	} {
		env, err := buildEnv(&config.Service{Name: "a", InheritEnv: tt.inherit, Env: map[string]string{"PATH": "/opt/bin"}}, secrets, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(env, "STEWARD_TEST_SECRET=s3cret"); got != tt.secret {
			t.Errorf("%s: has the secret: %v, want %v", tt.name, got, tt.secret)
		}
		if got := slices.Contains(env, "STEWARD_TEST_PLAIN=plain"); got != tt.plain {
			t.Errorf("%s: has STEWARD_TEST_PLAIN: %v, want %v", tt.name, got, tt.plain)
		}
		if !slices.Contains(env, "PATH=/opt/bin") || slices.Contains(env, "PATH=/usr/bin:/bin") || !slices.Contains(env, "STEWARD_SERVICE=a") {
			t.Errorf("%s: env's PATH and STEWARD_SERVICE: %q", tt.name, env)
		}
	}
}
