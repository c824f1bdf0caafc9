package run

import (
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/config"
)

// fuzzData is what the conditions and templates of a run see: a step that
// ended with outputs, one that did not run, a file trigger and inputs.
func fuzzData() map[string]any {
	code := 0
	return map[string]any{
		"steps": map[string]any{
			"a": map[string]any{"status": "succeeded", "attempt": 1, "error": "", "exit_code": code,
				"outputs": map[string]any{"n": 3.0, "rows": []any{[]any{1.0, "x"}}, "ok": true}},
			"b": map[string]any{"status": "skipped", "attempt": 0, "error": "if is false", "exit_code": nil, "outputs": map[string]any{}},
		},
		"trigger": map[string]any{"type": "file", "file": "/in/a b.csv", "size": int64(12)},
		"inputs":  map[string]any{"who": "me"},
		"run":     map[string]any{"id": int64(7), "workflow": "w"},
	}
}

// FuzzCondition checks that a step's if: either fails to compile, as the
// config check says, or evaluates over a run's data to a bool or an error,
// and never panics.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		`steps.a.status == "succeeded"`, // the common case
		`steps.a.outputs.n > 2 && trigger.type == "file"`,
		`steps.b.exit_code == nil || steps.b.exit_code != 0`, // a step that did not run
		`"x" in steps.a.outputs.rows[0]`,
		`inputs.who matches "^m"`,       // a regexp, compiled at run time
		`steps.nope.status == "failed"`, // a step that is not there: nil
		`len(trigger.file) / 0 > 1`,     // an error at run time
		`1 + 2`,                         // not a bool: refused when compiled
		`steps.a.outputs.rows[9][9]`,    // out of range
		`let x = 1; x == 1`,
		`true &&`, // syntax
		"",
	} {
		f.Add(s)
	}
	e := &Engine{}
	f.Fuzz(func(t *testing.T, src string) {
		_, cerr := config.CompileCondition(src)
		ok, err := e.condition(src, fuzzData())
		if cerr != nil && err == nil {
			t.Fatalf("%q: does not compile (%v) but evaluated to %v", src, cerr, ok)
		}
		if err != nil && ok {
			t.Fatalf("%q: true with an error: %v", src, err)
		}
	})
}

// FuzzTemplate checks that a step's template either fails to parse, as
// the config check says, or fills from a run's data to text or an error,
// and never panics.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		`./load {{.trigger.file}}`,
		`{{json .steps.a.outputs.rows}}`,
		`{{.steps.a.outputs.n}} {{.run.id}} {{.inputs.who}}`,
		`{{.trigger.nope}}`, // a missing key is an error
		`{{range .steps.a.outputs.rows}}{{.}}{{end}}`,
		`{{if eq .steps.b.status "skipped"}}skip{{else}}go{{end}}`,
		`{{json .}}`,
		`{{.steps.a.outputs.n.x}}`, // a field of a number
		`{{template "x"}}`,         // an undefined template
		`{{`,                       // syntax
		`no template`,
	} {
		f.Add(s)
	}
	e := &Engine{}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Count(text, "range") > 2 {
			t.Skip() // nested ranges multiply the output without bound
		}
		_, perr := config.ParseTemplate(text)
		out, err := e.fill(text, fuzzData())
		if !strings.Contains(text, "{{") {
			if err != nil || out != text {
				t.Fatalf("%q without {{: %q, %v; want itself", text, out, err)
			}
			return
		}
		if perr != nil && err == nil {
			t.Fatalf("%q: does not parse (%v) but filled to %q", text, perr, out)
		}
	})
}

// FuzzOutputs checks that a step's output, which is what its process
// wrote, is read as outputs or refused with an error, never a panic.
func FuzzOutputs(f *testing.F) {
	for _, s := range []string{`{"n": 1, "rows": [[1, 2]]}`, "null", "[1]", `{"a":`, "x=1\ny = two\n=no key\nnoise\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, out string) {
		if m, err := parseOutputs(config.OutputsJSON, []byte(out)); (m == nil) == (err == nil) {
			t.Fatalf("json %q: %v, %v: want outputs or an error", out, m, err)
		}
		m, err := parseOutputs(config.OutputsLines, []byte(out))
		if err != nil || m == nil {
			t.Fatalf("lines %q: %v, %v", out, m, err)
		}
		for k := range m {
			if k == "" || strings.TrimSpace(k) != k || strings.Contains(k, "\n") {
				t.Fatalf("lines %q: key %q", out, k)
			}
		}
	})
}
