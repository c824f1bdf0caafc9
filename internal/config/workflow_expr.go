package config

import (
	"encoding/json"
	"errors"
	"strings"
	"text/template"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"
)

// The names a step's condition and templates see: steps.NAME.status,
// steps.NAME.outputs.KEY and steps.NAME.exit_code of the steps that ended;
// trigger.type and what the trigger tells (file, subject, data, service,
// state, alert, severity); inputs.KEY of a run asked for with inputs; and
// run.id, run.workflow.
var conditionNames = []string{"steps", "trigger", "inputs", "run"}

func conditionEnv() map[string]any {
	env := make(map[string]any, len(conditionNames))
	for _, n := range conditionNames {
		env[n] = map[string]any{}
	}
	return env
}

// CompileCondition compiles src, a step's if:, into a program that
// returns a bool from an environment of steps, trigger, inputs and run
// (maps). A program is safe for concurrent use.
func CompileCondition(src string) (*vm.Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("the condition is empty")
	}
	return expr.Compile(src, expr.Env(conditionEnv()), expr.AsBool())
}

// ParseTemplate parses text, a string of a step, as a Go template over
// the names of a condition ({{.steps.a.outputs.n}}, {{.trigger.file}},
// {{.run.id}}); a missing key is an error when it runs. The function json
// writes a value as JSON: {{json .steps.a.outputs.rows}}.
func ParseTemplate(text string) (*template.Template, error) {
	return template.New("").Option("missingkey=error").Funcs(template.FuncMap{"json": toJSON}).Parse(text)
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// template reports a problem of the template text, the value of n or a
// part of it.
func (p *parser) template(n *yaml.Node, what, field, text string) {
	if !strings.Contains(text, "{{") {
		return
	}
	if _, err := ParseTemplate(text); err != nil {
		msg := err.Error()
		// "template: :1: unexpected ..." names no file of ours.
		if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "template: ") && i >= 0 {
			if j := strings.Index(msg[i+2:], ": "); j >= 0 {
				msg = msg[i+2+j+2:]
			}
		}
		p.errorf(n, "%s: %s: template %q: %s", what, field, text, msg)
	}
}

// exprError reports err, from compiling the condition n, at its position
// in the file.
func (p *parser) exprError(n *yaml.Node, what string, err error) {
	v := resolve(n)
	var fe *file.Error
	if !errors.As(err, &fe) {
		p.errorf(n, "%s: if: %v", what, err)
		return
	}
	at := *v
	switch v.Style {
	case 0, yaml.TaggedStyle:
		if fe.Line <= 1 {
			at.Column += fe.Column
		}
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		if fe.Line <= 1 {
			at.Column += fe.Column + 1
		}
	default: // a block scalar: its text begins on the next line
		at.Line += max(fe.Line, 1)
	}
	p.errorf(&at, "%s: if: %s (at %d:%d of the condition)", what, fe.Message, max(fe.Line, 1), fe.Column+1)
}
