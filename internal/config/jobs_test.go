package config

import (
	"reflect"
	"testing"
	"time"
)

func TestParseJobs(t *testing.T) {
	c := mustParse(t, `
services:
  web: {command: x}
jobs:
  nightly:
    schedule: "0 3 * * *"
    timezone: Europe/Berlin
    command: ./backup --all
    env: {LEVEL: 9}
    working_dir: /srv
    concurrency: replace
    missed: once
    deadline: 2h
    retries: {max: 3, backoff: 1m}
    timeout: 1h
    dead_man: 26h
    jitter: 30s
  ping: {schedule: "*/10 * * * * *", http: {url: "http://127.0.0.1:8080/health", method: HEAD, expect: 204}}
  bounce: {schedule: "@daily", service: {restart: web}}
  adhoc: {command: [echo, hi]}
`)
	if got, want := c.JobOrder, []string{"nightly", "ping", "bounce", "adhoc"}; !reflect.DeepEqual(got, want) {
		t.Errorf("JobOrder = %q, want %q", got, want)
	}
	want := &Job{Name: "nightly", Schedule: "0 3 * * *", Timezone: "Europe/Berlin", Jitter: 30 * time.Second,
		Concurrency: "replace", Missed: "once", Deadline: 2 * time.Hour, Timeout: time.Hour,
		Retries: Retries{Max: 3, Backoff: time.Minute}, DeadMan: 26 * time.Hour,
		Command: &JobCommand{Command: []string{"./backup", "--all"}, Env: map[string]string{"LEVEL": "9"}, WorkingDir: "/srv"}}
	if got := c.Jobs["nightly"]; !reflect.DeepEqual(got, want) {
		t.Errorf("nightly = %+v\nwant %+v", got, want)
	}
	if got, want := c.Jobs["ping"].HTTP, (&JobHTTP{URL: "http://127.0.0.1:8080/health", Method: "HEAD", Expect: 204, Timeout: DefaultHTTPTimeout}); !reflect.DeepEqual(got, want) {
		t.Errorf("ping.http = %+v, want %+v", got, want)
	}
	if got := c.Jobs["bounce"].Service; got == nil || *got != (JobService{Verb: "restart", Service: "web"}) {
		t.Errorf("bounce.service = %+v", got)
	}
	a := c.Jobs["adhoc"]
	if a.Concurrency != DefaultConcurrency || a.Missed != DefaultMissed || a.Retries.Backoff != DefaultRetryBackoff || a.Schedule != "" {
		t.Errorf("adhoc defaults = %+v", a)
	}
}

func TestJobErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"bad cron", "jobs:\n  a: {schedule: '61 * * * *', command: x}\n",
			[]string{`steward.yaml:2:17: job "a": invalid schedule: `}},
		{"six fields is seconds, seven is too many", "jobs:\n  a: {schedule: '* * * * * * *', command: x}\n",
			[]string{`steward.yaml:2:17: job "a": invalid schedule: `}},
		{"bad every", "jobs:\n  a:\n    schedule: '@every soon'\n    command: x\n",
			[]string{`steward.yaml:3:15: job "a": invalid schedule: `}},
		{"bad zone", "jobs:\n  a:\n    schedule: '@daily'\n    timezone: Mars/Olympus\n    command: x\n",
			[]string{`steward.yaml:4:15: job "a": unknown time zone "Mars/Olympus"`}},
		{"zone in the spec", "jobs:\n  a: {schedule: 'CRON_TZ=UTC 0 * * * *', command: x}\n",
			[]string{`steward.yaml:2:17: job "a": set the time zone with timezone:, not in the schedule`}},
		{"no action", "jobs:\n  a: {schedule: '@daily'}\n",
			[]string{`steward.yaml:2:3: job "a" needs an action: one of command, http, service`}},
		{"publish without the bus", "jobs:\n  a: {publish: {subject: ticks}}\n",
			[]string{`steward.yaml:2:26: job "a": publish needs the bus: add a bus: section`}},
		{"publish without a subject", "bus: {}\njobs:\n  a: {publish: {data: x}}\n",
			[]string{`steward.yaml:3:16: job "a": publish needs a subject`}},
		{"workbook without service and save_as", "jobs:\n  a: {workbook: {writes: []}}\n",
			[]string{`steward.yaml:2:17: job "a": workbook needs service: a service of kind workbook`}},
		{"workbook of a service of another kind", "services:\n  s: {command: x}\njobs:\n  a: {workbook: {service: s, save_as: o.xlsx}}\n",
			[]string{`steward.yaml:4:27: job "a": workbook.service "s" is not a service of kind workbook`}},
		{"workbook without save_as", "services:\n  w: {kind: bare}\njobs:\n  a: {workbook: {service: w}}\n",
			[]string{`steward.yaml:4:17: job "a": workbook needs save_as: the file it saves, under the service's dir`,
				`steward.yaml:4:27: job "a": workbook.service "w" is not a service of kind workbook`}},
		{"workbook write without command", "jobs:\n  a: {workbook: {service: w, save_as: x, writes: [{sheet: S}]}}\n",
			[]string{`steward.yaml:2:27: job "a": workbook.service "w" is not a service of kind workbook`,
				`steward.yaml:2:51: workbook.writes[0] needs sheet and command`}},
		{"two actions", "jobs:\n  a: {command: x, http: {url: 'http://h/'}}\n",
			[]string{`steward.yaml:2:19: job "a" has two actions, command (at 2:7) and http: give it one`}},
		{"policies", "jobs:\n  a: {schedule: '@daily', command: x, concurrency: sometimes, missed: never}\n",
			[]string{`steward.yaml:2:52: concurrency "sometimes" is not one of allow, forbid, replace`,
				`steward.yaml:2:71: missed "never" is not one of skip, once, all`}},
		{"missed without schedule", "jobs:\n  a: {command: x, missed: all}\n",
			[]string{`steward.yaml:2:3: job "a": timezone, jitter and missed need a schedule`}},
		{"env for http", "jobs:\n  a: {http: {url: 'http://h/'}, env: {A: b}}\n",
			[]string{`steward.yaml:2:33: job "a": env is for command jobs`}},
		{"http", "jobs:\n  a: {http: {url: 'ftp://h/', expect: 42, method: BREW}}\n",
			[]string{`steward.yaml:2:19: http.url "ftp://h/" must be an http:// or https:// URL`,
				`steward.yaml:2:39: http.expect 42 is not an HTTP status`,
				`steward.yaml:2:51: http.method "BREW" is not one of GET, HEAD, POST, PUT, PATCH, DELETE`}},
		{"service", "jobs:\n  a: {service: {restart: ghost}}\n  b: {service: {}}\n",
			[]string{`steward.yaml:2:6: job "a": service "ghost" is not declared in services`,
				`steward.yaml:3:16: service needs one of start, stop and restart: a service name`}},
		{"name and key", "jobs:\n  'a b': {command: x}\n  c: {command: x, every: 1s}\n",
			[]string{`steward.yaml:2:3: job name "a b" must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit`,
				`steward.yaml:3:19: unknown key "every"`}},
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

func join(lines []string) string {
	out := ""
	for _, l := range lines {
		out += "  " + l + "\n"
	}
	return out
}

func TestJobsDiff(t *testing.T) {
	a := mustParse(t, "jobs:\n  j: {schedule: '@daily', command: x}\n")
	b := mustParse(t, "jobs:\n  j: {schedule: '@hourly', command: x}\n")
	if d := Compare(a, a); len(d.Sections) != 0 {
		t.Errorf("same jobs: sections %q", d.Sections)
	}
	if d := Compare(a, b); !reflect.DeepEqual(d.Sections, []string{"jobs"}) || len(d.Changed) != 0 {
		t.Errorf("changed schedule: %+v, want the jobs section and no service", d)
	}
}
