package config

import (
	"reflect"
	"testing"
)

func TestCompare(t *testing.T) {
	old := mustParse(t, `services:
  db: {command: postgres}
  api: {command: ./api, depends_on: [db]}
  cache: {command: redis}
  gone: {command: x}
`)
	cur := mustParse(t, `services:
  db: {command: postgres}
  cache: {command: redis, env: {A: "1"}}
  api: {command: ./api}
  new: {command: x}
`)
	got := Compare(old, cur)
	want := Diff{
		Added:     []string{"new"},
		Removed:   []string{"gone"},
		Changed:   []string{"api", "cache"},
		Unchanged: []string{"db"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Compare:\ngot  %+v\nwant %+v", got, want)
	}
	if got.Empty() {
		t.Errorf("Empty: got true, want false")
	}
}

func TestCompareSame(t *testing.T) {
	src := "services:\n  a: {command: x, env: {}}\n  b: {command: y, depends_on: [a]}\n"
	d := Compare(mustParse(t, src), mustParse(t, src))
	if want := (Diff{Unchanged: []string{"a", "b"}}); !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v, want %+v", d, want)
	}
	if !d.Empty() {
		t.Errorf("Empty: got false, want true")
	}
}

func TestCompareSettings(t *testing.T) {
	old := mustParse(t, "node: a\ndata_dir: /d\n")
	cur := mustParse(t, "node: b\ndata_dir: /d\napi: {listen: \"127.0.0.1:7070\"}\nweb: {listen: \"127.0.0.1:8080\"}\n")
	d := Compare(old, cur)
	if want := (Diff{Settings: []string{"node"}, Sections: []string{"api", "web"}}); !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v, want %+v", d, want)
	}
	if d.Empty() {
		t.Errorf("Empty: got true, want false")
	}
}

func TestCompareSections(t *testing.T) {
	old := mustParse(t, "checks:\n  c: {tcp: \"127.0.0.1:1\"}\nnotify:\n  h: {hook: {url: \"http://127.0.0.1:1/\"}}\n")
	cur := mustParse(t, "checks:\n  c: {tcp: \"127.0.0.1:2\"}\nnotify:\n  h: {hook: {url: \"http://127.0.0.1:2/\"}}\nmetrics: {every: 30s}\n")
	d := Compare(old, cur)
	if want := (Diff{Sections: []string{"checks", "metrics", "notify"}}); !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v, want %+v", d, want)
	}
	if d.Empty() {
		t.Errorf("Empty: got true, want false")
	}
}

func TestCompareNil(t *testing.T) {
	cur := mustParse(t, "services:\n  b: {command: x}\n  a: {command: x}\n")
	if got, want := Compare(nil, cur), (Diff{Added: []string{"a", "b"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("Compare(nil, cur): got %+v, want %+v", got, want)
	}
	if got, want := Compare(cur, nil), (Diff{Removed: []string{"a", "b"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("Compare(cur, nil): got %+v, want %+v", got, want)
	}
	if d := Compare(nil, nil); !d.Empty() {
		t.Errorf("Compare(nil, nil): got %+v, want empty", d)
	}
}

// TestCompareIgnoresPositions checks that a service that only moved in the
// file is unchanged: a reload must not restart it.
func TestCompareIgnoresPositions(t *testing.T) {
	old := mustParse(t, "services:\n  a: {command: x, working_dir: /tmp}\n")
	cur := mustParse(t, "# a comment\nservices:\n\n  a:\n    working_dir: /tmp\n    command: x\n")
	if d, want := Compare(old, cur), (Diff{Unchanged: []string{"a"}}); !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v, want %+v", d, want)
	}
}
