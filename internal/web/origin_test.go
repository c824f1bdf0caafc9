package web

import (
	"net/http"
	"testing"

	"github.com/stewardhq/steward"
)

// TestOriginBehindTLSProxy drives the API from a session whose page was
// served over https by a proxy that speaks plain http to steward: the
// request's Origin is https://HOST while steward sees no TLS. It must be
// accepted, and the same request from another host refused.
func TestOriginBehindTLSProxy(t *testing.T) {
	f := newFixture(t, true)
	sid, csrf := f.login()
	w := f.do(request{method: "POST", path: "/v1/services/db/stop", cookie: sid,
		header: map[string]string{"Origin": "https://evil.test", csrfHeader: csrf}})
	if w.Code != http.StatusForbidden {
		t.Errorf("stop from https://evil.test: %d %s, want 403", w.Code, w.Body)
	}
	w = f.do(request{method: "POST", path: "/v1/services/db/stop", cookie: sid,
		header: map[string]string{"Origin": "https://example.test", csrfHeader: csrf}})
	if w.Code != http.StatusOK {
		t.Fatalf("stop from https://example.test through a proxy: %d %s, want 200", w.Code, w.Body)
	}
	if st, _ := f.services.Get("db"); st.State != steward.StateStopped {
		t.Errorf("db is %s after an accepted stop, want stopped", st.State)
	}
}
