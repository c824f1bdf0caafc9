package importer

import (
	"os"
	"testing"

	"github.com/stewardhq/steward/internal/config"
)

// fuzzImport imports data as format and checks what any input must give:
// an error, or a configuration that parses. Seeds: the golden inputs of
// testdata/ and the given ones.
func fuzzImport(f *testing.F, format Format, name string, files []string, seeds ...string) {
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	opt := Options{EvalJS: func(string) ([]byte, error) { return nil, os.ErrNotExist }}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Import([]Input{{Path: name, Data: data, Format: format}}, opt)
		if err != nil {
			return
		}
		if _, err := config.Parse("", out, config.Registry{}); err != nil {
			t.Fatalf("Import returned a config that does not parse: %v\n%s", err, out)
		}
	})
}

func FuzzSupervisord(f *testing.F) {
	fuzzImport(f, Supervisord, "supervisord.conf", []string{"testdata/supervisord.conf"},
		"[program:a]\ncommand=x %(process_num)d\nnumprocs=3\nprocess_name=%(program_name)s-%(process_num)03d\n", // numprocs
		"[program:a]\ncommand=x\npriority=1\n[program:b]\ncommand=y\npriority=2\n",                              // priorities
		"[program:a]\ncommand = x ; comment\n  continued\n",                                                     // continuation lines
		"[program:a]\ncommand=x\nenvironment=A='1,2',B=\"x\"\n")                                                 // quoted commas
}

func FuzzSystemd(f *testing.F) {
	fuzzImport(f, Systemd, "a@b.service", []string{"testdata/systemd/api.service", "testdata/systemd/worker@fast.service"},
		"[Service]\nExecStart=/bin/x \\\n  --flag\n",           // a continued line
		"[Service]\nExecStart=\nExecStart=/bin/y %i %%\n",      // a reset
		"[Service]\nType=notify\nExecStart=x\nWatchdogSec=0\n") // watchdog off
}

func FuzzProcfile(f *testing.F) {
	fuzzImport(f, Procfile, "Procfile", []string{"testdata/procfile/Procfile"},
		"web: ./web $PORT\nweb: again\n") // a type twice
}

func FuzzCompose(f *testing.F) {
	fuzzImport(f, Compose, "compose.yaml", []string{"testdata/compose.yaml"},
		"services:\n  a: {command: x, depends_on: [b]}\n  b: {entrypoint: [y], healthcheck: {test: \"true\"}}\n", // list dependencies
		"x: &a {command: [x]}\nservices: {a: *a, b: *a}\n")                                                       // aliases
}

func FuzzPM2(f *testing.F) {
	fuzzImport(f, PM2, "ecosystem.json", []string{"testdata/ecosystem.config.json"},
		`[{"script": "a.js", "instances": 3, "cron_restart": "*/5 * * * *"}]`, // instances with a job each
		`{"script": "bin/x", "interpreter": "none", "user": 0}`)               // one app, not in a list
}
