package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/stewardhq/steward"
)

// busData is what the bus page shows: the streams, the dead letters when
// the API has them, and the subject the live tail starts on.
type busData struct {
	// Off says why there are no streams to show ("" when there are).
	Off     string
	Streams []steward.BusStream
	DLQ     dlqTable
	Subject string
}

// dlqTable is the dead letters as a table: the columns are the fields the
// API's records have, so the page shows whatever a dead letter carries.
type dlqTable struct {
	// Off says why there is no list: the API has no dead letters route,
	// or answered with an error.
	Off     string
	Columns []string
	Rows    [][]string
}

// dlqColumns are the fields of a dead letter shown first, in this order;
// the others follow by name.
var dlqColumns = []string{"id", "stream", "subject", "seq", "consumer", "reason", "deliveries", "time"}

// maxCell is how much of a value a cell of the dead letters table shows.
const maxCell = 120

func (h *Handler) busPage(r *http.Request, s *session, v *view) error {
	v.Template, v.Title, v.Nav = "bus", "Bus", "bus"
	d := &busData{Subject: cmp.Or(r.URL.Query().Get("subject"), ">")}
	v.Data = d
	var ae *apiError
	switch err := h.call(r, s, "GET", "/v1/bus/streams", &d.Streams); {
	case errors.As(err, &ae) && (ae.status == http.StatusConflict || ae.status == http.StatusServiceUnavailable):
		d.Off = ae.body.Message
		return nil
	case err != nil:
		return err
	}
	var dlq []map[string]any
	switch err := h.call(r, s, "GET", "/v1/bus/dlq", &dlq); {
	case errors.As(err, &ae) && ae.status == http.StatusNotFound:
		d.DLQ.Off = "This steward has no dead letters route."
	case err != nil:
		d.DLQ.Off = "Dead letters: " + err.Error()
	default:
		d.DLQ = dlqRows(dlq)
	}
	return nil
}

// dlqRows lays the dead letters out as a table.
func dlqRows(list []map[string]any) dlqTable {
	seen := map[string]bool{}
	var rest []string
	for _, m := range list {
		for k := range m {
			if !seen[k] && !slices.Contains(dlqColumns, k) {
				rest = append(rest, k)
			}
			seen[k] = true
		}
	}
	slices.Sort(rest)
	var t dlqTable
	for _, c := range append(slices.Clone(dlqColumns), rest...) {
		if seen[c] {
			t.Columns = append(t.Columns, c)
		}
	}
	for _, m := range list {
		row := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			row[i] = cell(m[c])
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// cell shows a JSON value in a table cell, cut to maxCell runes.
func cell(v any) string {
	var s string
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		s = v
	case float64:
		s = fmt.Sprintf("%.15g", v)
	default:
		s = fmt.Sprint(v)
	}
	if r := []rune(s); len(r) > maxCell {
		s = string(r[:maxCell-1]) + "…"
	}
	return strings.ToValidUTF8(s, "�")
}
