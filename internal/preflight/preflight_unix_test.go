//go:build unix

package preflight

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/config"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"prog": 0o755, "data": 0o644} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "steward.yaml")
	src := `services:
  ok: {command: ./prog}
  path: {command: prog, env: {PATH: "` + dir + `"}}
  sh: {command: sh -c true}
  missing: {command: ./nope}
  notexec: {command: ./data}
  isdir: {command: ["` + dir + `"]}
  nowhere: {command: steward-no-such-program}
  nodir: {command: ./prog, working_dir: nope}
  filedir: {command: ./prog, working_dir: data}
  nouser: {command: ./prog, user: steward-no-such-user, group: steward-no-such-group}
  numeric: {command: ./prog, user: "12345", group: "12345"}
  off: {command: ./nope, disabled: true}
  probes:
    command: ./prog
    ready: {exec: [./nope-ready]}
    health: {exec: [steward-no-such-probe]}
`
	cfg, err := config.Parse(file, []byte(src), config.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range Check(cfg) {
		got = append(got, e.Error())
	}
	want := []string{
		file + `:5:22: service "missing": command: ` + dir + `/nope does not exist`,
		file + `:6:22: service "notexec": command: ` + dir + `/data is not executable`,
		file + `:7:20: service "isdir": command: ` + dir + ` is a directory`,
		file + `:8:22: service "nowhere": command: steward-no-such-program is not found in PATH (` + os.Getenv("PATH") + `)`,
		file + `:9:41: service "nodir": working_dir: ` + dir + `/nope does not exist`,
		file + `:10:43: service "filedir": working_dir: ` + dir + `/data is not a directory`,
		file + `:11:35: service "nouser": user "steward-no-such-user" does not exist`,
		file + `:11:64: service "nouser": group "steward-no-such-group" does not exist`,
		file + `:16:12: service "probes": ready.exec: ` + dir + `/nope-ready does not exist`,
		file + `:17:13: service "probes": health.exec: steward-no-such-probe is not found in PATH (` + os.Getenv("PATH") + `)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
