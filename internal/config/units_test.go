package config

import (
	"reflect"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"100ms", 100 * time.Millisecond, ""},
		{"1m30s", 90 * time.Second, ""},
		{"2h", 2 * time.Hour, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"10", 0, "duration needs a unit, e.g. 10s"},
		{"1.5", 0, "duration needs a unit, e.g. 10s"},
		{"-3", 0, "duration needs a unit, e.g. 10s"},
		{"1m5", 0, "duration needs a unit, e.g. 10s"},
		{"-1s", 0, "duration must not be negative"},
		{"", 0, `invalid duration "", want e.g. 100ms, 10s or 1m30s`},
		{"10 s", 0, `invalid duration "10 s", want e.g. 100ms, 10s or 1m30s`},
		{"1d", 0, `invalid duration "1d", want e.g. 100ms, 10s or 1m30s`},
		{"inf", 0, `invalid duration "inf", want e.g. 100ms, 10s or 1m30s`},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if gotErr := errString(err); got != tt.want || gotErr != tt.wantErr {
			t.Errorf("parseDuration(%q): got %v, %q; want %v, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"512", 512, ""},
		{"0", 0, ""},
		{"1B", 1, ""},
		{"1KB", 1000, ""},
		{"1kb", 1000, ""},
		{"50MB", 50e6, ""},
		{"2GB", 2e9, ""},
		{"1TB", 1e12, ""},
		{"1KiB", 1024, ""},
		{"10MiB", 10 << 20, ""},
		{"10 mib", 10 << 20, ""},
		{"3GiB", 3 << 30, ""},
		{"1TiB", 1 << 40, ""},
		{" 7 ", 7, ""},
		{"9223372036854775807", 9223372036854775807, ""},
		{"9223372036854775808", 0, `size "9223372036854775808" is too large`},
		{"9000000TiB", 0, `size "9000000TiB" is too large`},
		{"", 0, `invalid size "", want e.g. 512, 10KB or 50MiB`},
		{"MB", 0, `invalid size "MB", want e.g. 512, 10KB or 50MiB`},
		{"-1", 0, `invalid size "-1", want e.g. 512, 10KB or 50MiB`},
		{"1.5MB", 0, `invalid size "1.5MB", want e.g. 512, 10KB or 50MiB`},
		{"10XB", 0, `invalid size "10XB", want e.g. 512, 10KB or 50MiB`},
		{"1M", 0, `invalid size "1M", want e.g. 512, 10KB or 50MiB`},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if gotErr := errString(err); got != tt.want || gotErr != tt.wantErr {
			t.Errorf("parseSize(%q): got %d, %q; want %d, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"  \t\n ", nil, ""},
		{"./api --port 8080", []string{"./api", "--port", "8080"}, ""},
		{"  a \t b\nc  ", []string{"a", "b", "c"}, ""},
		{`a 'b c' "d e"`, []string{"a", "b c", "d e"}, ""},
		{`a'b'"c"d`, []string{"abcd"}, ""},
		{`a '' ""`, []string{"a", "", ""}, ""},
		{`'it''s'`, []string{"its"}, ""},
		{`"it's"`, []string{"it's"}, ""},
		{`'a\nb "c"'`, []string{`a\nb "c"`}, ""},
		{`"a \"b\" \\ \$x \` + "`" + ` \n"`, []string{`a "b" \ $x ` + "` " + `\n`}, ""},
		{"\"a\\\nb\"", []string{"ab"}, ""},
		{`a\ b c\"d \'e\\`, []string{"a b", `c"d`, `'e\`}, ""},
		{"a \\\nb", []string{"a", "b"}, ""},
		{`$HOME ~ *.log "${X}"`, []string{"$HOME", "~", "*.log", "${X}"}, ""},
		{`echo "a|b" 'c;d' e\>f`, []string{"echo", "a|b", "c;d", "e>f"}, ""},
		{"héllo wörld", []string{"héllo", "wörld"}, ""},
		{`echo 'x`, nil, "unterminated single quote"},
		{`echo "x`, nil, "unterminated double quote"},
		{`echo "x\"`, nil, "unterminated double quote"},
		{`echo x\`, nil, "ends with a backslash"},
		{"a | b", nil, `unquoted "|" needs a shell: quote it, or run [sh, -c, "..."]`},
		{"a && b", nil, `unquoted "&" needs a shell: quote it, or run [sh, -c, "..."]`},
		{"a;b", nil, `unquoted ";" needs a shell: quote it, or run [sh, -c, "..."]`},
		{"a > out.log", nil, `unquoted ">" needs a shell: quote it, or run [sh, -c, "..."]`},
		{"a < in", nil, `unquoted "<" needs a shell: quote it, or run [sh, -c, "..."]`},
	}
	for _, tt := range tests {
		got, err := splitCommand(tt.in)
		if gotErr := errString(err); !reflect.DeepEqual(got, tt.want) || gotErr != tt.wantErr {
			t.Errorf("splitCommand(%q): got %q, %q; want %q, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"command", "env", "depends_on", "logs", "max_backoff"}
	tests := []struct{ in, want string }{
		{"comand", ` (did you mean "command"?)`},
		{"commands", ` (did you mean "command"?)`},
		{"dependson", ` (did you mean "depends_on"?)`},
		{"depend_on", ` (did you mean "depends_on"?)`},
		{"maxbackof", ` (did you mean "max_backoff"?)`},
		{"log", ` (did you mean "logs"?)`},
		{"bogus", ""},
		{"health", ""},
		{"", ""},
		{string(make([]byte, 100)), ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, known); got != tt.want {
			t.Errorf("suggest(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
