package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const secretValue = "hunter2-s3cr3t"

func TestSecretNeverShows(t *testing.T) {
	s := Secret(secretValue)
	type cfg struct {
		Password Secret            `json:"password" yaml:"password"`
		Headers  map[string]Secret `json:"headers" yaml:"headers"`
	}
	c := cfg{Password: s, Headers: map[string]Secret{"Authorization": "Bearer " + s}}
	var outs []string
	for _, verb := range []string{"%v", "%s", "%q", "%x", "%X", "%d", "%#v", "%+v", "%10s", "%T"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c))
	}
	outs = append(outs, fmt.Sprint(s), fmt.Sprintln(c), s.String(), s.GoString())
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logged, nil), slog.NewJSONHandler(&logged, nil)} {
		slog.New(h).Info("x", "secret", s, "cfg", c)
	}
	outs = append(outs, string(j), string(y), logged.String())
	for _, o := range outs {
		if strings.Contains(o, "hunter2") || strings.Contains(o, fmt.Sprintf("%x", "hunter2")) {
			t.Errorf("the secret shows in %q", o)
		}
	}
	if !strings.Contains(string(j), `"password":"[redacted]"`) {
		t.Errorf("JSON = %s, want the password redacted", j)
	}
	if got := fmt.Sprintf("%q|%#v|%v", s, s, Secret("")); got != `"[redacted]"|"[redacted]"|` {
		t.Errorf("formats = %s", got)
	}
	if s.Reveal() != secretValue {
		t.Error("Reveal does not return the value")
	}
	var back struct{ P Secret }
	if err := json.Unmarshal([]byte(`{"P":"abc"}`), &back); err != nil || back.P.Reveal() != "abc" {
		t.Errorf("unmarshal = %v, %v, want abc", back.P.Reveal(), err)
	}
}

func testResolver(t *testing.T) Resolver {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"token":     "tok\n",
		"crlf":      "win\r\n",
		"two":       "a\n\n",
		"plain":     "raw",
		"sub/other": "deep",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"HOOK_SECRET": "env-value", "EMPTY": "", "_x9": "u"}
	return Resolver{Dir: dir, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

func TestExpandSecrets(t *testing.T) {
	r := testResolver(t)
	abs := filepath.Join(r.Dir, "plain")
	for _, tt := range []struct {
		in, want, err string
	}{
		{in: "", want: ""},
		{in: "literal", want: "literal"},
		{in: "pa$word $ $$ ${", err: "unterminated ${ at offset 13"},
		{in: "a$b", want: "a$b"},
		{in: "${env:HOOK_SECRET}", want: "env-value"},
		{in: "Bearer ${env:HOOK_SECRET}!", want: "Bearer env-value!"},
		{in: "${env:EMPTY}", want: ""},
		{in: "${env:_x9}${env:_x9}", want: "uu"},
		{in: "${file:token}", want: "tok"},
		{in: "${file:crlf}", want: "win"},
		{in: "${file:two}", want: "a\n"},
		{in: "${file:sub/other}", want: "deep"},
		{in: "${file:" + abs + "}", want: "raw"},
		{in: "$${env:HOOK_SECRET}", want: "${env:HOOK_SECRET}"},
		{in: "$$${env:HOOK_SECRET}", want: "$${env:HOOK_SECRET}"},
		{in: "x$${", want: "x${"},
		{in: "${env:NOPE}", err: "environment variable NOPE is not set"},
		{in: "${file:missing}", err: "read secret file"},
		{in: "${env:}", err: "invalid environment variable name at offset 0"},
		{in: "${env:9A}", err: "invalid environment variable name"},
		{in: "${env:A-B}", err: "invalid environment variable name"},
		{in: "${file:}", err: "empty path"},
		{in: "ab${vault:x}", err: "invalid reference at offset 2"},
		{in: "${mysecretpw}", err: "invalid reference at offset 0"},
		{in: "${env:HOOK_SECRET", err: "unterminated"},
	} {
		got, err := ExpandSecrets(Secret(tt.in), r)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ExpandSecrets(%q) = %q, %v, want an error with %q", tt.in, got.Reveal(), err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "mysecretpw") {
				t.Errorf("error %q quotes the text", err)
			}
		case err != nil || got.Reveal() != tt.want:
			t.Errorf("ExpandSecrets(%q) = %q, %v, want %q", tt.in, got.Reveal(), err, tt.want)
		}
		if (CheckSecretRefs(Secret(tt.in)) == nil) != (err == nil || strings.Contains(tt.err, "not set") || strings.Contains(tt.err, "read secret")) {
			t.Errorf("CheckSecretRefs(%q) = %v, disagrees with ExpandSecrets", tt.in, CheckSecretRefs(Secret(tt.in)))
		}
	}
	// The process environment and working directory by default.
	t.Setenv("STEWARD_TEST_SECRET", "from-env")
	if got, err := ExpandSecrets("${env:STEWARD_TEST_SECRET}", Resolver{}); err != nil || got.Reveal() != "from-env" {
		t.Errorf("default resolver: %q, %v", got.Reveal(), err)
	}
	if _, err := ExpandSecrets("${file:no/such/file}", Resolver{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
	for s, want := range map[Secret]bool{"": false, "x": false, "$${env:A}": false, "${env:A}": true, "$${x} ${env:A}": true, "${": true} {
		if got := HasSecretRefs(s); got != want {
			t.Errorf("HasSecretRefs(%q) = %v, want %v", s.Reveal(), got, want)
		}
	}
}

// FuzzExpandSecrets checks that expansion never panics, leaves text without
// a reference alone, agrees with CheckSecretRefs, and never quotes the
// input in an error.
func FuzzExpandSecrets(f *testing.F) {
	for _, seed := range []string{
		"",                     // empty
		"plain",                // nothing to expand
		"${env:A}",             // one variable
		"x${env:A}y${file:f}z", // two references among text
		"$${env:A}",            // escaped
		"$$${env:A}",           // escaped dollar, then a reference
		"${env:A",              // unterminated
		"${}",                  // empty reference
		"${nope:x}",            // unknown source
		"${env:1}",             // bad name
		"€${env:Ä}",            // non-ASCII
		"${file:}}",            // empty path, stray brace
	} {
		f.Add(seed)
	}
	r := Resolver{
		LookupEnv: func(string) (string, bool) { return "V", true },
		ReadFile:  func(string) ([]byte, error) { return []byte("F\n"), nil },
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ExpandSecrets(Secret(in), r)
		if cerr := CheckSecretRefs(Secret(in)); (cerr == nil) != (err == nil) {
			t.Fatalf("CheckSecretRefs(%q) = %v but ExpandSecrets = %v", in, cerr, err)
		}
		if err != nil {
			if len(in) > 12 && strings.Contains(err.Error(), in) {
				t.Fatalf("error %q quotes the input", err)
			}
			return
		}
		if !strings.Contains(in, "${") && out.Reveal() != in {
			t.Fatalf("ExpandSecrets(%q) = %q, want it unchanged", in, out.Reveal())
		}
		if HasSecretRefs(Secret(in)) == false && strings.Contains(out.Reveal(), "V") && !strings.Contains(in, "V") {
			t.Fatalf("ExpandSecrets(%q) = %q resolved a reference HasSecretRefs missed", in, out.Reveal())
		}
	})
}
