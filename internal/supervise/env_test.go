package supervise

import (
	"slices"
	"testing"
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
