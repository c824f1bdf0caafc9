package config

import (
	"reflect"
	"testing"
)

// graph returns a Config whose services depend on each other as deps says.
func graph(deps map[string][]string) *Config {
	c := &Config{Services: map[string]*Service{}}
	for name, d := range deps {
		c.Services[name] = &Service{Name: name, DependsOn: d}
		c.Order = append(c.Order, name)
	}
	return c
}

func TestStartOrder(t *testing.T) {
	tests := []struct {
		name string
		deps map[string][]string
		want [][]string
	}{
		{"empty", nil, nil},
		{"independent", map[string][]string{"b": nil, "a": nil, "c": nil}, [][]string{{"a", "b", "c"}}},
		{"chain", map[string][]string{"web": {"api"}, "api": {"db"}, "db": nil}, [][]string{{"db"}, {"api"}, {"web"}}},
		{"diamond", map[string][]string{
			"top": {"left", "right"}, "left": {"base"}, "right": {"base"}, "base": nil, "solo": nil,
		}, [][]string{{"base", "solo"}, {"left", "right"}, {"top"}}},
		{"uneven", map[string][]string{"a": {"b", "d"}, "b": {"c"}, "c": nil, "d": nil},
			[][]string{{"c", "d"}, {"b"}, {"a"}}},
		{"unknown dependency ignored", map[string][]string{"a": {"ghost"}}, [][]string{{"a"}}},
		{"cycle last", map[string][]string{"a": {"b"}, "b": {"a"}, "c": nil, "d": {"a"}},
			[][]string{{"c"}, {"a", "b", "d"}}},
	}
	for _, tt := range tests {
		if got := graph(tt.deps).StartOrder(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStartOrderOfParsedConfig(t *testing.T) {
	c := mustParse(t, `services:
  web: {command: x, depends_on: [api, cache]}
  api: {command: x, depends_on: [db]}
  cache: {command: x}
  db: {command: x, disabled: true}
`)
	want := [][]string{{"cache", "db"}, {"api"}, {"web"}}
	if got := c.StartOrder(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDependents(t *testing.T) {
	c := graph(map[string][]string{"db": nil, "api": {"db"}, "worker": {"db", "api"}, "web": {"api"}})
	tests := []struct {
		name string
		want []string
	}{
		{"db", []string{"api", "worker"}},
		{"api", []string{"web", "worker"}},
		{"web", nil},
		{"ghost", nil},
	}
	for _, tt := range tests {
		if got := c.Dependents(tt.name); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Dependents(%q): got %q, want %q", tt.name, got, tt.want)
		}
	}
}
