package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseWorkflows(t *testing.T) {
	c := mustParse(t, `
services: {api: {command: x}}
bus: {}
runs: {keep: 10, max_age: 720h}
workflows:
  orders:
    on:
      - {schedule: "0 3 * * *", timezone: Europe/Berlin}
      - subject: orders.*
      - file: {glob: /srv/in/*.csv, settle: 5s}
      - event: {alert: critical}
      - event: {service: api}
      - event: {state: exited}
    timeout: 1h
    concurrency: forbid
    steps:
      parse: {command: "./parse {{.trigger.file}} {{json .inputs}}", outputs: json, timeout: 1m, retries: {max: 2, backoff: 5s}}
      load:
        needs: [parse]
        command: [./load, "{{.steps.parse.outputs.rows}}"]
        env: {RUN: "{{.run.id}}"}
        working_dir: /srv
        rerun: never
        outputs: lines
      park: {needs: [parse], if: 'steps.parse.status == "failed"', http: {url: "http://h/park/{{.run.id}}"}}
      tell: {needs: [load, park], publish: {subject: "orders.done", data: "{{.run.id}}"}}
      bounce: {needs: [tell], service: {restart: api}}
  once: {steps: {a: {command: x}}}
`)
	if got, want := c.WorkflowOrder, []string{"orders", "once"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("WorkflowOrder = %q, want %q", got, want)
	}
	if c.Runs != (Runs{Keep: 10, MaxAge: 720 * time.Hour}) {
		t.Errorf("runs = %+v", c.Runs)
	}
	w := c.Workflows["orders"]
	if got, want := w.StepOrder, []string{"parse", "load", "park", "tell", "bounce"}; !reflect.DeepEqual(got, want) {
		t.Errorf("StepOrder = %q, want %q", got, want)
	}
	if w.Timeout != time.Hour || w.Concurrency != ConcurrencyForbid {
		t.Errorf("timeout %s concurrency %s", w.Timeout, w.Concurrency)
	}
	wantOn := []Trigger{
		{Schedule: "0 3 * * *", Timezone: "Europe/Berlin"},
		{Subject: "orders.*"},
		{File: &FileTrigger{Glob: "/srv/in/*.csv", Settle: 5 * time.Second}},
		{Event: &EventTrigger{Alert: "critical"}},
		{Event: &EventTrigger{Service: "api", State: "failed"}},
		{Event: &EventTrigger{Service: "*", State: "exited"}},
	}
	if !reflect.DeepEqual(w.On, wantOn) {
		t.Errorf("on = %+v\nwant %+v", w.On, wantOn)
	}
	parse := w.Steps["parse"]
	if got, want := parse.Command.Command, []string{"./parse", "{{.trigger.file}}", "{{json .inputs}}"}; !reflect.DeepEqual(got, want) {
		t.Errorf("parse's command = %q, want %q (a template is one word)", got, want)
	}
	if parse.Outputs != OutputsJSON || parse.Timeout != time.Minute || parse.Retries != (Retries{Max: 2, Backoff: 5 * time.Second}) || parse.Rerun != RerunAlways {
		t.Errorf("parse = %+v", parse)
	}
	load := w.Steps["load"]
	if !reflect.DeepEqual(load.Needs, []string{"parse"}) || load.Rerun != RerunNever || load.Outputs != OutputsLines ||
		load.Command.Env["RUN"] != "{{.run.id}}" || load.Command.WorkingDir != "/srv" {
		t.Errorf("load = %+v %+v", load, load.Command)
	}
	for name, action := range map[string]string{"parse": "command", "park": "http", "tell": "publish", "bounce": "service"} {
		if got := w.Steps[name].Action(); got != action {
			t.Errorf("%s's action = %q, want %q", name, got, action)
		}
	}
	if s := w.Steps["park"]; s.If != `steps.parse.status == "failed"` || s.HTTP.URL != "http://h/park/{{.run.id}}" {
		t.Errorf("park = %+v", s)
	}
	if p := w.Steps["tell"].Publish; *p != (StepPublish{Subject: "orders.done", Data: "{{.run.id}}"}) {
		t.Errorf("tell's publish = %+v", p)
	}
	if o := c.Workflows["once"]; o.Concurrency != DefaultWorkflowConcurrency || o.On != nil {
		t.Errorf("once = %+v", o)
	}
	if got := (&Step{}).Action(); got != "" {
		t.Errorf("no action = %q", got)
	}
}

func TestCompileConditionAndTemplate(t *testing.T) {
	prog, err := CompileCondition(`steps.a.status == "succeeded" && trigger.type == "file"`)
	if err != nil || prog == nil {
		t.Fatalf("CompileCondition: %v", err)
	}
	tmpl, err := ParseTemplate(`{{json .steps.a.outputs}}`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, map[string]any{"steps": map[string]any{"a": map[string]any{"outputs": map[string]any{"n": 1}}}}); err != nil || b.String() != `{"n":1}` {
		t.Errorf("template = %q, %v", b.String(), err)
	}
	b.Reset()
	if err := tmpl.Execute(&b, map[string]any{"steps": map[string]any{"a": map[string]any{"outputs": func() {}}}}); err == nil {
		t.Errorf("json of a func: no error")
	}
}

func TestWorkflowErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"cycle", "workflows:\n  w:\n    steps:\n      a: {needs: [c], command: x}\n      b: {needs: [a], command: x}\n      c: {needs: [b], command: x}\n",
			[]string{`steward.yaml:4:19: workflow "w": cycle of needs: a -> c -> b -> a`}},
		{"needs", "workflows:\n  w:\n    steps:\n      load: {needs: [lod, load], command: x}\n",
			[]string{`steward.yaml:4:22: workflow "w" step "load" needs unknown step "lod" (did you mean "load"?)`,
				`steward.yaml:4:27: workflow "w" step "load" needs itself`}},
		{"no steps", "workflows:\n  w: {on: [{schedule: '@daily'}]}\n  v: {steps: {}}\n",
			[]string{`steward.yaml:2:3: workflow "w" needs steps`, `steward.yaml:3:3: workflow "v" needs steps`}},
		{"names", "jobs: {j: {command: x}}\nworkflows:\n  j: {steps: {a: {command: x}}}\n  'a b': {steps: {a: {command: x}}}\n  w: {steps: {'x y': {command: x}}}\n",
			[]string{`steward.yaml:3:3: workflow "j" has the name of a job: runs are listed by name`,
				`steward.yaml:4:3: workflow name "a b" must be 1 to 64 letters`,
				`steward.yaml:5:3: workflow "w" needs steps`,
				`steward.yaml:5:15: step name "x y" must be 1 to 64 letters`}},
		// A condition's error is at its token in the file, for each style
		// of scalar.
		{"if plain", "workflows:\n  w:\n    steps:\n      a: {command: x, if: steps.a.status ==}\n",
			[]string{`steward.yaml:4:43: workflow "w" step "a": if: unexpected token EOF (at 1:17 of the condition)`}},
		{"if quoted", "workflows:\n  w:\n    steps:\n      a: {command: x, if: 'steps.a.status == \"ok\" &&'}\n",
			[]string{`steward.yaml:4:52: workflow "w" step "a": if: unexpected token EOF (at 1:25 of the condition)`}},
		{"if block", "workflows:\n  w:\n    steps:\n      a:\n        command: x\n        if: |\n          true &&\n          nope(1)\n",
			[]string{`steward.yaml:8:13: workflow "w" step "a": if: unknown name nope (at 2:1 of the condition)`}},
		{"if empty or not a bool", "workflows:\n  w:\n    steps:\n      a: {command: x, if: ' '}\n      b: {command: x, if: '1 + 2'}\n",
			[]string{`steward.yaml:4:27: workflow "w" step "a": if: the condition is empty`,
				`steward.yaml:5:27: workflow "w" step "b": if: expected bool, but got int`}},
		{"templates", "workflows:\n  w:\n    steps:\n      a: {command: 'x {{.steps.a', env: {A: '{{end}}'}}\n      b: {http: {url: 'http://h/{{if}}'}}\n      c: {publish: {subject: 'a.{{', data: '{{.x'}}\nbus: {}\n",
			[]string{`steward.yaml:4:20: workflow "w" step "a": command: template "{{.steps.a": unclosed action`,
				`steward.yaml:4:41: workflow "w" step "a": env: template "{{end}}": unexpected {{end}}`,
				`steward.yaml:5:17: workflow "w" step "b": http.url: template "http://h/{{if}}": missing value for if`,
				`steward.yaml:6:30: workflow "w" step "c": publish.subject: template "a.{{": unclosed action`,
				`steward.yaml:6:44: workflow "w" step "c": publish.data: template "{{.x": unclosed action`}},
		{"triggers", "workflows:\n  w:\n    on:\n      - {schedule: '@daily', subject: a.b}\n      - {timezone: UTC, file: {glob: '*.csv'}}\n      - {}\n" +
			"      - {schedule: '61 * * * *'}\n      - {schedule: '@daily', timezone: Mars/Base}\n      - {subject: 'a..b'}\n    steps: {a: {command: x}}\n",
			[]string{`steward.yaml:4:30: workflow "w": a trigger is one of schedule, subject, file, event; schedule (at 4:10) and subject are two: make them two items of on:`,
				`steward.yaml:5:20: workflow "w": timezone is for a schedule trigger`,
				`steward.yaml:6:9: workflow "w": a trigger needs one of schedule, subject, file, event`,
				`steward.yaml:7:20: workflow "w": invalid schedule: `,
				`steward.yaml:8:40: workflow "w": unknown time zone "Mars/Base"`,
				`steward.yaml:9:19: workflow "w": a subject trigger needs the bus: add a bus: section`,
				`steward.yaml:9:19: workflow "w": subject "a..b" has an empty token`}},
		{"the bus", "workflows:\n  w:\n    on: {subject: a.b}\n    steps: {a: {publish: {subject: c.d}}}\n",
			[]string{`steward.yaml:3:19: workflow "w": a subject trigger needs the bus: add a bus: section`,
				`steward.yaml:4:36: workflow "w" step "a": publish needs the bus: add a bus: section`}},
		{"file", "workflows:\n  w:\n    on: [{file: {settle: 1s}}, {file: {glob: '[', settle: -1s}}]\n    steps: {a: {command: x}}\n",
			[]string{`steward.yaml:3:17: workflow "w": a file trigger needs a glob`,
				`steward.yaml:3:46: workflow "w": file.glob "`,
				`steward.yaml:3:59: file.settle: duration must not be negative`}},
		{"event", "services: {api: {command: x}}\nworkflows:\n  w:\n    on: [{event: {}}, {event: {alert: critical, service: api}}, {event: {service: apj}}, {event: {alert: loud}}, {event: {state: gone}}]\n    steps: {a: {command: x}}\n",
			[]string{`steward.yaml:4:18: workflow "w": an event trigger needs alert: SEVERITY, or service: NAME with state: STATE`,
				`steward.yaml:4:31: workflow "w": an event trigger is an alert or a service's state, not both: make them two triggers`,
				`steward.yaml:4:83: workflow "w": event.service "apj" is not declared in services (did you mean "api"?)`,
				`steward.yaml:4:106: event.alert "loud" is not one of *, info, warning, critical`,
				`steward.yaml:4:130: event.state "gone" is not one of failed, exited, backoff, running, stopped`}},
		{"actions", "services: {api: {command: x}}\nworkflows:\n  w:\n    steps:\n      a: {needs: []}\n      b: {command: x, http: {url: 'http://h/'}}\n" +
			"      c: {http: {url: 'http://h/'}, env: {A: b}}\n      d: {service: {restart: apj}}\n      e: {publish: {data: x}, outputs: json}\n" +
			"      f: {publish: {subject: 'a.*'}}\n      g: {publish: {subject: 'a b'}}\n" +
			"      h: {command: x, outputs: yaml, rerun: maybe, retries: {max: -1, backoff: 0s}, timeout: 0s}\nbus: {}\n",
			[]string{`steward.yaml:5:7: workflow "w" step "a" needs an action: one of command, http, service, publish`,
				`steward.yaml:6:23: workflow "w" step "b" has two actions, command (at 6:11) and http: give it one`,
				`steward.yaml:7:37: workflow "w" step "c": env is for command steps`,
				`steward.yaml:8:20: workflow "w" step "d": service "apj" is not declared in services`,
				`steward.yaml:9:7: workflow "w" step "e": a publish step has no output for outputs:`,
				`steward.yaml:9:20: workflow "w" step "e": publish needs a subject`,
				`steward.yaml:10:30: workflow "w" step "f": publish.subject "a.*" must not have wildcards`,
				`steward.yaml:11:30: workflow "w" step "g": publish.subject "a b" has white space`,
				`steward.yaml:12:32: outputs "yaml" is not one of json, lines`,
				`steward.yaml:12:45: rerun "maybe" is not one of always, never`,
				`steward.yaml:12:67: retries.max must not be negative`,
				`steward.yaml:12:80: retries.backoff must be more than 0`,
				`steward.yaml:12:94: timeout must be more than 0`}},
		{"policies", "workflows:\n  w: {steps: {a: {command: x}}, concurrency: sometimes, timeout: soon, retries: 3}\n",
			[]string{`steward.yaml:2:46: concurrency "sometimes" is not one of allow, forbid, replace`,
				`steward.yaml:2:66: timeout: invalid duration "soon"`,
				`steward.yaml:2:72: unknown key "retries"`}},
		{"runs", "runs: {keep: 0, max_age: -1h}\n",
			[]string{`steward.yaml:1:14: runs.keep must be at least 1: each job's newest run is kept`,
				`steward.yaml:1:26: runs.max_age: duration must not be negative`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src)
			if len(got) != len(tt.want) {
				t.Fatalf("errors:\n%s\nwant:\n%s", join(got), join(tt.want))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d:\n got %s\nwant %s…", i, got[i], tt.want[i])
				}
			}
		})
	}
}
