package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// JobWorkbook is a workbook action, what a pywin32 script does with Excel:
// a session of the workbook service Service, blank or from Template (a
// file under the service's dir), written by each of Writes in turn, saved
// as SaveAs (under the dir too; {{.job}} and {{.run.id}} are filled in),
// and closed.
type JobWorkbook struct {
	Service  string          `json:"service"`
	Template string          `json:"template,omitempty"`
	Writes   []WorkbookWrite `json:"writes"`
	SaveAs   string          `json:"save_as"`
}

// WorkbookWrite writes the rows Command prints on its stdout — a JSON
// array of arrays, as the API's write takes — at Cell (default A1) of
// Sheet.
type WorkbookWrite struct {
	Sheet   string   `json:"sheet"`
	Cell    string   `json:"cell,omitempty"`
	Command []string `json:"command"`
}

// jobWorkbook reads a job's workbook action.
func (p *parser) jobWorkbook(what string, n *yaml.Node) *JobWorkbook {
	wb := &JobWorkbook{}
	var service *yaml.Node
	for _, f := range p.fields(n, "workbook", "service", "template", "writes", "save_as") {
		v := f.val
		switch f.key.Value {
		case "service":
			if s, ok := p.str(v, "workbook.service"); ok {
				wb.Service, service = s, v
			}
		case "template":
			wb.Template, _ = p.str(v, "workbook.template")
		case "save_as":
			if s, ok := p.str(v, "workbook.save_as"); ok {
				wb.SaveAs = s
				p.template(v, what, "workbook.save_as", s)
			}
		case "writes":
			for i, item := range p.list(v, "workbook.writes", "a list of {sheet, cell, command}") {
				if w, ok := p.workbookWrite(fmt.Sprintf("workbook.writes[%d]", i), item); ok {
					wb.Writes = append(wb.Writes, w)
				}
			}
		}
	}
	switch {
	case service == nil:
		p.errorf(n, "%s: workbook needs service: a service of kind workbook", what)
	case wb.SaveAs == "":
		p.errorf(n, "%s: workbook needs save_as: the file it saves, under the service's dir", what)
	}
	if service != nil {
		p.later = append(p.later, func(c *Config) {
			if s := c.Services[wb.Service]; s == nil || s.Kind != "workbook" {
				p.errorf(service, "%s: workbook.service %q is not a service of kind workbook", what, wb.Service)
			}
		})
	}
	return wb
}

// workbookWrite reads one item of workbook.writes, named what in errors.
func (p *parser) workbookWrite(what string, n *yaml.Node) (WorkbookWrite, bool) {
	var w WorkbookWrite
	errs := len(p.errs)
	for _, f := range p.fields(n, what, "sheet", "cell", "command") {
		switch f.key.Value {
		case "sheet":
			w.Sheet, _ = p.str(f.val, what+".sheet")
		case "cell":
			w.Cell, _ = p.str(f.val, what+".cell")
		case "command":
			w.Command, _ = p.command(f.val, what+".command")
		}
	}
	if len(p.errs) > errs {
		return w, false
	}
	if w.Sheet == "" || len(w.Command) == 0 {
		p.errorf(n, "%s needs sheet and command", what)
		return w, false
	}
	return w, true
}
