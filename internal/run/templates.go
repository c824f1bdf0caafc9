package run

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/stewardhq/steward/internal/config"
)

// compiled caches the compiled conditions and parsed templates of the
// workflows by their text; it is safe for concurrent use.
type compiled struct {
	conds     syncMap[*vm.Program]
	templates syncMap[*template.Template]
}

// condition evaluates the condition src over data.
func (e *Engine) condition(src string, data map[string]any) (bool, error) {
	p, err := e.compiled.conds.get(src, config.CompileCondition)
	if err != nil {
		return false, err
	}
	v, err := expr.Run(p, data)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("the condition is %T, not a bool", v)
	}
	return b, nil
}

// fill executes the template text over data; text without {{ is itself.
func (e *Engine) fill(text string, data map[string]any) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := e.compiled.templates.get(text, config.ParseTemplate)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("template %q: %w", text, err)
	}
	return b.String(), nil
}

// action is a step's action with its templates filled: a job's action, or
// a publish.
type action struct {
	job     *config.Job
	publish config.StepPublish
}

// render fills the templates of step s of a workflow from data.
func (e *Engine) render(wf string, s *config.Step, data map[string]any) (action, error) {
	var errs []error
	fill := func(text string) string {
		out, err := e.fill(text, data)
		if err != nil {
			errs = append(errs, err)
		}
		return out
	}
	j := &config.Job{Name: wf + "/" + s.Name}
	var a action
	switch {
	case s.Command != nil:
		c := *s.Command
		c.Command = make([]string, len(s.Command.Command))
		for i, w := range s.Command.Command {
			c.Command[i] = fill(w)
		}
		c.Env = make(map[string]string, len(s.Command.Env))
		for k, v := range s.Command.Env {
			c.Env[k] = fill(v)
		}
		j.Command = &c
	case s.HTTP != nil:
		h := *s.HTTP
		h.URL = fill(h.URL)
		j.HTTP = &h
	case s.Service != nil:
		j.Service = s.Service
	case s.Publish != nil:
		a.publish = config.StepPublish{Subject: fill(s.Publish.Subject), Data: fill(s.Publish.Data)}
	}
	a.job = j
	return a, errors.Join(errs...)
}

// parseOutputs reads a step's outputs from its output: a JSON object, or
// key=value lines.
func parseOutputs(how string, out []byte) (map[string]any, error) {
	if how == config.OutputsJSON {
		var m map[string]any
		if err := json.Unmarshal(bytes.TrimSpace(out), &m); err != nil || m == nil {
			if err == nil {
				err = errors.New("null")
			}
			return nil, fmt.Errorf("outputs: json: the output is not one JSON object: %w", err)
		}
		return m, nil
	}
	m := map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, len(out)+1)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.TrimSpace(k) != "" {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m, nil
}
