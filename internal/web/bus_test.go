package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// busAPI answers the layout's calls and the bus or fleet page's with the
// status ("" for 200) and body given by path; a path not given is a 404 of
// an unknown route.
func busAPI(answers map[string][2]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/events", "/v1/alerts":
			io.WriteString(w, `[]`)
			return
		case "/v1/info":
			io.WriteString(w, `{"node":"n1"}`)
			return
		}
		a, ok := answers[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"not_found","message":"no route GET `+r.URL.Path+`"}}`)
			return
		}
		if code, err := strconv.Atoi(a[0]); err == nil {
			w.WriteHeader(code)
		}
		io.WriteString(w, a[1])
	})
}

func busPageBody(t *testing.T, answers map[string][2]string, path string) (int, string) {
	t.Helper()
	h := New(Options{API: busAPI(answers)})
	h.sessions.m["sid"] = &session{id: "sid", token: token, created: time.Now(), seen: time.Now()}
	r := httptest.NewRequest("GET", path, nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: "sid"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

const busStreamsJSON = `[{"name":"ORDERS","subjects":["orders.>"],"messages":3,"bytes":2048,"first_seq":1,"last_seq":3,"consumers":1,"last_time":"2026-12-06T10:00:00Z"}]`

func TestBusPage(t *testing.T) {
	for _, tt := range []struct {
		name    string
		answers map[string][2]string
		path    string
		want    []string
		not     []string
	}{
		{"streams, no dead letters route", map[string][2]string{"/v1/bus/streams": {"", busStreamsJSON}}, "/bus",
			[]string{`data-stream="ORDERS"`, "orders.&gt;", "2.0 KiB", "1–3", "This steward has no dead letters route.", `id="bus-subject" name="subject" type="text" value="&gt;"`, "/assets/bus.js?v=", `href="/bus" aria-current="page"`},
			[]string{"No dead letters."}},
		{"dead letters", map[string][2]string{"/v1/bus/streams": {"", busStreamsJSON},
			"/v1/bus/dlq": {"", `[{"zeta":"z","reason":"max deliveries","id":"d1","stream":"ORDERS","seq":7,"data":"` + strings.Repeat("x", 200) + `"}]`}}, "/bus?subject=orders.*",
			[]string{"<th>id</th><th>stream</th><th>seq</th><th>reason</th><th>data</th><th>zeta</th>", `<td data-label="seq" class="small">7</td>`, strings.Repeat("x", 119) + "…", `value="orders.*"`, `<span class="count">1</span>`},
			[]string{strings.Repeat("x", 120)}},
		{"no dead letters", map[string][2]string{"/v1/bus/streams": {"", `[]`}, "/v1/bus/dlq": {"", `[]`}}, "/bus",
			[]string{"No streams.", "No dead letters."}, nil},
		{"dead letters fail", map[string][2]string{"/v1/bus/streams": {"", `[]`}, "/v1/bus/dlq": {"500", `{"error":{"code":"internal","message":"boom"}}`}}, "/bus",
			[]string{"Dead letters: boom"}, nil},
		{"no bus", map[string][2]string{"/v1/bus/streams": {"409", `{"error":{"code":"conflict","message":"no bus configured: add a bus: section"}}`}}, "/bus",
			[]string{`id="bus-off"`, "no bus configured: add a bus: section"}, []string{"bus-tail", "bus.js"}},
	} {
		code, body := busPageBody(t, tt.answers, tt.path)
		if code != http.StatusOK {
			t.Errorf("%s: %d\n%s", tt.name, code, body)
			continue
		}
		for _, s := range tt.want {
			if !strings.Contains(body, s) {
				t.Errorf("%s: the page lacks %q", tt.name, s)
			}
		}
		for _, s := range tt.not {
			if strings.Contains(body, s) {
				t.Errorf("%s: the page has %q", tt.name, s)
			}
		}
	}
	// An internal error of the streams call is the error page.
	if code, _ := busPageBody(t, map[string][2]string{"/v1/bus/streams": {"500", `{"error":{"code":"internal","message":"boom"}}`}}, "/bus"); code != http.StatusInternalServerError {
		t.Errorf("streams failing: %d, want 500", code)
	}
}
