package api

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/stewardhq/steward"
)

// decodeJSON decodes a request body: steward.DecodeJSON, which the
// workbook commands over the bus share.
func decodeJSON(data []byte, v any) error { return steward.DecodeJSON(data, v) }

// decodeAction decodes the body of an action on several services. It
// returns nil for every service.
func decodeAction(body []byte) ([]string, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var req steward.ActionRequest
	if err := decodeJSON(body, &req); err != nil {
		return nil, err
	}
	if req.Names != nil && len(req.Names) == 0 {
		return nil, steward.Errorf(steward.EINVALID, "names is empty: send no body to act on every service")
	}
	seen := map[string]bool{}
	var names []string
	for _, n := range req.Names {
		if n == "" {
			return nil, steward.Errorf(steward.EINVALID, "names holds an empty name")
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names, nil
}

// decodeConfig returns the configuration text of a request body: the body
// itself, or the text of a ConfigRequest when contentType is JSON.
func decodeConfig(contentType string, body []byte) ([]byte, error) {
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "application/json" {
		var req steward.ConfigRequest
		if err := decodeJSON(body, &req); err != nil {
			return nil, err
		}
		body = []byte(req.Text)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, steward.Errorf(steward.EINVALID, "empty body: send the YAML text of a configuration")
	}
	return body, nil
}

// readBody reads the whole request body, within maxBody.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return b, nil
}

// decodeOptional reads r's body as JSON into v; an empty body leaves v as
// it is.
func decodeOptional(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return err
	}
	return decodeJSON(body, v)
}

// intParam parses the query or path value v named name as an integer of at
// least min; def when v is "".
func intParam(name, v string, least, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		return 0, steward.Errorf(steward.EINVALID, "%s=%q: want an integer of at least %d", name, v, least)
	}
	return n, nil
}

// boolParam parses the query value v named name: "", "0" and "false" are
// false, "1" and "true" true.
func boolParam(name, v string) (bool, error) {
	switch v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, steward.Errorf(steward.EINVALID, "%s=%q: want 1 or 0", name, v)
}

// timeParam parses the query value v named name: an RFC 3339 time, or a
// duration (like 15m) meaning that long before now.
func timeParam(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, steward.Errorf(steward.EINVALID, "%s=%q: want an RFC 3339 time or a duration like 15m", name, v)
}
