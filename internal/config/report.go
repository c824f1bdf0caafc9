package config

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"go.yaml.in/yaml/v3"
)

// DefaultReportSince is the range of a report job that names no since.
const DefaultReportSince = 7 * 24 * time.Hour

// JobReport is a report action: the report of the Since before the run's
// time, of Services (none is every service), written in Format to Out and
// sent through the notifiers Notify names.
type JobReport struct {
	Since    time.Duration `json:"since"`
	Services []string      `json:"services,omitempty"`
	Format   string        `json:"format"`
	// Out is the directory each run writes a new file into, named after
	// the job and the run's time (data_dir/reports by default); or, when
	// File is set (out ends in .FORMAT), the file each run replaces.
	Out    string   `json:"out"`
	File   bool     `json:"file,omitempty"`
	Notify []string `json:"notify,omitempty"`
}

func (p *parser) jobReport(what string, n *yaml.Node) *JobReport {
	r := &JobReport{Since: DefaultReportSince, Format: steward.ReportHTML}
	var out *yaml.Node
	type named struct {
		name string
		at   *yaml.Node
	}
	var services, notifiers []named
	for _, f := range p.fields(n, "report", "since", "services", "format", "out", "notify") {
		v := f.val
		switch k := f.key.Value; k {
		case "since":
			if s, ok := p.str(v, "report.since"); ok {
				d, err := ParseSpan(s)
				if err != nil || d <= 0 {
					p.errorf(v, "report.since %q: want a span like 7d, 24h or 1w2d", s)
				} else {
					r.Since = d
				}
			}
		case "format":
			r.Format = p.oneOf(v, "report.format", r.Format, steward.ReportHTML, steward.ReportXLSX, steward.ReportCSV, steward.ReportJSON)
		case "out":
			if s, ok := p.path(v, "report.out"); ok {
				r.Out, out = s, v
			}
		case "services", "notify":
			for _, s := range p.strings(v, "report."+k) {
				name, ok := p.str(s, "report."+k)
				if !ok {
					continue
				}
				if k == "services" {
					r.Services = append(r.Services, name)
					services = append(services, named{name, s})
				} else {
					r.Notify = append(r.Notify, name)
					notifiers = append(notifiers, named{name, s})
				}
			}
		}
	}
	if out != nil && strings.EqualFold(filepath.Ext(r.Out), "."+r.Format) {
		r.File = true
	}
	p.later = append(p.later, func(c *Config) {
		if out == nil {
			r.Out = filepath.Join(c.DataDir, "reports")
		}
		for _, s := range services {
			if p.declared[s.name] == nil {
				p.errorf(s.at, "%s: report.services: service %q is not declared in services", what, s.name)
			}
		}
		for _, s := range notifiers {
			if c.Notify[s.name] == nil {
				p.errorf(s.at, "%s: report.notify: notifier %q is not declared in notify%s", what, s.name, suggest(s.name, c.NotifyOrder))
			}
		}
	})
	return r
}
