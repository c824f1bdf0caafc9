package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds/builtin"
)

// stewardSchema compiles what `steward schema` prints with a validator
// steward did not write.
func stewardSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := execute([]string{"schema"}, &stdout, &stderr); code != 0 {
		t.Fatalf("steward schema: exit %d: %s", code, stderr.String())
	}
	doc, err := jsonschema.UnmarshalJSON(&stdout)
	if err != nil {
		t.Fatalf("steward schema prints no JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("steward.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("steward.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// asJSON returns the YAML text data as the JSON value a YAML language
// server validates.
func asJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// Every config shipped or generated here (the examples, the packaged
// config, the importers' outputs, the dashboard's demo) is valid by the
// schema; the examples carry the modeline that points editors at it.
func TestSchemaTakesTheShippedConfigs(t *testing.T) {
	s := stewardSchema(t)
	files, _ := filepath.Glob("../../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "# yaml-language-server: $schema=steward.schema.json\n") {
			t.Errorf("%s: no yaml-language-server modeline on its first line", f)
		}
	}
	more, _ := filepath.Glob("../../internal/importer/testdata/*.golden.yaml")
	files = append(files, "../../packaging/steward.yaml", "../../internal/web/e2e/demo.yaml")
	for _, f := range append(files, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := config.Parse(f, data, builtin.Config()); err != nil {
			t.Fatalf("%s does not parse: %v", f, err)
		}
		if err := s.Validate(asJSON(t, data)); err != nil {
			t.Errorf("%s: the schema rejects it: %v", f, err)
		}
	}
}

// The schema knows the built-in kinds and notifiers and their keys.
func TestSchemaBuiltins(t *testing.T) {
	s := stewardSchema(t)
	for text, valid := range map[string]bool{
		"services: {m: {kind: sysmon, every: 10s}}":          true,
		"services: {m: {kind: sysmon, evry: 10s}}":           false,
		"services: {m: {kind: sysmom}}":                      false,
		"services: {w: {kind: workbook, dir: x, slo: 99%}}":  true,
		"notify: {ops: {webhook: {url: 'http://x'}}}":        true,
		"notify: {ops: {webhok: {url: 'http://x'}}}":         false,
		"notify: {ops: {webhook: {url: x}, email: {to: y}}}": false,
	} {
		if err := s.Validate(asJSON(t, []byte(text))); (err == nil) != valid {
			t.Errorf("%s: got %v, want valid %v", text, err, valid)
		}
	}
}
