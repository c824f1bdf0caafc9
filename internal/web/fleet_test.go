package web

import (
	"net/http"
	"strings"
	"testing"
)

const (
	nodesJSON = `[{"name":"na","state":"up","version":"1.4.0","address":"127.0.0.1:7000","services":2,"last_seen":"2026-12-07T12:00:00Z","self":true},` +
		`{"name":"nb","state":"up","version":"1.4.0","services":1,"last_seen":"2026-12-07T12:00:00Z"},` +
		`{"name":"nc","state":"down","version":"1.3.0","services":0,"last_seen":"2026-12-07T11:00:00Z"}]`
	registryJSON = `[{"id":"nb/web","name":"shop","node":"nb","address":"10.0.0.5","port":8080,"healthy":true,"tags":["v1","blue"],"service":"web"},` +
		`{"id":"na/db","name":"db","node":"na","address":"10.0.0.4","port":5432,"healthy":false,"tags":[],"service":"db"}]`
	nbServicesJSON = `[{"name":"web","kind":"process","state":"running","pid":42,"restarts":1,"health":"healthy","since":"2026-12-07T11:59:00Z"},` +
		`{"name":"old","kind":"process","state":"stopped","health":"unknown","since":"2026-12-07T11:00:00Z"}]`
	nbEventsJSON = `[{"id":1,"time":"2026-12-07T11:58:00Z","type":"state","service":"web","from":"starting","to":"running","pid":42,"reason":"started"},` +
		`{"id":2,"time":"2026-12-07T11:59:00Z","type":"config","reason":"config version 2 applied"}]`
)

func TestFleetPage(t *testing.T) {
	for _, tt := range []struct {
		name    string
		answers map[string][2]string
		path    string
		status  int
		want    []string
		not     []string
	}{
		{"nodes and registry", map[string][2]string{"/v1/nodes": {"", nodesJSON}, "/v1/registry": {"", registryJSON}}, "/fleet", 200,
			[]string{`href="/fleet" aria-current="page"`, `<span class="count">2/3 up</span>`, `<a href="/fleet/na" class="strong">na</a> <span class="tag">this node</span>`,
				`data-node="nc" data-state="down"`, `<span class="chip state-failed"><i></i>down</span>`, "1.3.0", "127.0.0.1:7000",
				`data-instance="nb/web"`, `<span class="tag">v1</span> <span class="tag">blue</span>`, `<a href="/fleet/nb?service=web">web</a>`,
				`<span class="chip health-healthy"><i></i>healthy</span>`, `<span class="chip health-unhealthy"><i></i>unhealthy</span>`, `data-refresh="5"`},
			[]string{"No instances"}},
		{"no registry", map[string][2]string{"/v1/nodes": {"", `[]`}, "/v1/registry": {"", `[]`}}, "/fleet", 200,
			[]string{"No nodes yet.", "No instances"}, nil},
		{"no fleet", map[string][2]string{"/v1/nodes": {"409", `{"error":{"code":"conflict","message":"no fleet: add a bus: section to the configuration"}}`}}, "/fleet", 200,
			[]string{`id="fleet-off"`, "no fleet: add a bus: section to the configuration"}, []string{"fleet-nodes"}},
		{"nodes fail", map[string][2]string{"/v1/nodes": {"500", `{"error":{"code":"internal","message":"boom"}}`}}, "/fleet", 500, nil, nil},
		{"node", map[string][2]string{"/v1/nodes": {"", nodesJSON}, "/v1/nodes/nb/proxy/v1/services": {"", nbServicesJSON},
			"/v1/nodes/nb/proxy/v1/events": {"", nbEventsJSON}}, "/fleet/nb", 200,
			[]string{`<h1>nb</h1>`, `href="/fleet" aria-current="page"`, `<a href="/fleet/nb?service=web" class="strong">web</a>`,
				`data-action="/v1/nodes/nb/proxy/v1/services/web/restart"`, `data-done="web stopped on nb"`, `data-needs="operator"`,
				`data-action="/v1/nodes/nb/proxy/v1/services/web/start" data-done="web started on nb" disabled`,
				"config version 2 applied", `<a href="/fleet/nb?service=web">web</a>`},
			[]string{`id="logs"`}},
		{"node with a service's output", map[string][2]string{"/v1/nodes": {"", nodesJSON}, "/v1/nodes/nb/proxy/v1/services": {"", nbServicesJSON},
			"/v1/nodes/nb/proxy/v1/events": {"", `[]`}}, "/fleet/nb?service=web", 200,
			[]string{`<h2>Output of web</h2>`, `id="logs" data-base="/v1/nodes/nb/proxy" data-service="web"`, "No events yet."}, nil},
		{"node without that service", map[string][2]string{"/v1/nodes": {"", nodesJSON}, "/v1/nodes/nb/proxy/v1/services": {"", nbServicesJSON},
			"/v1/nodes/nb/proxy/v1/events": {"", `[]`}}, "/fleet/nb?service=nothing", 200,
			nil, []string{`id="logs"`}},
		{"node down", map[string][2]string{"/v1/nodes": {"", nodesJSON},
			"/v1/nodes/nc/proxy/v1/services": {"503", `{"error":{"code":"unavailable","message":"node \"nc\" is down (last seen 1h0m0s ago)"}}`}}, "/fleet/nc", 200,
			[]string{`id="node-error"`, "node &#34;nc&#34; is down (last seen 1h0m0s ago)", "version 1.3.0"}, []string{"node-services"}},
		{"unknown node", map[string][2]string{"/v1/nodes": {"", nodesJSON}}, "/fleet/nx", 404,
			[]string{`id="node-unknown"`, "There is no node nx in the fleet."}, nil},
		{"node events fail", map[string][2]string{"/v1/nodes": {"", nodesJSON}, "/v1/nodes/nb/proxy/v1/services": {"", nbServicesJSON},
			"/v1/nodes/nb/proxy/v1/events": {"500", `{"error":{"code":"internal","message":"boom"}}`}}, "/fleet/nb", 500, nil, nil},
		{"node list fails", map[string][2]string{"/v1/nodes": {"409", `{"error":{"code":"conflict","message":"no fleet"}}`}}, "/fleet/nb", 409, []string{"no fleet"}, nil},
	} {
		code, body := busPageBody(t, tt.answers, tt.path)
		if code != tt.status {
			t.Errorf("%s: %d, want %d\n%s", tt.name, code, tt.status, body)
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
}

// TestFleetPageRegistryFails: a registry that fails is the error page.
func TestFleetPageRegistryFails(t *testing.T) {
	code, _ := busPageBody(t, map[string][2]string{"/v1/nodes": {"", nodesJSON}, "/v1/registry": {"500", `{"error":{"code":"internal","message":"boom"}}`}}, "/fleet")
	if code != http.StatusInternalServerError {
		t.Errorf("registry failing: %d, want 500", code)
	}
}
