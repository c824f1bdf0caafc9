package importer

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds/builtin"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// readInputs reads the files of one golden case.
func readInputs(t *testing.T, paths ...string) []Input {
	t.Helper()
	var in []Input
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, Input{Path: p, Data: data})
	}
	return in
}

// evalJSON stands in for node in the tests that do not need it: the
// ecosystem file's export, as node would print it.
func evalJSON(json string) func(string) ([]byte, error) {
	return func(string) ([]byte, error) { return []byte(json), nil }
}

// TestGolden imports each file of testdata/ and compares the result with
// its golden file (regenerate with -update); each result must parse with
// the registries steward runs with.
func TestGolden(t *testing.T) {
	abs, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		files []string
		opt   Options
	}{
		{"supervisord", []string{"testdata/supervisord.conf"}, Options{}},
		{"compose", []string{"testdata/compose.yaml"}, Options{}},
		{"pm2", []string{"testdata/ecosystem.config.json"}, Options{}},
		{"pm2-js", []string{"testdata/ecosystem.config.js"},
			Options{EvalJS: evalJSON(`{"apps":[{"max_restarts":3,"kill_timeout":3000,"name":"web","script":"app.js","env":{"PORT":"4001"}}]}`)}},
		{"procfile", []string{"testdata/procfile/Procfile"}, Options{ReadFile: os.ReadFile}},
		{"procfile-noenv", []string{"testdata/procfile/Procfile"}, Options{}},
		{"systemd", []string{"testdata/systemd/api.service", "testdata/systemd/db.service"}, Options{}},
		{"systemd-one", []string{"testdata/systemd/api.service"}, Options{}},
		{"systemd-template", []string{"testdata/systemd/worker@fast.service"}, Options{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := Import(readInputs(t, c.files...), c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := config.Parse("", out, builtin.Config()); err != nil {
				t.Fatalf("the output does not parse: %v\n%s", err, out)
			}
			got := strings.ReplaceAll(string(out), abs, "$TESTDATA")
			golden := filepath.Join("testdata", c.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("import of %v:\ngot:\n%s\nwant:\n%s", c.files, got, want)
			}
		})
	}
}
