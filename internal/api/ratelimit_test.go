package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/ipc"
)

// TestRateLimit: over TCP each principal has its own bucket; a request
// over it is a 429 with Retry-After and a JSON error, and changes
// nothing; the bucket refills with time.
func TestRateLimit(t *testing.T) {
	if api.NewRateLimiter(0, 5) != nil {
		t.Error("NewRateLimiter(0, 5) limits; want nil, no limit")
	}
	f := newTCPFixture(t)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	limit := api.NewRateLimiter(0.5, 2) // a request every 2 s, 2 at once
	api.SetLimiterClock(limit, func() time.Time { return now })
	l, err := ipc.ListenTCP("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.server.TCPHandler(f.tokens, limit), ConnContext: api.ConnContext}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + l.Addr().String()
	ctx := context.Background()
	a := client.New(url, client.WithToken(f.create(t, "a", steward.RoleOperator).Secret))
	b := client.New(url, client.WithToken(f.create(t, "b", steward.RoleOperator).Secret))
	defer a.Close()
	defer b.Close()
	for i := range 2 {
		if _, err := a.Services(ctx); err != nil {
			t.Fatalf("request %d of a: %v", i+1, err)
		}
	}
	_, err = a.Stop(ctx, "web")
	wantCode(t, err, steward.ETOOMANY)
	if st, _ := f.services.Get("web"); st.State != steward.StateRunning {
		t.Errorf("a refused stop stopped web: %s", st.State)
	}
	if _, err := b.Services(ctx); err != nil {
		t.Errorf("b, with a bucket of its own: %v", err)
	}

	req, _ := http.NewRequest("GET", url+"/v1/services", nil)
	req.Header.Set("Authorization", "Bearer "+mustToken(t, f, "c"))
	for range 2 {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body steward.ErrorResponse
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" ||
		json.NewDecoder(resp.Body).Decode(&body) != nil || body.Error.Code != steward.ETOOMANY {
		t.Errorf("over the limit: %d, Retry-After %q, %+v; want 429, 2, too_many_requests", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}

	now = now.Add(2 * time.Second)
	if _, err := a.Services(ctx); err != nil {
		t.Errorf("a, 2 s later: %v", err)
	}
	_, err = a.Services(ctx)
	wantCode(t, err, steward.ETOOMANY)
	if err := a.Health(ctx); err != nil {
		t.Errorf("healthz over the limit: %v; it is not limited", err)
	}
}

func mustToken(t *testing.T, f *tcpFixture, name string) string {
	t.Helper()
	return f.create(t, name, steward.RoleViewer).Secret
}
