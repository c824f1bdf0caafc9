package logwatch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/config"
	watch "github.com/stewardhq/steward/internal/logwatch"
)

func TestDecode(t *testing.T) {
	c, err := config.Parse(filepath.Join(os.TempDir(), "steward", "steward.yaml"), []byte(`
services:
  api: {command: ./api}
  applog:
    kind: logwatch
    files: [logs/*.log, ../log/app.log]
    service: api
    start_at: beginning
    poll: 2s
    depends_on: [api]
    rules:
      - match: 'ERROR (?P<what>\w+)'
        exclude: 'ERROR test'
        severity: critical
        when: "5 in 1m"
        message: "error in $what"
      - {name: panics, match: panic}
`), registry())
	if err != nil {
		t.Fatal(err)
	}
	testDir := filepath.Join(os.TempDir(), "steward")
	s := c.Services["applog"]
	lw, ok := s.Spec.(*watch.Config)
	if s.Kind != Name || s.Command != nil || !ok {
		t.Fatalf("applog = %+v", s)
	}
	if lw.Name != "applog" || !reflect.DeepEqual(lw.Files, []string{filepath.Join(testDir, "logs", "*.log"), filepath.Join(testDir, "..", "log", "app.log")}) ||
		!reflect.DeepEqual(lw.Services, []string{"api"}) || lw.StartAt != "beginning" || lw.Poll != 2*time.Second {
		t.Errorf("logwatch = %+v", lw)
	}
	if len(lw.Rules) != 2 || lw.Rules[0].When != "5 in 1m" || lw.Rules[0].Message != "error in $what" || lw.Rules[1].Name != "panics" {
		t.Errorf("rules = %+v", lw.Rules)
	}
	if err := lw.Validate(); err != nil {
		t.Error(err)
	}
	// A config compares equal to itself: a reload leaves the watch alone.
	again, err := config.Parse(c.File, c.Source, registry())
	if err != nil {
		t.Fatal(err)
	}
	if d := config.Compare(c, again); !d.Empty() {
		t.Errorf("Compare = %+v", d)
	}
}

func TestDecodeErrors(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"rules", `services:
  w:
    kind: logwatch
    files: /var/log/x.log
    rules:
      - {match: "ERROR (", severity: page}
      - match: 'a(?P<x>b)'
        when: "5 per minute"
        message: "$y"
      - {exclude: x}
`, []string{
			`steward.yaml:6:17: rules[0].match: invalid regular expression: missing closing ): ` + "`ERROR (`",
			`steward.yaml:6:38: rules[0].severity: unknown severity "page", want info, warning or critical`,
			`steward.yaml:8:15: rules[1].when: invalid condition "5 per minute": want COUNT in DURATION, e.g. "5 in 1m"`,
			`steward.yaml:9:18: rules[1].message: the match has no group named "y"`,
			`steward.yaml:10:9: rules[2].match: is required`,
		}},
		{"what to watch", `services:
  w: {kind: logwatch, rules: [{match: x}]}
  v: {kind: logwatch, service: nope, services: [v], rules: [{match: x}]}
  u: {kind: logwatch, services: [u], rules: [{match: x}], files: ["a/*/b.log"]}
  t: {kind: logwatch, files: /x, rules: [{match: x}], command: x}
`, []string{
			`steward.yaml:2:3: files: a log watch needs files or services to watch`,
			`steward.yaml:3:32: service "v" follows unknown service "nope"`,
			`steward.yaml:3:38: service and services (at 3:23) cannot both be set: list them all in services`,
			`steward.yaml:4:34: service "u" cannot follow its own output`,
			fmt.Sprintf(`steward.yaml:4:67: files[0]: a glob may not have wildcards in its directory: %q`, filepath.Join(wd, "a", "*", "b.log")),
			`steward.yaml:5:55: unknown key "command"`,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("steward.yaml", []byte(tt.src), registry())
			var list config.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse = %v, want an ErrorList", err)
			}
			got := strings.Split(err.Error(), "\n")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
