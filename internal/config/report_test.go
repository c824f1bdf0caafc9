package config

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestParseReportJob(t *testing.T) {
	c := mustParse(t, `
data_dir: /var/lib/steward
services:
  api: {command: [api]}
  web: {command: [web]}
notify:
  hook: {hook: {url: "https://h/"}}
  mail: {page: {url: m}}
jobs:
  weekly:
    schedule: "0 8 * * mon"
    report: {since: 1w, services: [api, web], format: xlsx, out: /srv/reports, notify: [mail, hook]}
  daily: {schedule: "@daily", report: {since: 24h, format: csv, out: latest.CSV, notify: hook}}
  plain: {report: {}}
`)
	want := &JobReport{Since: 7 * 24 * time.Hour, Services: []string{"api", "web"}, Format: "xlsx",
		Out: "/srv/reports", Notify: []string{"mail", "hook"}}
	if got := c.Jobs["weekly"].Report; !reflect.DeepEqual(got, want) {
		t.Errorf("weekly = %+v\nwant %+v", got, want)
	}
	want = &JobReport{Since: 24 * time.Hour, Format: "csv", Out: filepath.Join(testDir, "latest.CSV"), File: true,
		Notify: []string{"hook"}}
	if got := c.Jobs["daily"].Report; !reflect.DeepEqual(got, want) {
		t.Errorf("daily = %+v\nwant %+v", got, want)
	}
	want = &JobReport{Since: DefaultReportSince, Format: "html", Out: "/var/lib/steward/reports"}
	if got := c.Jobs["plain"].Report; !reflect.DeepEqual(got, want) {
		t.Errorf("plain = %+v\nwant %+v", got, want)
	}
}

func TestReportJobErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"format", "jobs:\n  a: {report: {format: pdf}}\n",
			[]string{`steward.yaml:2:24: report.format "pdf" is not one of html, xlsx, csv, json`}},
		{"since", "jobs:\n  a: {report: {since: lastweek}}\n  b: {report: {since: 0d}}\n",
			[]string{`steward.yaml:2:23: report.since "lastweek": want a span like 7d, 24h or 1w2d`,
				`steward.yaml:3:23: report.since "0d": want a span like 7d, 24h or 1w2d`}},
		{"notifier", "notify:\n  hook: {hook: {url: 'https://h/'}}\njobs:\n  a: {report: {notify: [hook, hoook, pager]}}\n",
			[]string{`steward.yaml:4:31: job "a": report.notify: notifier "hoook" is not declared in notify (did you mean "hook"?)`,
				`steward.yaml:4:38: job "a": report.notify: notifier "pager" is not declared in notify`}},
		{"service", "services:\n  api: {command: [api]}\njobs:\n  a: {report: {services: [api, db]}}\n",
			[]string{`steward.yaml:4:32: job "a": report.services: service "db" is not declared in services`}},
		{"keys", "jobs:\n  a: {report: {out: '', when: now}}\n",
			[]string{`steward.yaml:2:21: report.out must not be empty`, `steward.yaml:2:25: unknown key "when"`}},
		{"two actions", "jobs:\n  a: {command: x, report: {}}\n",
			[]string{`steward.yaml:2:19: job "a" has two actions, command (at 2:7) and report: give it one`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src)
			if len(got) != len(tt.want) {
				t.Fatalf("errors:\n%s\nwant:\n%s", join(got), join(tt.want))
			}
			for i := range got {
				if len(got[i]) < len(tt.want[i]) || got[i][:len(tt.want[i])] != tt.want[i] {
					t.Errorf("error %d:\n got %s\nwant %s…", i, got[i], tt.want[i])
				}
			}
		})
	}
}
