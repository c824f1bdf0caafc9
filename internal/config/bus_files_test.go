package config

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

const busStreamsYAML = "bus:\n  streams: {orders: {subjects: [\"orders.>\"]}, files: {subjects: [files.in, \"exports.*\"]}}\n"

func TestParseBusFiles(t *testing.T) {
	c := mustParse(t, busStreamsYAML+
		"  files: [{dir: inbox, subject: files.in}, {dir: /srv/in2, subject: orders.new, settle: 250ms}]\n"+
		"  sinks: [{subject: \"exports.*\", dir: outbox}, {subject: \"orders.>\", dir: /srv/out2}]\n")
	wantFiles := []BusFile{
		{Dir: filepath.Join(testDir, "inbox"), Subject: "files.in", Settle: DefaultBusFileSettle},
		{Dir: "/srv/in2", Subject: "orders.new", Settle: 250 * time.Millisecond},
	}
	wantSinks := []BusSink{{Subject: "exports.*", Dir: filepath.Join(testDir, "outbox")}, {Subject: "orders.>", Dir: "/srv/out2"}}
	if !reflect.DeepEqual(c.Bus.Files, wantFiles) {
		t.Errorf("Files = %+v, want %+v", c.Bus.Files, wantFiles)
	}
	if !reflect.DeepEqual(c.Bus.Sinks, wantSinks) {
		t.Errorf("Sinks = %+v, want %+v", c.Bus.Sinks, wantSinks)
	}
	if c := mustParse(t, "bus: {files: null, sinks: []}\n"); c.Bus.Files != nil || c.Bus.Sinks != nil {
		t.Errorf("empty bridges: %+v %+v", c.Bus.Files, c.Bus.Sinks)
	}
}

func TestParseBusFilesErrors(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want []string
	}{
		{"bus: {files: {dir: x}}\n", []string{"steward.yaml:1:14: bus.files must be a list of {dir, subject}"}},
		{"bus: {sinks: x}\n", []string{"steward.yaml:1:14: bus.sinks must be a list of {subject, dir}"}},
		{"bus: {files: [{}], sinks: [{dir: /o}]}\n", []string{
			"steward.yaml:1:15: bus.files[0] needs dir",
			"steward.yaml:1:15: bus.files[0] needs subject",
			"steward.yaml:1:28: bus.sinks[0] needs subject"}},
		{busStreamsYAML + "  files: [{dir: /i, subject: \"files.*\"}, {dir: /j, subject: steward.x}, {dir: /k, subject: \"a..b\"}]\n", []string{
			`steward.yaml:3:30: bus.files[0].subject: "files.*": a file is published on one subject, without wildcards`,
			`steward.yaml:3:61: bus.files[1].subject: "steward.x" is steward's or the system's subject`,
			`steward.yaml:3:92: bus.files[2].subject: subject "a..b" has an empty token`}},
		{busStreamsYAML + "  files: [{dir: /i, subject: other.x, settle: 0s, mode: x}]\n", []string{
			`steward.yaml:3:30: bus.files[0].subject "other.x" is in no stream of bus.streams: a file bridge needs JetStream to keep its messages`,
			`steward.yaml:3:47: bus.files[0].settle must be more than 0`,
			`steward.yaml:3:51: unknown key "mode"`}},
		{busStreamsYAML + "  sinks: [{subject: \"exports.>\", dir: /o}, {subject: \"orders\", dir: /p}, {subject: \"a b\", dir: /q}]\n", []string{
			`steward.yaml:3:21: bus.sinks[0].subject "exports.>" is in no stream of bus.streams: a file bridge needs JetStream to keep its messages`,
			`steward.yaml:3:54: bus.sinks[1].subject "orders" is in no stream of bus.streams: a file bridge needs JetStream to keep its messages`,
			`steward.yaml:3:84: bus.sinks[2].subject: subject "a b" must not contain spaces`}},
		{busStreamsYAML + "  files: [{dir: /srv/in, subject: files.in}]\n  sinks: [{subject: \"orders.>\", dir: /srv/in/out}, {subject: \"orders.>\", dir: /srv}]\n", []string{
			`steward.yaml:4:38: bus.sinks[0].dir "/srv/in/out" overlaps bus.files[0].dir "/srv/in": each file bridge needs a directory of its own`,
			`steward.yaml:4:79: bus.sinks[1].dir "/srv" overlaps bus.files[0].dir "/srv/in": each file bridge needs a directory of its own`,
			`steward.yaml:4:79: bus.sinks[1].dir "/srv" overlaps bus.sinks[0].dir "/srv/in/out": each file bridge needs a directory of its own`}},
		{"data_dir: /var/lib/s\n" + busStreamsYAML + "  files: [{dir: /var/lib/s/in, subject: files.in}, {dir: ~/x, subject: files.in}]\n", []string{
			`steward.yaml:4:17: bus.files[0].dir "/var/lib/s/in" overlaps data_dir "/var/lib/s"`,
			`steward.yaml:4:58: bus.files[1].dir: ~ is not expanded, use an absolute path`}},
	} {
		got := parseErrors(t, tt.src)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q:\ngot  %q\nwant %q", tt.src, got, tt.want)
		}
	}
}

func TestSubjectWithin(t *testing.T) {
	for _, tt := range []struct {
		sub, of string
		want    bool
	}{
		{"a.b", "a.b", true},
		{"a.b", "a.*", true},
		{"a.*", "a.*", true},
		{"a.>", "a.*", false},
		{"a.b.c", "a.>", true},
		{"a.>", "a.>", true},
		{"a", "a.>", false},
		{"a.b", "a.c", false},
		{"a.b.c", "a.*", false},
		{"a", "a.b", false},
		{"x.y", ">", true},
	} {
		if got := subjectWithin(tt.sub, tt.of); got != tt.want {
			t.Errorf("subjectWithin(%q, %q) = %v, want %v", tt.sub, tt.of, got, tt.want)
		}
	}
}
