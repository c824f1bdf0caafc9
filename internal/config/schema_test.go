package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// compileSchema compiles Schema(reg) with a validator of its own.
func compileSchema(t testing.TB, reg Registry) *jsonschema.Schema {
	t.Helper()
	return compileDoc(t, Schema(reg), nil)
}

// schemas compiles Schema(reg) as draft 2020-12, and as draft-07 for the
// editors whose validators know no later draft: it uses no keyword that
// draft-07 lacks.
func schemas(t testing.TB, reg Registry) map[string]*jsonschema.Schema {
	t.Helper()
	doc := Schema(reg)
	draft7 := maps.Clone(doc)
	delete(draft7, "$schema")
	return map[string]*jsonschema.Schema{"2020-12": compileDoc(t, doc, nil), "draft-07": compileDoc(t, draft7, jsonschema.Draft7)}
}

// compileDoc compiles the schema doc with santhosh-tekuri's validator, as
// draft (nil: the one doc names), after a round trip through JSON as
// `steward schema` prints it.
func compileDoc(t testing.TB, doc map[string]any, draft *jsonschema.Draft) *jsonschema.Schema {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if draft != nil {
		c.DefaultDraft(draft)
	}
	if err := c.AddResource("steward.schema.json", v); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("steward.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// yamlInstance returns the YAML text data as the JSON value an editor's
// YAML language server validates.
func yamlInstance(data []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	j, err := json.Marshal(jsonKeys(v))
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(j))
}

// jsonKeys makes the keys of YAML mappings strings, as JSON has them.
func jsonKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = jsonKeys(e)
		}
	case map[any]any:
		m := map[string]any{}
		for k, e := range v {
			m[fmt.Sprint(k)] = jsonKeys(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = jsonKeys(e)
		}
	}
	return v
}

// configTexts returns the string literals of the package's tests, and the
// seeds of its fuzz corpus: among them every configuration the tests use.
func configTexts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, _ := filepath.Glob("*_test.go")
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := goparser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && strings.Contains(s, ":") {
					out[fset.Position(lit.Pos()).String()] = s
				}
			}
			return true
		})
	}
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzParse/*")
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if q, ok := strings.CutPrefix(line, "[]byte("); ok {
				if s, err := strconv.Unquote(strings.TrimSuffix(q, ")")); err == nil {
					out[name] = s
				}
			}
		}
	}
	return out
}

// Every configuration of the tests that Parse takes is valid by the
// schema: the schema rejects no file steward runs with.
func TestSchemaTakesTheTestsConfigs(t *testing.T) {
	reg := testRegistry()
	all := schemas(t, reg)
	valid := 0
	for at, text := range configTexts(t) {
		if _, err := Parse("steward.yaml", []byte(text), reg); err != nil {
			continue
		}
		inst, err := yamlInstance([]byte(text))
		if err != nil {
			continue // YAML that encoding/json cannot hold, such as a float key
		}
		valid++
		for draft, s := range all {
			if err := s.Validate(inst); err != nil {
				t.Errorf("%s: a valid config the schema (%s) rejects:\n%s\n%v", at, draft, text, err)
			}
		}
	}
	if valid < 50 {
		t.Errorf("only %d valid configs found in the tests", valid)
	}
}

// The schema rejects unknown keys and values of the wrong kind, as Parse
// does.
func TestSchemaRejects(t *testing.T) {
	all := schemas(t, testRegistry())
	for _, text := range []string{
		"sevices: {}",
		"services: {a: {command: x, comand: y}}",
		"services: {a: {cmd: x}}",
		"services: {a: {command: {x: 1}}}",
		"services: {a: {command: []}}",
		"services: {a: {command: x, restart: {backoff: 10}}}",
		"services: {a: {command: x, restart: {backoff: soon}}}",
		"services: {a: {command: x, restart: {policy: sometimes}}}",
		"services: {a: {command: x, restart: {max_restarts: -1}}}",
		"services: {a: {command: x, disabled: yes}}",
		"services: {a: {command: x, logs: {max_size: big}}}",
		"services: {a: {command: x, depends_on: b}}",
		"services: {a: {command: x, depends_on: {b: soon}}}",
		"services: {a: {command: x, env: {A: [1]}}}",
		"services: {a: {command: x, stop: {signal: STOP}}}",
		"services: {a: {command: x, exit_code: 256}}",
		"services: {a: {kind: probe, command: x}}",
		"services: {a: {kind: nope}}",
		"services: {a: {kind: probe, target: x, tick: 1}}",
		"notify: {ops: {}}",
		"notify: {ops: {hook: {}, page: {}}}",
		"notify: {ops: {mail: {}}}",
		"api: {rate_limit: {per_second: 0}}",
		"api: {tls: {cert: a, chain: b}}",
		"jobs: {j: {schedule: '@hourly', command: x, missed: some}}",
		"workflows: {w: {on: {cron: x}, steps: {a: {command: x}}}}",
		"workflows: {w: {steps: {a: {command: x, outputs: xml}}}}",
		"alerts: {routes: [{match: {host: x}, to: [ops]}]}",
		"bus: {streams: {s: {subjects: x, max_bytes: 1 GB, extra: 1}}}",
		"runs: {keep: 1.5}",
		"[1, 2]",
	} {
		inst, err := yamlInstance([]byte(text))
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		for draft, s := range all {
			if err := s.Validate(inst); err == nil {
				t.Errorf("the schema (%s) takes %s", draft, text)
			}
		}
	}
}

// keyLists returns the literal keys of every call that reads a mapping
// with known keys (p.fields, p.keys) in the package's code, and whether
// the call adds keys that are not literals (a kind's, a notifier type's).
func keyLists(t *testing.T) (lists map[string][]string, partial map[string]bool) {
	t.Helper()
	lists, partial = map[string][]string{}, map[string]bool{}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "yaml.go" { // yaml.go defines them
			continue
		}
		f, err := goparser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 3 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "fields" && sel.Sel.Name != "keys") {
				return true
			}
			at := fset.Position(call.Pos()).String()
			lists[at] = []string{}
			for _, arg := range call.Args[2:] {
				lit, ok := arg.(*ast.BasicLit)
				if !ok {
					partial[at] = true
					ast.Inspect(arg, func(n ast.Node) bool {
						if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							lists[at] = append(lists[at], s)
						}
						return true
					})
					continue
				}
				s, _ := strconv.Unquote(lit.Value)
				lists[at] = append(lists[at], s)
			}
			slices.Sort(lists[at])
			return true
		})
	}
	return lists, partial
}

// objects returns the property names of every object of the schema s
// that takes no other keys, sorted, with the object.
func objects(s any, out map[string][]js) {
	switch s := s.(type) {
	case js:
		if s["additionalProperties"] == false {
			props, _ := s["properties"].(js)
			keys := slices.Sorted(maps.Keys(props))
			out[strings.Join(keys, " ")] = append(out[strings.Join(keys, " ")], s)
		}
		for _, v := range s {
			objects(v, out)
		}
	case []js:
		for _, v := range s {
			objects(v, out)
		}
	}
}

// The schema and the parser read the same keys: every set of known keys
// in the parser's code is an object of the schema, and every object of
// the schema a set of keys the parser knows. A key added to the decoder,
// or a section, without the schema fails here.
func TestSchemaHasTheParsersKeys(t *testing.T) {
	lists, partial := keyLists(t)
	if len(lists) < 40 {
		t.Fatalf("found only %d key lists", len(lists))
	}
	reg := testRegistry()
	objs := map[string][]js{}
	objects(Schema(reg), objs)
	calls := map[string]bool{}
	for at, keys := range lists {
		set := strings.Join(keys, " ")
		calls[set] = true
		if partial[at] {
			continue // checked below
		}
		if objs[set] == nil {
			t.Errorf("%s: the parser reads the keys %v, and no object of the schema has exactly them", at, keys)
		}
	}
	lifecycle := slices.Sorted(maps.Keys(sLifecycle()))
	calls[strings.Join(slices.Sorted(slices.Values(matchLabels)), " ")] = true // route.match's labels
	for set, list := range objs {
		for _, o := range list {
			switch {
			case o["required"] != nil && slices.Equal(o["required"].([]string), []string{"kind"}):
				kind := o["properties"].(js)["kind"].(js)["const"].(string)
				want := slices.Sorted(slices.Values(append(slices.Clone(lifecycle), reg.Kinds[kind].Keys...)))
				if set != strings.Join(want, " ") {
					t.Errorf("kind %s: the schema has keys %s, want %v", kind, set, want)
				}
			case o["maxProperties"] == 1: // a notifier: one of reg's types
				if want := slices.Sorted(maps.Keys(reg.Notifiers)); set != strings.Join(want, " ") {
					t.Errorf("notifier: the schema has keys %s, want %v", set, want)
				}
			case !calls[set]:
				t.Errorf("the schema has an object with the keys %s, which the parser does not read together", set)
			}
		}
	}
	// The lifecycle keys are what kindService reads besides the kind's.
	found := false
	for at, keys := range lists {
		if partial[at] && strings.HasPrefix(filepath.Base(at), "service.go") {
			found = true
			if !slices.Equal(keys, lifecycle) {
				t.Errorf("%s: a kind's service reads %v, the schema has %v", at, keys, lifecycle)
			}
		}
	}
	if !found {
		t.Error("kindService's key list not found")
	}
}

// The sizes and durations of the schema are those the parser takes.
func TestSchemaUnits(t *testing.T) {
	s := compileSchema(t, Registry{})
	for text, valid := range map[string]bool{
		"stop: {timeout: 0}": true, "stop: {timeout: 1m30s}": true, "stop: {timeout: .5s}": true,
		"stop: {timeout: 1.5h}": true, "stop: {timeout: 10}": false, "stop: {timeout: 1d}": false,
		"logs: {max_age: 7d}": true, "logs: {max_age: 1w2d3h}": true, "logs: {max_age: 2x}": false,
		"logs: {max_size: 64MB}": true, "logs: {max_size: 10 kib}": true, "logs: {max_size: 512}": true,
		"logs: {max_size: 1.5MB}": false, "logs: {max_size: 64XB}": false,
		"stop: {signal: sigterm}": true, "stop: {signal: USR2}": true, "stop: {signal: STOP}": false,
		"command: [a, 1, true]": true, "command: 'a b'": true, "command: ''": false,
	} {
		doc := "services: {a: {command: x, " + text + "}}"
		if strings.HasPrefix(text, "command") {
			doc = "services: {a: {" + text + "}}"
		}
		_, perr := Parse("", []byte(doc), Registry{})
		inst, err := yamlInstance([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if verr := s.Validate(inst); (verr == nil) != valid || (perr == nil) != valid {
			t.Errorf("%s: schema says %v, parser %v, want valid %v", doc, verr, perr, valid)
		}
	}
}
