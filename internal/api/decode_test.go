package api

import (
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

// FuzzDecodeAction checks that any body of an action request is either
// refused as invalid or gives distinct, non-empty names.
func FuzzDecodeAction(f *testing.F) {
	for _, seed := range []string{
		``,                             // no body: every service
		`{}`,                           // no names: every service
		`{"names":["web"]}`,            // one service
		`{"names":["web","db","web"]}`, // duplicates are dropped
		`{"names":[]}`,                 // empty list: refused
		`{"names":[""]}`,               // empty name: refused
		`{"names":"web"}`,              // wrong type
		`{"names":["web"],"x":1}`,      // unknown field
		`{"names":null}`,               // null: every service
		`{} {}`,                        // trailing value
		`[`,                            // truncated
		"\xff\xfe",                     // not UTF-8
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		names, err := decodeAction(body)
		if err != nil {
			if code := steward.ErrorCode(err); code != steward.EINVALID {
				t.Fatalf("error code %q for %q, want invalid", code, body)
			}
			return
		}
		seen := map[string]bool{}
		for _, n := range names {
			if n == "" || seen[n] {
				t.Fatalf("names %q from %q: empty or repeated", names, body)
			}
			seen[n] = true
		}
	})
}

// FuzzDecodeConfig checks that any config request body is either refused
// as invalid or gives a non-blank text, for both content types.
func FuzzDecodeConfig(f *testing.F) {
	for _, seed := range []struct {
		json bool
		body string
	}{
		{false, "services: {}\n"},           // YAML as the body
		{false, " \n\t"},                    // blank: refused
		{true, `{"text":"services: {}\n"}`}, // JSON form
		{true, `{"text":""}`},               // empty text: refused
		{true, `{"text":1}`},                // wrong type
		{true, `{"txt":"a"}`},               // unknown field
		{true, `{"text":"a"} x`},            // trailing data
		{true, `services: {}`},              // YAML sent as JSON
	} {
		f.Add(seed.json, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, isJSON bool, body []byte) {
		ct := "application/yaml"
		if isJSON {
			ct = "application/json; charset=utf-8"
		}
		text, err := decodeConfig(ct, body)
		if err != nil {
			if code := steward.ErrorCode(err); code != steward.EINVALID {
				t.Fatalf("error code %q for %q, want invalid", code, body)
			}
			return
		}
		if strings.TrimSpace(string(text)) == "" {
			t.Fatalf("blank text accepted from %q", body)
		}
		if !isJSON && string(text) != string(body) {
			t.Fatalf("text %q, want the body %q", text, body)
		}
	})
}

func TestParams(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	if got, err := timeParam("since", "90m", now); err != nil || !got.Equal(now.Add(-90*time.Minute)) {
		t.Errorf("since=90m: %v, %v", got, err)
	}
	if got, err := timeParam("since", "2025-01-02T03:04:05.5+01:00", now); err != nil || got.UTC().Format(time.RFC3339Nano) != "2025-01-02T02:04:05.5Z" {
		t.Errorf("since=RFC 3339: %v, %v", got, err)
	}
	for _, v := range []string{"true", "1", "false", "0", ""} {
		if _, err := boolParam("follow", v); err != nil {
			t.Errorf("follow=%s: %v", v, err)
		}
	}
	if n, err := intParam("n", "", 0, 7); n != 7 || err != nil {
		t.Errorf("n default: %d, %v", n, err)
	}
}
