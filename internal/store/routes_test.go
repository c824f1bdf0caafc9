package store

import (
	"context"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

// TestRouteAlerts: what a route notified is kept across a reopen,
// replaced by fingerprint and forgotten per route.
func TestRouteAlerts(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	t0 := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	save := func(route string, notified []RouteAlert, forget ...string) {
		t.Helper()
		if err := s.SaveRouteAlerts(ctx, route, notified, forget); err != nil {
			t.Fatal(err)
		}
	}
	save("ops", []RouteAlert{
		{Route: "ops", Fingerprint: "alert-1", Alert: []byte(`{"a":1}`), Notified: t0},
		{Route: "ops", Fingerprint: "alert-2", Alert: []byte(`{"a":2}`), Notified: t0},
	})
	save("dev", []RouteAlert{{Route: "dev", Fingerprint: "alert-1", Alert: []byte(`{"d":1}`), Notified: t0}})
	save("ops", []RouteAlert{{Route: "ops", Fingerprint: "alert-2", Alert: []byte(`{"a":22}`), Notified: t0.Add(time.Hour)}}, "alert-1")

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.RouteAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []RouteAlert{
		{Route: "dev", Fingerprint: "alert-1", Alert: []byte(`{"d":1}`), Notified: t0},
		{Route: "ops", Fingerprint: "alert-2", Alert: []byte(`{"a":22}`), Notified: t0.Add(time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("route alerts = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Route != w.Route || g.Fingerprint != w.Fingerprint || string(g.Alert) != string(w.Alert) || !g.Notified.Equal(w.Notified) {
			t.Errorf("route alert %d = %+v, want %+v", i, g, w)
		}
	}
	err = s.SaveRouteAlerts(ctx, "ops", []RouteAlert{{Route: "dev", Fingerprint: "x"}}, nil)
	if got := steward.ErrorCode(err); got != steward.EINVALID {
		t.Errorf("alert of another route: code %q (err %v), want %q", got, err, steward.EINVALID)
	}
}
