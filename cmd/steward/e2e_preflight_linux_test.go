package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// TestValidateMachine checks that validate, run and reload report what the
// machine lacks — a program, a working_dir, a user — at its FILE:LINE:COL,
// and a working_dir that is missing as such, not as a missing program.
func TestValidateMachine(t *testing.T) {
	bad := `services:
  a:
    command: ["./prog"]
    working_dir: {{dir}}/nope
  b:
    command: steward-no-such-program --flag
  c:
    command: ["{{prog}}"]
    user: steward-no-such-user
`
	e := newEnv(t, bad)
	// newEnv's first line is data_dir: ., so the file's lines are one more.
	want := []string{
		e.config + `:5:18: service "a": working_dir: ` + e.dir + `/nope does not exist`,
		e.config + `:7:14: service "b": command: steward-no-such-program is not found in PATH`,
		e.config + `:10:11: service "c": user "steward-no-such-user" does not exist`,
	}
	check := func(what, stderr string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", what, w, stderr)
			}
		}
		if strings.Contains(stderr, "prog does not exist") {
			t.Errorf("%s: a missing working_dir is reported as a missing program:\n%s", what, stderr)
		}
	}
	code, _, stderr := e.steward("validate")
	if code != 1 {
		t.Errorf("validate: exit %d, want 1", code)
	}
	check("validate", stderr)
	cmd := command("run", "-c", e.config)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("run: exit 0, want 1")
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("run of an invalid file did not exit:\n%s", out.String())
	}
	check("run", out.String())

	e.write("services:\n  c: {command: [\"{{prog}}\"]}\n")
	e.run()
	e.write(bad)
	code, _, stderr = e.steward("reload")
	if code != 1 {
		t.Errorf("reload: exit %d, want 1", code)
	}
	check("reload", stderr)
}

// TestValidateText checks that validate rejects a file over the size limit,
// a UTF-16 one and a YAML tag it does not take, each with its position.
func TestValidateText(t *testing.T) {
	e := newEnv(t, "")
	for _, c := range []struct {
		text []byte
		want string
	}{
		{append([]byte("services: {}\n"), bytes.Repeat([]byte("#\n"), 2<<20)...), ":1:1: the file is larger than 4 MB"},
		{[]byte("\xff\xfes\x00:\x00 \x00{\x00}\x00"), ":1:1: the file is UTF-16"},
		{[]byte("services:\n  a: {command: !!binary eA==}\n"), ":2:16: YAML tag !!binary is not supported"},
	} {
		if err := os.WriteFile(e.config, c.text, 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := e.steward("validate")
		if code != 1 || !strings.Contains(stderr, e.config+c.want) {
			t.Errorf("validate: exit %d, stderr %q, want 1 and %q", code, stderr, e.config+c.want)
		}
	}
}
