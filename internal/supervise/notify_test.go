package supervise

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseNotify(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{"READY=1", map[string]string{"READY": "1"}},
		{"READY=1\nSTATUS=a=b\n", map[string]string{"READY": "1", "STATUS": "a=b"}},
		{"garbage\n=x\nMAINPID=", map[string]string{"MAINPID": ""}},
		{"", map[string]string{}},
	}
	for _, tt := range tests {
		if got := parseNotify([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseNotify(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzParseNotify: a datagram from a service is untrusted; parsing never
// panics and every key it returns is a non-empty line's text before "=".
func FuzzParseNotify(f *testing.F) {
	for _, seed := range []string{
		"READY=1",                             // the usual
		"STATUS=Processing requests\nREADY=1", // several assignments
		"WATCHDOG=1\n\n\n",                    // empty lines
		"=\n==\nX",                            // no key, no '='
		"STATUS=\xff\xfe",                     // not UTF-8
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for k := range parseNotify(b) {
			if k == "" || strings.ContainsAny(k, "=\n") {
				t.Errorf("key %q from %q", k, b)
			}
		}
	})
}
