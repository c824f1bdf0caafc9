package api

import (
	"strconv"
	"strings"
	"testing"

	"github.com/expr-lang/expr"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// FuzzWorkflowRunRequest: the body of a workflow run is refused with an
// error, or its inputs can each be named in a template
// ({{.inputs.KEY}}) and a condition (inputs.KEY), which see the value as
// it was sent, and no value holds a NUL byte.
func FuzzWorkflowRunRequest(f *testing.F) {
	// No body's worth of fields, and some inputs.
	f.Add(`{}`)
	f.Add(`{"inputs": {"who": "ann", "_n2": "42"}}`)
	// Names a template or condition could not use; a NUL; a non-string.
	f.Add(`{"inputs": {"a-b": "x", "1a": "y"}}`)
	f.Add(`{"inputs": {"": "x"}}`)
	f.Add(`{"inputs": {"who": "a\u0000b"}}`)
	f.Add(`{"inputs": {"who": 1}}`)
	// Words that mean something to expr or to templates.
	f.Add(`{"inputs": {"in": "x", "if": "y", "nil": "z", "true": "t"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		var req steward.WorkflowRunRequest
		if decodeJSON([]byte(body), &req) != nil || checkInputs(req.Inputs) != nil {
			return
		}
		for k, v := range req.Inputs {
			if strings.ContainsRune(v, 0) {
				t.Fatalf("input %s=%q accepted with a NUL", k, v)
			}
			data := map[string]any{"inputs": map[string]any{k: v}}
			tpl, err := config.ParseTemplate("{{.inputs." + k + "}}")
			if err != nil {
				t.Fatalf("input %q accepted, but a template cannot name it: %v", k, err)
			}
			var b strings.Builder
			if err := tpl.Execute(&b, data); err != nil || b.String() != v {
				t.Fatalf("{{.inputs.%s}} = %q, %v; want %q", k, b.String(), err, v)
			}
			p, err := config.CompileCondition("inputs." + k + " == " + strconv.Quote(v))
			if err != nil {
				t.Fatalf("input %q accepted, but a condition cannot name it: %v", k, err)
			}
			if got, err := expr.Run(p, data); err != nil || got != true {
				t.Fatalf("inputs.%s == its value: %v, %v", k, got, err)
			}
		}
	})
}
