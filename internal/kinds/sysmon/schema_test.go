package sysmon

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// parseErrors parses src as steward.yaml and returns its error lines.
func parseErrors(t *testing.T, src string) []string {
	t.Helper()
	_, err := config.Parse("steward.yaml", []byte(src), registry())
	var list config.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse = %v, want an ErrorList\n%s", err, src)
	}
	return strings.Split(err.Error(), "\n")
}

func TestDecode(t *testing.T) {
	c, err := config.Parse("steward.yaml", []byte(`
services:
  web: {command: ./web}
  machine:
    kind: sysmon
    every: 15s
    depends_on: [web]
    restart: {policy: always}
    alert: {cpu: "> 80% for 5m", memory: "> 85%", "disk:/": "> 90%", swap: "> 1GiB", load1: "> 4", net_recv: "> 10MB"}
  m: {kind: sysmon}
`), registry())
	if err != nil {
		t.Fatal(err)
	}
	m := c.Services["machine"]
	spec, ok := m.Spec.(*Spec)
	if m.Kind != Name || !ok || spec.Every != 15*time.Second || m.Restart.Policy != config.RestartAlways || m.Command != nil {
		t.Fatalf("machine = %+v", m)
	}
	var keys []string
	for _, th := range spec.Alerts {
		keys = append(keys, th.Key+" "+th.Op+" "+th.Unit)
	}
	if want := []string{"cpu > %", "disk:/ > %", "load1 > ", "memory > %", "net_recv > B", "swap > B"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("thresholds = %q, want %q", keys, want)
	}
	if th := spec.Alerts[0]; th.For != 5*time.Minute || th.Value != 80 {
		t.Errorf("cpu threshold = %+v", th)
	}
	if d := c.Services["m"].Spec.(*Spec); d.Every != DefaultEvery || d.Alerts != nil {
		t.Errorf("defaults: %+v", d)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"threshold position plain", "services:\n  m:\n    kind: sysmon\n    alert: {load1: < 2 for 5}\n",
			[]string{`steward.yaml:4:28: alert.load1: duration needs a unit, e.g. 10s`}},
		{"threshold position quoted", "services:\n  m:\n    kind: sysmon\n    alert:\n      memory: \"> 85 pct\"\n",
			[]string{`steward.yaml:5:21: alert.memory: unknown unit "pct", want % or a size like MB or GiB`}},
		{"unknown figure", "services:\n  m:\n    kind: sysmon\n    alert: {cpuu: \"> 1\"}\n",
			[]string{`steward.yaml:4:13: alert: unknown figure "cpuu" (did you mean "cpu"?); want one of cpu, disk:/, disk_read, disk_write, load1, load15, load5, memory, net_recv, net_sent, swap, or disk:MOUNTPOINT`}},
		{"units", "services:\n  m:\n    kind: sysmon\n    alert: {load1: \"> 5%\", cpu: \"> 1GB\", \"disk:\": \"> 1\", swap: [1]}\n",
			[]string{
				`steward.yaml:4:20: alert.load1: load1 is not a percentage`,
				`steward.yaml:4:33: alert.cpu: cpu takes no size unit`,
				`steward.yaml:4:42: alert: unknown figure "disk:" (did you mean "disk:/"?); want one of cpu, disk:/, disk_read, disk_write, load1, load15, load5, memory, net_recv, net_sent, swap, or disk:MOUNTPOINT`,
				`steward.yaml:4:64: alert.swap must be a condition like "> 80%"`,
				`steward.yaml:4:64: alert.swap must be a string`,
			}},
		{"sysmon keys", "services:\n  m:\n    kind: sysmon\n    command: x\n    every: 0\n",
			[]string{`steward.yaml:4:5: unknown key "command"`, `steward.yaml:5:12: every must be more than 0`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
