//go:build linux

package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

// TestSmoke runs the measure at a small size (2 days × 5 services, a
// metrics sample a minute) and checks what it generated and reported:
// every service with its crashes, manual restarts, incidents and usage,
// the machine's load, and the CLI's files; it measures nothing.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "steward")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/stewardhq/steward/cmd/steward").CombinedOutput(); err != nil {
		t.Fatalf("build steward: %v\n%s", err, out)
	}
	r, err := Measure(context.Background(), Options{Days: 2, Services: 5, Runs: 1, Every: time.Minute, Bin: bin, Dir: dir}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r.Written.Events == 0 || r.Written.Alerts == 0 || r.Written.Samples != 2*24*60*(5*2+3) {
		t.Errorf("written %+v, want events, alerts and %d samples", r.Written, 2*24*60*(5*2+3))
	}
	rep := r.Report
	crashes, manual := 0, 0
	for _, s := range rep.Services {
		crashes += s.Crashes
		manual += s.Manual
		if s.CPU == nil || s.RSS == nil || s.Availability == nil {
			t.Errorf("%s: CPU %v, RSS %v, availability %v; want each", s.Name, s.CPU, s.RSS, s.Availability)
		}
	}
	if len(rep.Services) != 5 || crashes == 0 || len(rep.Incidents) == 0 || rep.Machine.CPU == nil || len(rep.Machine.Disks) != 1 {
		t.Errorf("report: %d services, %d crashes, %d manual, %d incidents, machine %+v", len(rep.Services), crashes, manual,
			len(rep.Incidents), rep.Machine)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cli steward.Report
	if err := json.Unmarshal(b, &cli); err != nil || len(cli.Services) != 5 {
		t.Errorf("steward report -o json: %d services, %v", len(cli.Services), err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "report.xlsx")); err != nil || len(b) < 4 || string(b[:4]) != "PK\x03\x04" {
		t.Errorf("steward report -o xlsx: not a zip (%v)", err)
	}
	for _, f := range steward.ReportFormats {
		if r.CLI[f] <= 0 || r.Write[f] <= 0 {
			t.Errorf("%s: no time measured", f)
		}
	}
	if r.String() == "" {
		t.Error("no summary")
	}
}
