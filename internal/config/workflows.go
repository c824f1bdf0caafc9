package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of a workflow.
const (
	DefaultWorkflowConcurrency = ConcurrencyAllow
	DefaultSettle              = 2 * time.Second
	RerunAlways                = "always" // a step steward died in runs again, with the same idempotency key
	RerunNever                 = "never"  // it is marked lost instead
	OutputsJSON                = "json"   // the step's output is one JSON object: its outputs
	OutputsLines               = "lines"  // each key=value line of the output is an output
)

// EventStates are the service states an event trigger may wait for.
var EventStates = []string{"failed", "exited", "backoff", "running", "stopped"}

// Workflow is one entry of the workflows: section: triggers and a DAG of
// steps.
type Workflow struct {
	Name string `json:"name"`
	// On are the triggers; a workflow also runs when asked (API, CLI),
	// with or without them.
	On []Trigger `json:"on,omitempty"`
	// Steps by name; StepOrder holds the names in file order.
	Steps     map[string]*Step `json:"steps"`
	StepOrder []string         `json:"step_order"`
	// Timeout bounds a whole run; 0 is no bound.
	Timeout     time.Duration `json:"timeout,omitempty"`
	Concurrency string        `json:"concurrency"`
}

// Trigger is one item of a workflow's on: list; exactly one of its
// fields (Schedule with Timezone, Subject, File, Event) is set.
type Trigger struct {
	Schedule string        `json:"schedule,omitempty"`
	Timezone string        `json:"timezone,omitempty"`
	Subject  string        `json:"subject,omitempty"`
	File     *FileTrigger  `json:"file,omitempty"`
	Event    *EventTrigger `json:"event,omitempty"`
}

// FileTrigger fires once for each file matching Glob whose size stopped
// changing for Settle.
type FileTrigger struct {
	Glob   string        `json:"glob"` // absolute
	Settle time.Duration `json:"settle"`
}

// EventTrigger fires on a steward event: an alert that fires with
// severity Alert (one of info, warning, critical; "*" for any), or a
// service (Service, "*" for any) that reaches State.
type EventTrigger struct {
	Alert   string `json:"alert,omitempty"`
	Service string `json:"service,omitempty"`
	State   string `json:"state,omitempty"`
}

// Step is one step of a workflow: an action, run once the steps it needs
// have ended and its condition holds.
type Step struct {
	Name  string   `json:"name"`
	Needs []string `json:"needs,omitempty"`
	// If is an expression (expr-lang) over steps, trigger, inputs and
	// run, valid for CompileCondition; "" means every step it needs
	// succeeded.
	If string `json:"if,omitempty"`
	// Exactly one of Command, HTTP, Service and Publish is set. Their
	// strings (the command's words, env values, the url, the subject and
	// data) are templates, valid for ParseTemplate.
	Command *JobCommand  `json:"command,omitempty"`
	HTTP    *JobHTTP     `json:"http,omitempty"`
	Service *JobService  `json:"service,omitempty"`
	Publish *StepPublish `json:"publish,omitempty"`
	// Outputs says how the step's output becomes its outputs: "",
	// OutputsJSON or OutputsLines.
	Outputs string        `json:"outputs,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`
	Retries Retries       `json:"retries"`
	// Rerun is RerunAlways or RerunNever: what a step that was running
	// when steward died does once steward runs again.
	Rerun string `json:"rerun"`
}

// StepPublish publishes Data on Subject of the bus.
type StepPublish struct {
	Subject string `json:"subject"`
	Data    string `json:"data,omitempty"`
}

// Action names the action of s.
func (s *Step) Action() string {
	switch {
	case s.Command != nil:
		return "command"
	case s.HTTP != nil:
		return "http"
	case s.Service != nil:
		return "service"
	case s.Publish != nil:
		return "publish"
	}
	return ""
}

// workflows reads the top-level workflows section.
func (p *parser) workflows(n *yaml.Node, c *Config) {
	fields, _ := p.mapping(n, "workflows", func(name, first string) string {
		return fmt.Sprintf("duplicate workflow %q (first at %s)", name, first)
	})
	for _, f := range fields {
		name := f.key.Value
		if msg := checkName(name); msg != "" {
			p.errorf(f.key, "%s", strings.Replace(msg, "service name", "workflow name", 1))
			continue
		}
		if _, ok := c.Jobs[name]; ok {
			p.errorf(f.key, "workflow %q has the name of a job: runs are listed by name", name)
			continue
		}
		if w := p.workflow(name, f.key, f.val); w != nil {
			c.Workflows[name] = w
			c.WorkflowOrder = append(c.WorkflowOrder, name)
		}
	}
}

func (p *parser) workflow(name string, key, n *yaml.Node) *Workflow {
	what := fmt.Sprintf("workflow %q", name)
	w := &Workflow{Name: name, Steps: map[string]*Step{}, Concurrency: DefaultWorkflowConcurrency}
	fields, ok := p.keys(n, what, "on", "steps", "timeout", "concurrency")
	if !ok {
		return nil
	}
	var steps *yaml.Node
	for _, f := range fields {
		switch k := f.key.Value; k {
		case "on":
			w.On = p.triggers(f.val, what)
		case "steps":
			steps = f.val
			p.steps(f.val, w)
		case "timeout":
			w.Timeout, _ = p.positive(f.val, k)
		case "concurrency":
			w.Concurrency = p.oneOf(f.val, k, w.Concurrency, ConcurrencyAllow, ConcurrencyForbid, ConcurrencyReplace)
		}
	}
	if steps == nil || len(w.StepOrder) == 0 && !p.failedAt(steps) {
		p.errorf(key, "%s needs steps", what)
		return nil
	}
	p.checkSteps(w)
	return w
}

// failedAt reports whether a problem was found at n already.
func (p *parser) failedAt(n *yaml.Node) bool {
	for _, e := range p.errs {
		if e.Line == n.Line && e.Col == n.Column {
			return true
		}
	}
	return false
}

var triggerKeys = []string{"schedule", "subject", "file", "event"}

// triggers reads the on: list of a workflow: one trigger or a list of them.
func (p *parser) triggers(n *yaml.Node, what string) []Trigger {
	v := p.deref(n)
	items := []*yaml.Node{n}
	switch {
	case isNull(v):
		return nil
	case v.Kind == yaml.SequenceNode:
		items = v.Content
	}
	var out []Trigger
	for _, item := range items {
		if t, ok := p.trigger(item, what); ok {
			out = append(out, t)
		}
	}
	return out
}

func (p *parser) trigger(n *yaml.Node, what string) (Trigger, bool) {
	var t Trigger
	fields, ok := p.keys(n, what+": a trigger", "schedule", "timezone", "subject", "file", "event")
	if !ok {
		return t, false
	}
	var kind, schedule, zone *yaml.Node
	for _, f := range fields {
		k := f.key.Value
		if k == "timezone" {
			if s, ok := p.str(f.val, k); ok {
				t.Timezone, zone = s, f.val
			}
			continue
		}
		if kind != nil {
			p.errorf(f.key, "%s: a trigger is one of %s; %s (at %d:%d) and %s are two: make them two items of on:",
				what, strings.Join(triggerKeys, ", "), kind.Value, kind.Line, kind.Column, k)
			return t, false
		}
		kind = f.key
		switch k {
		case "schedule":
			if s, ok := p.str(f.val, k); ok {
				t.Schedule, schedule = s, f.val
			}
		case "subject":
			if s, ok := p.str(f.val, k); ok {
				t.Subject = s
				if msg := subjectProblem(s); msg != "" {
					p.errorf(f.val, "%s: subject %q %s", what, s, msg)
				}
				at := f.val
				p.later = append(p.later, func(c *Config) {
					if c.Bus == nil {
						p.errorf(at, "%s: a subject trigger needs the bus: add a bus: section", what)
					}
				})
			}
		case "file":
			t.File = p.fileTrigger(f.val, what)
		case "event":
			t.Event = p.eventTrigger(f.val, what)
		}
	}
	switch {
	case kind == nil:
		p.errorf(n, "%s: a trigger needs one of %s", what, strings.Join(triggerKeys, ", "))
		return t, false
	case zone != nil && schedule == nil:
		p.errorf(zone, "%s: timezone is for a schedule trigger", what)
	case schedule != nil:
		if _, err := ParseSchedule(t.Schedule, t.Timezone); err != nil {
			at := schedule
			if zone != nil && strings.Contains(err.Error(), "time zone") {
				at = zone
			}
			p.errorf(at, "%s: %v", what, err)
		}
	}
	return t, true
}

// subjectProblem says what is wrong with a bus subject to subscribe to,
// or "" when nothing is.
func subjectProblem(s string) string {
	if s == "" {
		return "is empty"
	}
	for i, tok := range strings.Split(s, ".") {
		switch {
		case tok == "":
			return "has an empty token"
		case strings.ContainsAny(tok, " \t\r\n"):
			return "has white space"
		case tok == ">" && i != strings.Count(s, "."):
			return "has > before its last token"
		case tok != "*" && tok != ">" && strings.ContainsAny(tok, "*>"):
			return "has a wildcard inside a token"
		}
	}
	return ""
}

func (p *parser) fileTrigger(n *yaml.Node, what string) *FileTrigger {
	ft := &FileTrigger{Settle: DefaultSettle}
	var glob *yaml.Node
	for _, f := range p.fields(n, "file", "glob", "settle") {
		switch f.key.Value {
		case "glob":
			if s, ok := p.path(f.val, "file.glob"); ok {
				ft.Glob, glob = s, f.val
				if _, err := filepath.Match(s, ""); err != nil {
					p.errorf(f.val, "%s: file.glob %q: %v", what, s, err)
				}
			}
		case "settle":
			if d, ok := p.positive(f.val, "file.settle"); ok {
				ft.Settle = d
			}
		}
	}
	if glob == nil {
		p.errorf(n, "%s: a file trigger needs a glob", what)
	}
	return ft
}

func (p *parser) eventTrigger(n *yaml.Node, what string) *EventTrigger {
	et := &EventTrigger{}
	var svc, state *yaml.Node
	fields := p.fields(n, "event", "alert", "service", "state")
	for _, f := range fields {
		switch f.key.Value {
		case "alert":
			et.Alert = p.oneOf(f.val, "event.alert", "", "*", "info", "warning", "critical")
		case "service":
			if s, ok := p.str(f.val, "event.service"); ok {
				et.Service, svc = s, f.val
			}
		case "state":
			if s := p.oneOf(f.val, "event.state", "", EventStates...); s != "" {
				et.State, state = s, f.val
			}
		}
	}
	switch {
	case len(fields) == 0:
		p.errorf(n, "%s: an event trigger needs alert: SEVERITY, or service: NAME with state: STATE", what)
	case et.Alert != "" && (svc != nil || state != nil):
		p.errorf(n, "%s: an event trigger is an alert or a service's state, not both: make them two triggers", what)
	case svc != nil && state == nil:
		et.State = "failed"
	case state != nil && svc == nil:
		et.Service = "*"
	}
	if svc != nil && et.Service != "*" {
		name := et.Service
		p.later = append(p.later, func(c *Config) {
			if p.declared[name] == nil {
				p.errorf(svc, "%s: event.service %q is not declared in services%s", what, name, suggest(name, c.Order))
			}
		})
	}
	return et
}

// steps reads the steps: mapping of w.
func (p *parser) steps(n *yaml.Node, w *Workflow) {
	fields, _ := p.mapping(n, "steps", func(name, first string) string {
		return fmt.Sprintf("duplicate step %q (first at %s)", name, first)
	})
	for _, f := range fields {
		name := f.key.Value
		if msg := checkName(name); msg != "" {
			p.errorf(f.key, "%s", strings.Replace(msg, "service name", "step name", 1))
			continue
		}
		if s := p.step(w.Name, name, f.key, f.val); s != nil {
			w.Steps[name] = s
			w.StepOrder = append(w.StepOrder, name)
		}
	}
}

var stepActions = []string{"command", "http", "service", "publish"}

func (p *parser) step(wf, name string, key, n *yaml.Node) *Step {
	what := fmt.Sprintf("workflow %q step %q", wf, name)
	s := &Step{Name: name, Rerun: RerunAlways, Retries: Retries{Backoff: DefaultRetryBackoff}}
	fields, ok := p.keys(n, what, "needs", "if", "command", "env", "working_dir", "user", "group", "http",
		"service", "publish", "outputs", "timeout", "retries", "rerun")
	if !ok {
		return nil
	}
	var action, cmdOnly *yaml.Node
	cmd := &JobCommand{}
	for _, f := range fields {
		v := f.val
		switch k := f.key.Value; k {
		case "needs":
			items := p.strings(v, "needs")
			for _, item := range items {
				s.Needs = append(s.Needs, resolve(item).Value)
			}
			p.needs[stepKey{wf, name}] = items
		case "if":
			if src, ok := p.str(v, k); ok {
				s.If = src
				if _, err := CompileCondition(src); err != nil {
					p.exprError(v, what, err)
				}
			}
		case "outputs":
			s.Outputs = p.oneOf(v, k, "", OutputsJSON, OutputsLines)
		case "timeout":
			s.Timeout, _ = p.positive(v, k)
		case "rerun":
			s.Rerun = p.oneOf(v, k, s.Rerun, RerunAlways, RerunNever)
		case "retries":
			for _, f := range p.fields(v, "retries", "max", "backoff") {
				if f.key.Value == "max" {
					s.Retries.Max, _ = p.count(f.val, "retries.max")
				} else if d, ok := p.positive(f.val, "retries.backoff"); ok {
					s.Retries.Backoff = d
				}
			}
		case "command", "http", "service", "publish":
			if action != nil {
				p.errorf(f.key, "%s has two actions, %s (at %d:%d) and %s: give it one", what, action.Value, action.Line, action.Column, k)
				continue
			}
			action = f.key
			switch k {
			case "command":
				cmd.Command = p.stepCommand(v)
				s.Command = cmd
				for _, w := range cmd.Command {
					p.template(v, what, "command", w)
				}
			case "http":
				s.HTTP = p.jobHTTP(v)
				p.template(v, what, "http.url", s.HTTP.URL)
			case "service":
				s.Service = p.jobService(v)
				if s.Service != nil {
					p.laterService(what, s.Service.Service, resolve(v))
				}
			case "publish":
				s.Publish = p.publish(v, what)
			}
		case "env", "working_dir", "user", "group":
			if cmdOnly == nil {
				cmdOnly = f.key
			}
			switch k {
			case "env":
				cmd.Env = p.env(v)
				for _, e := range cmd.Env {
					p.template(v, what, "env", e)
				}
			case "working_dir":
				cmd.WorkingDir, _ = p.path(v, k)
			case "user":
				cmd.User, _ = p.str(v, k)
			case "group":
				cmd.Group, _ = p.str(v, k)
			}
		}
	}
	switch {
	case action == nil:
		p.errorf(key, "%s needs an action: one of %s", what, strings.Join(stepActions, ", "))
	case cmdOnly != nil && s.Command == nil:
		p.errorf(cmdOnly, "%s: %s is for command steps", what, cmdOnly.Value)
	case s.Publish != nil && s.Outputs != "":
		p.errorf(key, "%s: a publish step has no output for outputs:", what)
	}
	return s
}

// stepCommand reads a step's command as a service's command is read, but
// a string is split into words around its template actions: the spaces in
// "{{json .steps.a.outputs.rows}}" do not split it.
func (p *parser) stepCommand(n *yaml.Node) []string {
	v := p.deref(n)
	if v.Kind != yaml.ScalarNode || !strings.Contains(v.Value, "{{") {
		words, _ := p.command(n, "command")
		return words
	}
	var actions []string
	var b strings.Builder
	for rest := v.Value; ; {
		i := strings.Index(rest, "{{")
		j := strings.Index(rest[max(i, 0):], "}}")
		if i < 0 || j < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		fmt.Fprintf(&b, "\x01%d\x01", len(actions))
		actions = append(actions, rest[i:i+j+2])
		rest = rest[i+j+2:]
	}
	protected := *v
	protected.Value = b.String()
	words, _ := p.command(&protected, "command")
	for i, w := range words {
		for k, a := range actions {
			w = strings.Replace(w, fmt.Sprintf("\x01%d\x01", k), a, 1)
		}
		words[i] = w
	}
	return words
}

func (p *parser) laterService(what, svc string, at *yaml.Node) {
	p.later = append(p.later, func(c *Config) {
		if p.declared[svc] == nil {
			p.errorf(at, "%s: service %q is not declared in services", what, svc)
		}
	})
}

func (p *parser) publish(n *yaml.Node, what string) *StepPublish {
	pub := &StepPublish{}
	var subject *yaml.Node
	for _, f := range p.fields(n, "publish", "subject", "data") {
		s, ok := p.str(f.val, "publish."+f.key.Value)
		if !ok {
			continue
		}
		p.template(f.val, what, "publish."+f.key.Value, s)
		if f.key.Value == "subject" {
			pub.Subject, subject = s, f.val
			if msg := subjectProblem(s); msg != "" && !strings.Contains(s, "{{") {
				p.errorf(f.val, "%s: publish.subject %q %s", what, s, msg)
			} else if strings.ContainsAny(s, "*>") {
				p.errorf(f.val, "%s: publish.subject %q must not have wildcards", what, s)
			}
		} else {
			pub.Data = s
		}
	}
	if subject == nil {
		p.errorf(n, "%s: publish needs a subject", what)
		return pub
	}
	p.later = append(p.later, func(c *Config) {
		if c.Bus == nil {
			p.errorf(subject, "%s: publish needs the bus: add a bus: section", what)
		}
	})
	return pub
}

// checkSteps reports needs that name no step of w, and every cycle of
// needs, with its path.
func (p *parser) checkSteps(w *Workflow) {
	edges := map[string]map[string]*yaml.Node{}
	for _, name := range w.StepOrder {
		for _, item := range p.needs[stepKey{w.Name, name}] {
			dep := resolve(item).Value
			switch {
			case dep == name:
				p.errorf(item, "workflow %q step %q needs itself", w.Name, name)
			case w.Steps[dep] == nil:
				p.errorf(item, "workflow %q step %q needs unknown step %q%s", w.Name, name, dep, suggest(dep, w.StepOrder))
			default:
				if edges[name] == nil {
					edges[name] = map[string]*yaml.Node{}
				}
				edges[name][dep] = item
			}
		}
	}
	for _, cycle := range cycles(w.StepOrder, edges) {
		p.errorf(edges[cycle[0]][cycle[1]], "workflow %q: cycle of needs: %s", w.Name, strings.Join(cycle, " -> "))
	}
}

// cycles returns each cycle of the graph edges over nodes once, from its
// smallest name and back to it.
func cycles(nodes []string, edges map[string]map[string]*yaml.Node) [][]string {
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var out [][]string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		state[name] = onPath
		path = append(path, name)
		deps := make([]string, 0, len(edges[name]))
		for d := range edges[name] {
			deps = append(deps, d)
		}
		slices.Sort(deps)
		for _, dep := range deps {
			switch state[dep] {
			case unvisited:
				visit(dep)
			case onPath:
				loop := path[slices.Index(path, dep):]
				first := slices.Index(loop, slices.Min(loop))
				cycle := slices.Concat(loop[first:], loop[:first], loop[first:first+1])
				if text := strings.Join(cycle, " -> "); !seen[text] {
					seen[text] = true
					out = append(out, cycle)
				}
			}
		}
		path = path[:len(path)-1]
		state[name] = done
	}
	for _, n := range nodes {
		if state[n] == unvisited {
			visit(n)
		}
	}
	return out
}
