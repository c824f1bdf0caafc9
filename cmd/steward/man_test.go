package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manDir is where TestManPages leaves the man pages: scripts/release.sh
// runs `go test ./cmd/steward -run TestManPages -args -man DIR` to package
// them. The generator lives in a test so that the binary does not carry it.
var manDir = flag.String("man", "", "write steward's man pages (section 1) to this directory")

// TestManPages writes a man page for every command from its cobra
// definition, and has man(1) render some of them.
func TestManPages(t *testing.T) {
	dir := *manDir
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root := newRootCmd(io.Discard, io.Discard)
	root.DisableAutoGenTag = true
	header := &doc.GenManHeader{Title: "STEWARD", Section: "1", Source: "steward " + version, Manual: "steward manual"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		t.Fatal(err)
	}
	var pages []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root {
			return
		}
		pages = append(pages, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1")
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, p := range pages {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("no man page for %s: %v", strings.TrimSuffix(p, ".1"), err)
		}
	}
	if len(pages) < 50 {
		t.Errorf("%d man pages; steward has more commands than that", len(pages))
	}
	man, err := exec.LookPath("man")
	if err != nil {
		t.Skip("no man(1) here to render the pages")
	}
	for page, want := range map[string][]string{
		"steward.1":              {"steward - Host, supervise and monitor services", "steward-ps(1)"},
		"steward-service-unit.1": {"steward-service-unit - Print the unit file install would write", "--executable"},
	} {
		cmd := exec.Command(man, "--warnings", "-l", filepath.Join(dir, page))
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "MANWIDTH=200", "LC_ALL=C.UTF-8")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Errorf("man -l %s: %v %s", page, err, stderr.String())
		}
		for _, w := range want {
			if !strings.Contains(string(out), w) {
				t.Errorf("man -l %s lacks %q:\n%s", page, w, out)
			}
		}
	}
}
