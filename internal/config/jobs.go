package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of a job.
const (
	DefaultConcurrency  = ConcurrencyForbid
	DefaultMissed       = MissedSkip
	DefaultRetryBackoff = 10 * time.Second
	DefaultHTTPExpect   = 200
	DefaultHTTPTimeout  = 30 * time.Second
)

// Concurrency policies: what a job's run that is due does while an
// earlier run of the job is still running.
const (
	ConcurrencyAllow   = "allow"   // it runs beside it
	ConcurrencyForbid  = "forbid"  // it is recorded as skipped
	ConcurrencyReplace = "replace" // the running one is cancelled, and it runs
)

// Missed-run policies: what steward does on start for the scheduled times
// that passed while it was down.
const (
	MissedSkip = "skip" // nothing
	MissedOnce = "once" // one catch-up run, for the latest of them
	MissedAll  = "all"  // one catch-up run for each of them
)

// Job is one entry of the jobs: section: a schedule and one action.
type Job struct {
	Name string `json:"name"`
	// Tenant is the tenant it belongs to (tenants.go); "" is no tenant:
	// only principals of no tenant see it.
	Tenant string `json:"tenant,omitempty"`
	// Schedule is a cron expression (5 fields, or 6 with seconds first) or
	// a descriptor (@every D, @hourly…@yearly), valid for ParseSchedule
	// with Timezone; "" is a job that runs only when asked.
	Schedule string `json:"schedule,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	// Jitter delays each scheduled run by a random time up to it.
	Jitter      time.Duration `json:"jitter,omitempty"`
	Concurrency string        `json:"concurrency"`
	Missed      string        `json:"missed"`
	// Deadline bounds how late a missed run may still start; 0 is no bound.
	Deadline time.Duration `json:"deadline,omitempty"`
	// Timeout bounds one attempt; 0 is no bound.
	Timeout time.Duration `json:"timeout,omitempty"`
	Retries Retries       `json:"retries"`
	// DeadMan raises an alert when no run of the job succeeded for that
	// long; 0 is off.
	DeadMan time.Duration `json:"dead_man,omitempty"`
	// Exactly one of Command, HTTP, Service, Backup, Report, Publish and
	// Workbook is set.
	Command *JobCommand `json:"command,omitempty"`
	HTTP    *JobHTTP    `json:"http,omitempty"`
	Service *JobService `json:"service,omitempty"`
	Backup  *JobBackup  `json:"backup,omitempty"`
	Report  *JobReport  `json:"report,omitempty"`
	// Publish publishes a message on the bus, as a workflow's step does;
	// its templates see {{.job}} and {{.run.id}}.
	Publish *StepPublish `json:"publish,omitempty"`
	// Workbook fills and saves a workbook (jobworkbook.go).
	Workbook *JobWorkbook `json:"workbook,omitempty"`
}

// Retries says how often a failed run is tried again, after Backoff,
// doubling each time.
type Retries struct {
	Max     int           `json:"max"`
	Backoff time.Duration `json:"backoff"`
}

// JobCommand is a command action: a program run to its end, as a
// service's command is started.
type JobCommand struct {
	Command    []string          `json:"command"`
	Env        map[string]string `json:"env,omitempty"`
	WorkingDir string            `json:"working_dir,omitempty"`
	User       string            `json:"user,omitempty"`
	Group      string            `json:"group,omitempty"`
}

// JobHTTP is an http action: one request, which succeeds with the status
// Expect.
type JobHTTP struct {
	URL     string        `json:"url"`
	Method  string        `json:"method"`
	Expect  int           `json:"expect"`
	Timeout time.Duration `json:"timeout"`
}

// JobService is a service action: Verb (start, stop or restart) of a
// service of the file.
type JobService struct {
	Verb    string `json:"verb"`
	Service string `json:"service"`
}

// jobs reads the top-level jobs section.
func (p *parser) jobs(n *yaml.Node, c *Config) {
	fields, _ := p.mapping(n, "jobs", func(name, first string) string {
		return fmt.Sprintf("duplicate job %q (first at %s)", name, first)
	})
	for _, f := range fields {
		name := f.key.Value
		if msg := checkName(name); msg != "" {
			p.errorf(f.key, "%s", strings.Replace(msg, "service name", "job name", 1))
			continue
		}
		if j := p.job(name, f.key, f.val); j != nil {
			c.Jobs[name] = j
			c.JobOrder = append(c.JobOrder, name)
		}
	}
}

// jobActions are the keys that name a job's action.
var jobActions = []string{"command", "http", "service", "backup", "report", "publish", "workbook"}

func (p *parser) job(name string, key, n *yaml.Node) *Job {
	what := fmt.Sprintf("job %q", name)
	j := &Job{Name: name, Concurrency: DefaultConcurrency, Missed: DefaultMissed,
		Retries: Retries{Backoff: DefaultRetryBackoff}}
	fields, ok := p.keys(n, what, "schedule", "timezone", "jitter", "concurrency", "missed", "deadline", "timeout",
		"retries", "dead_man", "command", "env", "working_dir", "user", "group", "http", "service", "backup", "report", "publish", "workbook", "tenant")
	if !ok {
		return nil
	}
	var schedule, zone, action *yaml.Node
	cmd := &JobCommand{}
	var cmdOnly *yaml.Node // the first of env, working_dir, user and group
	for _, f := range fields {
		v := f.val
		switch k := f.key.Value; k {
		case "tenant":
			j.Tenant = p.tenant(v)
		case "schedule":
			if s, ok := p.str(v, k); ok {
				j.Schedule, schedule = s, v
			}
		case "timezone":
			if s, ok := p.str(v, k); ok {
				j.Timezone, zone = s, v
			}
		case "jitter":
			j.Jitter, _ = p.duration(v, k)
		case "concurrency":
			j.Concurrency = p.oneOf(v, k, j.Concurrency, ConcurrencyAllow, ConcurrencyForbid, ConcurrencyReplace)
		case "missed":
			j.Missed = p.oneOf(v, k, j.Missed, MissedSkip, MissedOnce, MissedAll)
		case "deadline":
			j.Deadline, _ = p.positive(v, k)
		case "timeout":
			j.Timeout, _ = p.positive(v, k)
		case "dead_man":
			j.DeadMan, _ = p.positive(v, k)
		case "retries":
			for _, f := range p.fields(v, "retries", "max", "backoff") {
				if f.key.Value == "max" {
					j.Retries.Max, _ = p.count(f.val, "retries.max")
				} else if d, ok := p.positive(f.val, "retries.backoff"); ok {
					j.Retries.Backoff = d
				}
			}
		case "command", "http", "service", "backup", "report", "publish", "workbook":
			if action != nil {
				p.errorf(f.key, "%s has two actions, %s (at %d:%d) and %s: give it one", what, action.Value, action.Line, action.Column, k)
				continue
			}
			action = f.key
			switch k {
			case "command":
				cmd.Command, _ = p.command(v, k)
				j.Command = cmd
			case "http":
				j.HTTP = p.jobHTTP(v)
			case "service":
				j.Service = p.jobService(v)
			case "backup":
				j.Backup = p.jobBackup(v)
			case "report":
				j.Report = p.jobReport(what, v)
			case "publish":
				j.Publish = p.publish(v, what)
			case "workbook":
				j.Workbook = p.jobWorkbook(what, v)
			}
		case "env", "working_dir", "user", "group":
			if cmdOnly == nil {
				cmdOnly = f.key
			}
			switch k {
			case "env":
				cmd.Env = p.env(v)
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
		p.errorf(key, "%s needs an action: one of %s", what, strings.Join(jobActions, ", "))
	case cmdOnly != nil && j.Command == nil:
		p.errorf(cmdOnly, "%s: %s is for command jobs", what, cmdOnly.Value)
	}
	if schedule != nil {
		if _, err := ParseSchedule(j.Schedule, j.Timezone); err != nil {
			at := schedule
			if zone != nil && strings.Contains(err.Error(), "time zone") {
				at = zone
			}
			p.errorf(at, "%s: %v", what, err)
		}
	} else if zone != nil || j.Jitter != 0 || j.Missed != MissedSkip {
		p.errorf(key, "%s: timezone, jitter and missed need a schedule", what)
	}
	if j.Service != nil {
		svc := j.Service.Service
		at := resolve(n)
		p.later = append(p.later, func(c *Config) {
			if p.declared[svc] == nil {
				p.errorf(at, "%s: service %q is not declared in services", what, svc)
			}
		})
	}
	return j
}

// oneOf returns the string n, which must be one of allowed, or def when
// it is null or not valid.
func (p *parser) oneOf(n *yaml.Node, what, def string, allowed ...string) string {
	s, ok := p.str(n, what)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	p.errorf(n, "%s %q is not one of %s%s", what, s, strings.Join(allowed, ", "), suggest(s, allowed))
	return def
}

func (p *parser) jobHTTP(n *yaml.Node) *JobHTTP {
	h := &JobHTTP{Method: "GET", Expect: DefaultHTTPExpect, Timeout: DefaultHTTPTimeout}
	var urlNode *yaml.Node
	for _, f := range p.fields(n, "http", "url", "method", "expect", "timeout") {
		switch f.key.Value {
		case "url":
			if s, ok := p.str(f.val, "http.url"); ok {
				h.URL, urlNode = s, f.val
				if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					p.errorf(f.val, "http.url %q must be an http:// or https:// URL", s)
				}
			}
		case "method":
			h.Method = p.oneOf(f.val, "http.method", h.Method, "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
		case "expect":
			if c, ok := p.count(f.val, "http.expect"); ok {
				if c < 100 || c > 599 {
					p.errorf(f.val, "http.expect %d is not an HTTP status", c)
				} else {
					h.Expect = c
				}
			}
		case "timeout":
			if d, ok := p.positive(f.val, "http.timeout"); ok {
				h.Timeout = d
			}
		}
	}
	if urlNode == nil {
		p.errorf(n, "http needs a url")
	}
	return h
}

func (p *parser) jobService(n *yaml.Node) *JobService {
	var s *JobService
	fields := p.fields(n, "service", "start", "stop", "restart")
	for _, f := range fields {
		name, ok := p.str(f.val, "service."+f.key.Value)
		if !ok {
			continue
		}
		if s != nil {
			p.errorf(f.key, "service takes one of start, stop and restart")
			continue
		}
		s = &JobService{Verb: f.key.Value, Service: name}
	}
	if s == nil && len(fields) == 0 {
		p.errorf(n, "service needs one of start, stop and restart: a service name")
	}
	return s
}
