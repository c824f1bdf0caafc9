package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

// sample is a report with every section filled.
func sample(t *testing.T) steward.Report {
	t.Helper()
	st := openStore(t)
	appendEvents(t, st,
		system(0, "steward started (pid 1)"),
		state(0, "api", stopped, starting, 0, "start requested"),
		state(m, "api", starting, running, 10, "started"),
		state(10*h, "api", running, backoff, 0, "exited with status 1; restarting in 1s"),
		state(11*h, "api", backoff, running, 11, "started"),
		state(0, "db <&>", stopped, starting, 0, "start requested"),
		state(m, "db <&>", starting, running, 12, "started"),
	)
	a := steward.Alert{Rule: "failed", Subject: "api", Severity: "critical", State: steward.AlertResolved, Message: `api "failed" <b>`,
		Started: at(10 * h), Fired: at(10 * h), Resolved: at(11 * h), Updated: at(11 * h)}
	if err := st.SaveAlert(t.Context(), &a, steward.AlertTransition{Time: a.Started, To: a.State}); err != nil {
		t.Fatal(err)
	}
	r := steward.Run{Kind: steward.RunKindJob, Name: "nightly", Status: steward.RunFailed, Trigger: steward.TriggerSchedule,
		Attempt: 1, Created: at(3 * h), Started: at(3 * h), Ended: at(3*h + time.Minute), Error: "exit status 2"}
	if err := st.AddRun(t.Context(), &r, false); err != nil {
		t.Fatal(err)
	}
	rep := build(t, st, day(), Options{Node: "web-01", SLO: map[string]float64{"api": 99.5}})
	rep.Machine.CPU = &steward.Distribution{P50: 10, P95: 80, Max: 99, Samples: 1440}
	rep.Machine.Disks = []steward.DiskReport{{Mount: "/", Used: steward.Distribution{P50: 40, P95: 41, Max: 42, Samples: 1440}}}
	rep.Services[0].CPU = &steward.Distribution{P50: 1, P95: 2, Max: 3, Samples: 100}
	return rep
}

func render(t *testing.T, rep steward.Report, format, section string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, rep, format, section); err != nil {
		t.Fatalf("write %s %s: %v", format, section, err)
	}
	return b.Bytes()
}

func TestJSON(t *testing.T) {
	rep := sample(t)
	var got steward.Report
	if err := json.Unmarshal(render(t, rep, steward.ReportJSON, ""), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rep) {
		t.Errorf("JSON round trip:\ngot  %+v\nwant %+v", got, rep)
	}
}

func TestCSV(t *testing.T) {
	rep := sample(t)
	for _, c := range []struct {
		section string
		rows    int
		check   func(header, row []string) string
	}{
		{"", 3, func(hd, row []string) string {
			col := map[string]string{}
			for i, k := range hd {
				col[k] = row[i]
			}
			if col["service"] != "api" || col["crashes"] != "1" || col["slo_percent"] != "99.5" || col["cpu_p95_percent"] != "2" || col["rss_p50_bytes"] != "" {
				return "api's row is wrong"
			}
			return ""
		}},
		{steward.ReportServices, 3, nil},
		{steward.ReportIncidents, 2, func(hd, row []string) string {
			if row[len(row)-1] != `api "failed" <b>` || row[6] != "2026-01-05T11:00:00Z" {
				return "the incident's row is wrong"
			}
			return ""
		}},
		{steward.ReportJobs, 2, func(hd, row []string) string {
			if row[0] != "nightly" || row[3] != "1" || row[5] != "0" {
				return "the job's row is wrong"
			}
			return ""
		}},
		{steward.ReportMachine, 3, func(hd, row []string) string {
			if row[0] != "cpu_percent" || row[3] != "80" {
				return "the machine's row is wrong"
			}
			return ""
		}},
	} {
		rows, err := csv.NewReader(bytes.NewReader(render(t, rep, steward.ReportCSV, c.section))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", c.section, err)
		}
		if len(rows) != c.rows {
			t.Fatalf("%s: %d rows, want %d: %q", c.section, len(rows), c.rows, rows)
		}
		if c.check != nil {
			if msg := c.check(rows[0], rows[1]); msg != "" {
				t.Errorf("%s: %s: %q", c.section, msg, rows)
			}
		}
	}
}

func TestFormatErrors(t *testing.T) {
	for _, c := range [][2]string{{"pdf", ""}, {"csv", "nope"}, {"html", "jobs"}, {"", ""}} {
		if err := Write(&bytes.Buffer{}, steward.Report{}, c[0], c[1]); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("format %q section %q: %v, want an invalid error", c[0], c[1], err)
		}
	}
	for format, want := range map[string]string{"json": "application/json", "csv": "text/csv; charset=utf-8",
		"html": "text/html; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} {
		if got := ContentType(format); got != want {
			t.Errorf("ContentType(%s) = %s, want %s", format, got, want)
		}
	}
	rep := steward.Report{Node: "web 01/x", Since: t0, Until: at(24 * h)}
	if got, want := FileName(rep, "xlsx"), "steward-report-web_01_x-20260105T0000Z-20260106T0000Z.xlsx"; got != want {
		t.Errorf("FileName = %s, want %s", got, want)
	}
}

func python(t *testing.T, module string) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import "+module).Run() == nil {
			return path
		}
	}
	t.Skipf("no python3 with %s here (apt-get install python3-%s)", module, module)
	return ""
}

// checkHTML parses the page with Python's html.parser and prints what a
// test checks: every tag, every reference to anything outside the page,
// and the text of the table cells.
const checkHTML = `
import json, sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.refs, self.cells, self.cell, self.stack = {}, [], [], None, []
    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag not in ("meta", "br", "rect", "line", "path", "circle"):
            self.stack.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action") or (v and ("url(" in v or "//" in v)):
                self.refs.append([tag, k, v])
        if tag == "td": self.cell = ""
    def handle_endtag(self, tag):
        if tag == "td": self.cells.append(self.cell); self.cell = None
        if self.stack and self.stack[-1] == tag: self.stack.pop()
        elif tag not in ("rect", "line", "path", "circle"): raise SystemExit("unbalanced </%s>, open %s" % (tag, self.stack))
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
p = P()
p.feed(sys.stdin.read())
p.close()
json.dump({"tags": p.tags, "refs": p.refs, "cells": p.cells, "open": p.stack}, sys.stdout)
`

func TestHTML(t *testing.T) {
	py := python(t, "html.parser")
	rep := sample(t)
	page := render(t, rep, steward.ReportHTML, "")
	cmd := exec.Command(py, "-c", checkHTML)
	cmd.Stdin = bytes.NewReader(page)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var got struct {
		Tags  map[string]int
		Refs  [][]string
		Cells []string
		Open  []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Refs) > 0 {
		t.Errorf("the page refers to things outside it: %q", got.Refs)
	}
	if got.Tags["script"] > 0 || got.Tags["link"] > 0 || got.Tags["img"] > 0 {
		t.Errorf("tags %v: want no script, link or img", got.Tags)
	}
	if got.Tags["svg"] != 3 || got.Tags["rect"] < 24*2 || got.Tags["table"] != 5 {
		t.Errorf("tags %v: want 3 inline SVG charts with a rect per bucket, 5 tables", got.Tags)
	}
	if len(got.Open) != 0 {
		t.Errorf("tags left open: %v", got.Open)
	}
	cells := strings.Join(got.Cells, "|")
	for _, want := range []string{"api|95.830%|99.5%|-733.912%", "db <&>|100.000%|—|—|23h 59m", `api "failed" <b>`, "nightly|1|0|1|0|0.0%|1m 0s"} {
		if !strings.Contains(cells, want) {
			t.Errorf("cells lack %q:\n%s", want, cells)
		}
	}
	if !bytes.Contains(page, []byte("@media print")) {
		t.Error("no print style")
	}
	// An empty report is a page too.
	empty := render(t, steward.Report{Since: t0, Until: at(h)}, steward.ReportHTML, "")
	if !bytes.Contains(empty, []byte("No service in this range.")) || !bytes.Contains(empty, []byte("No machine samples")) {
		t.Errorf("empty report:\n%s", empty)
	}
}

// readXLSX prints, with openpyxl, each sheet's rows (dates as ISO text)
// and the type of each of its charts.
const readXLSX = `
import datetime, json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = {}
for ws in wb.worksheets:
    rows = []
    for row in ws.iter_rows(values_only=True):
        rows.append([v.isoformat() if isinstance(v, datetime.datetime) else v for v in row])
    out[ws.title] = {"rows": rows, "charts": [type(c).__name__ for c in ws._charts]}
json.dump({"order": wb.sheetnames, "sheets": out}, sys.stdout)
`

func TestXLSX(t *testing.T) {
	py := python(t, "openpyxl")
	rep := sample(t)
	file := filepath.Join(t.TempDir(), "r.xlsx")
	if err := os.WriteFile(file, render(t, rep, steward.ReportXLSX, ""), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", readXLSX, file).CombinedOutput()
	if err != nil {
		t.Fatalf("openpyxl: %v\n%s", err, out)
	}
	var got struct {
		Order  []string
		Sheets map[string]struct {
			Rows   [][]any
			Charts []string
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if want := []string{"Summary", "Services", "Availability", "Incidents", "Jobs", "Machine"}; !reflect.DeepEqual(got.Order, want) {
		t.Errorf("sheets %v, want %v", got.Order, want)
	}
	svc := got.Sheets["Services"]
	if len(svc.Rows) != 3 || svc.Rows[1][0] != "api" || svc.Rows[1][2] != 99.5 || svc.Rows[1][10] != 1.0 || svc.Rows[2][0] != "db <&>" {
		t.Errorf("Services rows %v", svc.Rows)
	}
	if a, ok := svc.Rows[1][1].(float64); !ok || a < 95 || a > 96 {
		t.Errorf("api's availability %v, want a number near 95.8", svc.Rows[1][1])
	}
	if !reflect.DeepEqual(svc.Charts, []string{"BarChart"}) {
		t.Errorf("Services charts %v, want a bar chart", svc.Charts)
	}
	av := got.Sheets["Availability"]
	if len(av.Rows) != 25 || av.Rows[1][0] != "2026-01-05T00:00:00" || !reflect.DeepEqual(av.Charts, []string{"LineChart"}) {
		t.Errorf("Availability: %d rows (%v), charts %v, want 24 buckets and a line chart", len(av.Rows), av.Rows[:2], av.Charts)
	}
	if r := av.Rows[11]; r[1] != 0.0 { // 10:00: api in backoff the whole hour
		t.Errorf("Availability at 10:00 %v, want api 0", r)
	}
	inc := got.Sheets["Incidents"]
	if len(inc.Rows) != 2 || inc.Rows[1][1] != "2026-01-05T10:00:00" || inc.Rows[1][3] != 3600.0 || inc.Rows[1][9] != `api "failed" <b>` {
		t.Errorf("Incidents rows %v", inc.Rows)
	}
	if j := got.Sheets["Jobs"]; len(j.Rows) != 2 || j.Rows[1][3] != 1.0 || len(j.Charts) != 1 {
		t.Errorf("Jobs %+v", j)
	}
	if mc := got.Sheets["Machine"]; len(mc.Rows) != 3 || mc.Rows[2][1] != "/" || len(mc.Charts) != 1 {
		t.Errorf("Machine %+v", mc)
	}
	if s := got.Sheets["Summary"]; s.Rows[1][1] != "web-01" || s.Rows[2][1] != "2026-01-05T00:00:00" {
		t.Errorf("Summary %v", s.Rows)
	}
	// An empty report is a workbook too.
	var b bytes.Buffer
	if err := Write(&b, steward.Report{Since: t0, Until: at(h)}, steward.ReportXLSX, ""); err != nil || b.Len() == 0 {
		t.Errorf("empty report: %v", err)
	}
	// So is one whose services have unequal buckets (not one Build
	// makes): the missing ones are empty cells.
	ragged := rep
	ragged.Services = append(slices.Clone(rep.Services), steward.ServiceReport{Name: "new", Buckets: []steward.Availability{}})
	b.Reset()
	if err := Write(&b, ragged, steward.ReportXLSX, ""); err != nil || b.Len() == 0 {
		t.Errorf("ragged report: %v", err)
	}
}
