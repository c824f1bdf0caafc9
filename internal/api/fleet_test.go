package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/fleet"
)

// fakeFleet is a fleet of one other node, "nb", that answers 200 with
// the request it got.
type fakeFleet struct {
	got  []fleet.Request
	fan  steward.Principal
	regs []fleet.Registration // registered
	gone []string             // deregistered: name/id/tenant
}

func (f *fakeFleet) Nodes() ([]steward.Node, error) {
	return []steward.Node{{Name: "nb", State: steward.NodeUp}}, nil
}

func (f *fakeFleet) Forward(_ context.Context, node string, rq fleet.Request, w http.ResponseWriter) error {
	if node != "nb" {
		return steward.Errorf(steward.ENOTFOUND, "no node %q in the fleet", node)
	}
	f.got = append(f.got, rq)
	if rq.Stream { // a stream that breaks after a line
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		json.NewEncoder(w).Encode(steward.LogLine{Stream: "stdout", Text: "one"})
		return steward.Errorf(steward.EUNAVAILABLE, "node %q stopped answering", node)
	}
	w.WriteHeader(http.StatusAccepted)
	return json.NewEncoder(w).Encode(map[string]string{"target": rq.Target, "body": string(rq.Body)})
}

func (f *fakeFleet) FanOut(_ context.Context, target string, p steward.Principal) ([]steward.FleetAnswer, error) {
	f.fan = p
	return []steward.FleetAnswer{{Node: "nb", Status: 200, Body: json.RawMessage(`"` + target + `"`)}}, nil
}

func (f *fakeFleet) Instances(q fleet.Filter) ([]steward.Instance, error) {
	if q.Name == "none" {
		return nil, nil
	}
	return []steward.Instance{{Name: q.Name + "|" + q.Tag + "|" + q.Node, Healthy: q.Healthy, Tenant: q.Tenant}}, nil
}

// TestFleetRoutes: the fleet routes hand the request, with the caller's
// principal, to the fleet; refuse to carry a fleet route, or to fan out a
// stream; forward a stream, whose failure comes in its trailer; and answer
// 409 without a fleet.
func TestFleetRoutes(t *testing.T) {
	ff := &fakeFleet{}
	f := newFixture(t, func(o *api.Options) { o.Fleet = ff })
	status, _, body := f.do(t, "POST", "/v1/nodes/nb/proxy/v1/services/web/stop?x=1", strings.NewReader(`{"a":1}`))
	if status != http.StatusAccepted || !strings.Contains(string(body), `"target":"/v1/services/web/stop?x=1"`) || len(ff.got) != 1 ||
		ff.got[0].Method != "POST" || string(ff.got[0].Body) != `{"a":1}` || ff.got[0].Principal.Via != "socket" || ff.got[0].Principal.Who == "" {
		t.Errorf("proxy: %d %s %+v", status, body, ff.got)
	}
	// This node's own name: answered here.
	if status, _, body := f.do(t, "GET", "/v1/nodes/node-1/proxy/v1/services/web", nil); status != 200 || !strings.Contains(string(body), `"name":"web"`) {
		t.Errorf("proxy to this node: %d %s", status, body)
	}
	if status, _, body := f.do(t, "GET", "/v1/nodes/nowhere/proxy/v1/services", nil); status != 404 {
		t.Errorf("proxy to an unknown node: %d %s", status, body)
	}
	for _, p := range []string{"/v1/nodes/nb/proxy/v1/nodes/nc/proxy/v1/services", "/v1/nodes/nb/proxy/v1/fleet/v1/services", "/v1/fleet/v1/fleet/x"} {
		if status, _, body := f.do(t, "GET", p, nil); status != 400 || !strings.Contains(string(body), "cannot carry another") {
			t.Errorf("%s: %d %s", p, status, body)
		}
	}
	if status, _, body := f.do(t, "GET", "/v1/fleet/v1/events?follow=1", nil); status != 400 || !strings.Contains(string(body), "stream") {
		t.Errorf("a stream fanned out: %d %s", status, body)
	}
	ff.got = nil
	for _, p := range []string{"/v1/nodes/nb/proxy/v1/events?follow=true", "/v1/nodes/nb/proxy/v1/events"} {
		if status, _, body := f.do(t, "GET", p, nil, "Accept", "text/event-stream"); status != 200 || !strings.Contains(string(body), `"text":"one"`) {
			t.Errorf("%s: %d %s", p, status, body)
		}
	}
	if len(ff.got) != 2 || !ff.got[0].Stream || !ff.got[1].Stream {
		t.Errorf("streams forwarded: %+v", ff.got)
	}
	nb := client.New(f.socket, client.WithNode("nb"))
	var lines []string
	err := nb.FollowLogs(context.Background(), "web", 1, true, func(l steward.LogLine) error {
		lines = append(lines, l.Text)
		return nil
	})
	if steward.ErrorCode(err) != steward.EUNAVAILABLE || !strings.Contains(err.Error(), `read logs: node "nb" stopped answering`) || len(lines) != 1 {
		t.Errorf("logs -f of nb, which stops answering: %v %q", err, lines)
	}
	status, _, body = f.do(t, "GET", "/v1/fleet/v1/services?all=1", nil)
	if status != 200 || string(body) != `[{"node":"nb","status":200,"body":"/v1/services?all=1"}]`+"\n" || ff.fan.Via != "socket" {
		t.Errorf("fan-out: %d %s %+v", status, body, ff.fan)
	}
	if status, _, body := f.do(t, "GET", "/v1/nodes", nil); status != 200 || !strings.Contains(string(body), `"name":"nb"`) {
		t.Errorf("nodes: %d %s", status, body)
	}
	for p, want := range map[string]string{
		"/v1/registry?name=shop&tag=v1&node=nb": `[{"id":"","name":"shop|v1|nb"`,
		"/v1/registry/db?tag=t":                 `[{"id":"","name":"db|t|"`,
		"/v1/registry/none":                     `[]`,
	} {
		if status, _, body := f.do(t, "GET", p, nil); status != 200 || !strings.HasPrefix(string(body), want) {
			t.Errorf("%s: %d %s", p, status, body)
		}
	}

	none := newFixture(t)
	for _, p := range []string{"/v1/nodes", "/v1/nodes/nb/proxy/v1/services", "/v1/fleet/v1/services", "/v1/registry", "/v1/registry/x"} {
		if status, _, body := none.do(t, "GET", p, nil); status != http.StatusConflict || !strings.Contains(string(body), "no fleet") {
			t.Errorf("%s without a fleet: %d %s", p, status, body)
		}
	}
}

// TestForwardedPrincipal: a request another node forwards is authorized
// for its principal against this node's route, and audited with it, via
// the node.
func TestForwardedPrincipal(t *testing.T) {
	_, log, opt := withAuth(t)
	f := newFixture(t, opt)
	ctx := context.Background()
	for _, c := range []struct {
		role   string
		status int
	}{{steward.RoleViewer, http.StatusForbidden}, {steward.RoleOperator, http.StatusOK}} {
		p := steward.Principal{Who: "uid:1000:bob", Role: c.role, Via: "node:na"}
		req := httptest.NewRequest("POST", "/v1/services/web/stop", nil).WithContext(api.WithPrincipal(ctx, p))
		w := httptest.NewRecorder()
		f.server.Handler().ServeHTTP(w, req)
		if w.Code != c.status {
			t.Errorf("stop as a forwarded %s: %d %s, want %d", c.role, w.Code, w.Body, c.status)
		}
		// A read needs only a viewer.
		req = httptest.NewRequest("GET", "/v1/services", nil).WithContext(api.WithPrincipal(ctx, p))
		w = httptest.NewRecorder()
		f.server.Handler().ServeHTTP(w, req)
		if w.Code != 200 {
			t.Errorf("ps as a forwarded %s: %d", c.role, w.Code)
		}
	}
	recs, err := log.Records(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Principal+" "+r.Outcome)
	}
	want := []string{
		"uid:1000:bob (operator, via node:na) ok",
		"uid:1000:bob (operator, via node:na) attempt",
		"uid:1000:bob (viewer, via node:na) denied",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// FuzzFleetTarget: the target a fleet route carries is an API path of
// its own, never another fleet route, whatever the request's path.
func FuzzFleetTarget(f *testing.F) {
	for _, s := range []string{"v1/services", "v1/nodes/x/proxy/v1/info", "./v1/fleet/v1/x", "v1//nodes/a", "v1/nodes", "", "%2e%2e/v1/fleet/", "%761/nodes/x", "a?b", "a#b"} {
		f.Add(s, "a=1")
	}
	f.Fuzz(func(t *testing.T, p, query string) {
		if _, err := url.Parse("http://steward/?" + query); err != nil || strings.Contains(query, "#") {
			return // no request has this query
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = query
		r.SetPathValue("path", p)
		target, err := api.FleetTarget(r)
		if err != nil {
			return
		}
		u, err := url.Parse("http://steward" + target) // as the node reads it
		if err != nil {
			t.Fatalf("path %q query %q: target %q: %v", p, query, target, err)
		}
		clean := path.Clean(u.Path) + "/"
		if u.Path != "/"+p || strings.HasPrefix(clean, "/v1/nodes/") || strings.HasPrefix(clean, "/v1/fleet/") {
			t.Errorf("path %q query %q: target %q", p, query, target)
		}
	})
}
