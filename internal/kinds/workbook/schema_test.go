package workbook

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

func registry() config.Registry {
	return config.Registry{Kinds: map[string]config.KindSchema{Name: Definition().Schema}}
}

// TestDecode: the settings and their defaults; dir relative to the file.
func TestDecode(t *testing.T) {
	c, err := config.Parse("/etc/steward/steward.yaml", []byte(`
services:
  excel: {kind: workbook, dir: books, max_sessions: 3, idle_timeout: 5m}
  plain: {kind: workbook, dir: /srv/wb}
`), registry())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *c.Services["excel"].Spec.(*Spec), (Spec{Dir: filepath.FromSlash("/etc/steward/books"), MaxSessions: 3, IdleTimeout: 5 * time.Minute}); got != want {
		t.Errorf("excel = %+v, want %+v", got, want)
	}
	if got, want := *c.Services["plain"].Spec.(*Spec), (Spec{Dir: filepath.FromSlash("/srv/wb"), MaxSessions: DefaultMaxSessions, IdleTimeout: DefaultIdleTimeout}); got != want {
		t.Errorf("plain = %+v, want %+v", got, want)
	}
}

// TestDecodeErrors: each problem at its position.
func TestDecodeErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"services:\n  x: {kind: workbook}\n", "steward.yaml:2:3: a workbook service needs dir"},
		{"services:\n  x: {kind: workbook, dir: d, max_sessions: 0}\n", "steward.yaml:2:45: max_sessions must be at least 1"},
		{"services:\n  x: {kind: workbook, dir: d, idle_timeout: 0s}\n", "steward.yaml:2:45: idle_timeout must be more than 0"},
		{"services:\n  x: {kind: workbook, dir: d, sessions: 2}\n", "steward.yaml:2:"},
	} {
		_, err := config.Parse("steward.yaml", []byte(tt.src), registry())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.src, err, tt.want)
		}
	}
}
