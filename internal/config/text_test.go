package config

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseRejectsText(t *testing.T) {
	const tags = "steward takes only !!str, !!int, !!float, !!bool, !!null, !!map, !!seq"
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"utf-16 big endian", "\xfe\xff\x00s", []string{"steward.yaml:1:1: the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8"}},
		{"utf-16 little endian", "\xff\xfes\x00", []string{"steward.yaml:1:1: the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8"}},
		{"two utf-8 boms", "\xef\xbb\xbf\xef\xbb\xbfservices: {}\n", []string{"steward.yaml:1:1: the file starts with two UTF-8 byte order marks: remove them"}},
		{"binary", "services:\n  a: {command: !!binary eA==}\n", []string{"steward.yaml:2:16: YAML tag !!binary is not supported; " + tags}},
		{"python object", "services: !!python/object:os.system {}\n", []string{"steward.yaml:1:11: YAML tag !!python/object:os.system is not supported; " + tags}},
		{"custom tags", "services:\n  a: !svc {command: x, env: {A: !secret b}}\n", []string{
			"steward.yaml:2:6: YAML tag !svc is not supported; " + tags,
			"steward.yaml:2:33: YAML tag !secret is not supported; " + tags,
		}},
		{"timestamp", "node: !!timestamp 2001-12-14\n", []string{"steward.yaml:1:7: YAML tag !!timestamp is not supported; " + tags}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErrors(t, tt.src); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseAcceptsText(t *testing.T) {
	// One UTF-8 BOM, and the core schema's tags, which say what the value
	// is anyway.
	c := mustParse(t, "\xef\xbb\xbfservices:\n  a: !!map {command: !!str x, env: {N: !!int 1, F: !!float 1.5, B: !!bool true}, disabled: !!null ~}\n")
	if got, want := c.Services["a"].Env, map[string]string{"N": "1", "F": "1.5", "B": "true"}; !equalMaps(got, want) {
		t.Errorf("env: got %v, want %v", got, want)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestLoadTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.yaml")
	big := append([]byte("services: {}\n"), bytes.Repeat([]byte("# padding\n"), MaxFileSize/10+1)...)
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, testRegistry())
	if want := path + ":1:1: the file is larger than 4 MB, the limit of a configuration file"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if err := os.WriteFile(path, big[:MaxFileSize], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, testRegistry()); err != nil {
		t.Errorf("a file of MaxFileSize bytes: %v", err)
	}
}

func TestParseInheritEnv(t *testing.T) {
	c := mustParse(t, `notify:
  h: {hook: {url: "https://h/${env:TOKEN}?x=$${env:LITERAL}&y=${env:\x4fTHER}"}} # ${env:COMMENT}
services:
  none: {command: x}
  all: {command: x, inherit_env: true}
  off: {command: x, inherit_env: false}
  some: {command: x, inherit_env: [TOKEN, GOPATH]}
`)
	for name, want := range map[string]InheritEnv{
		"none": {}, "all": {All: true}, "off": {}, "some": {Names: []string{"TOKEN", "GOPATH"}},
	} {
		if got := c.Services[name].InheritEnv; got.All != want.All || !slices.Equal(got.Names, want.Names) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	// The escaped $${env:LITERAL} counts too: erring that way only keeps
	// LITERAL from inherit_env: true.
	if got, want := c.SecretEnv, []string{"LITERAL", "OTHER", "TOKEN"}; !slices.Equal(got, want) {
		t.Errorf("SecretEnv: got %q, want %q", got, want)
	}
	got := parseErrors(t, "services:\n  a: {command: x, inherit_env: yes-please}\n  b: {command: x, inherit_env: [A, A, \"B=1\", ~]}\n")
	want := []string{
		"steward.yaml:2:32: inherit_env must be true, false or a list of variable names",
		"steward.yaml:3:36: inherit_env lists \"A\" twice",
		"steward.yaml:3:39: inherit_env: invalid variable name \"B=1\"",
		"steward.yaml:3:46: inherit_env must be a list of variable names",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
