package main

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api/apitest"
)

// TestFleetCommands: ps, events and alerts --fleet print every node's
// items with their node, by time, and report on stderr, with the exit
// status 1, a node that answered an error or something else than a list;
// without a fleet they fail.
func TestFleetCommands(t *testing.T) {
	answers := map[string][]steward.FleetAnswer{
		"/v1/fleet/v1/events": {
			{Node: "na", Status: 200, Body: json.RawMessage(`[{"id":7,"time":"2026-12-07T12:00:02Z","type":"state","service":"web","reason":"second"}]`)},
			{Node: "nb", Status: 200, Body: json.RawMessage(`[{"id":3,"time":"2026-12-07T12:00:01Z","type":"state","service":"db","reason":"first"}]`)},
			{Node: "nc", Error: &steward.ErrorBody{Code: steward.EUNAVAILABLE, Message: `node "nc" is down (last seen 3s ago)`}},
		},
		"/v1/fleet/v1/alerts": {
			{Node: "na", Status: 200, Body: json.RawMessage(`[{"id":1,"rule":"failed","subject":"web","severity":"critical","state":"firing","started":"2026-12-07T12:00:05Z"}]`)},
			{Node: "nb", Status: 200, Body: json.RawMessage(`[{"id":2,"rule":"cpu","subject":"db","severity":"warning","state":"pending","started":"2026-12-07T12:00:01Z"}]`)},
		},
		"/v1/fleet/v1/services": {
			{Node: "na", Status: 200, Body: json.RawMessage(`{"not":"a list"}`)},
		},
	}
	var (
		mu      sync.Mutex
		queries []string
	)
	socket := apitest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		queries = append(queries, r.URL.RawQuery)
		a, ok := answers[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusConflict)
			json.NewEncoder(w).Encode(steward.ErrorResponse{Error: steward.ErrorBody{Code: steward.ECONFLICT, Message: "no fleet: add a bus: section to the configuration"}})
			return
		}
		json.NewEncoder(w).Encode(a)
	}))
	run := func(args ...string) (int, string, string) {
		return run(append([]string{"--socket", socket}, args...)...)
	}

	code, out, stderr := run("events", "--fleet", "-o", "json", "--service", "web", "-n", "5")
	var evs []steward.FleetEvent
	mu.Lock()
	query := queries[0]
	mu.Unlock()
	if code != 1 || json.Unmarshal([]byte(out), &evs) != nil || len(evs) != 2 || evs[0].Node != "nb" || evs[0].Reason != "first" || evs[1].Node != "na" ||
		stderr != "steward: node nc: node \"nc\" is down (last seen 3s ago)\n" || query != "limit=5&service=web" {
		t.Errorf("events --fleet -o json: exit %d: %s%s %s", code, out, stderr, query)
	}
	code, out, _ = run("events", "--fleet")
	want(t, []string{"events --fleet"}, 1, code, out, "", "NODE  TIME", "nb    ", "first")

	code, out, stderr = run("alerts", "--fleet", "--all", "-o", "json")
	var als []steward.FleetAlert
	if code != 0 || json.Unmarshal([]byte(out), &als) != nil || len(als) != 2 || als[0].Node != "nb" || als[0].ID != 2 || als[1].Node != "na" || stderr != "" {
		t.Errorf("alerts --fleet -o json: exit %d: %s%s", code, out, stderr)
	}
	code, out, stderr = run("alerts", "--fleet")
	want(t, []string{"alerts --fleet"}, 0, code, out, stderr, "NODE  ID  STATE", "na    1   firing")

	code, out, stderr = run("ps", "--fleet", "-o", "json")
	want(t, []string{"ps --fleet"}, 1, code, out, stderr, "[]", `steward: node na: node "na" answered json: cannot unmarshal`)

	mu.Lock()
	clear(answers)
	mu.Unlock()
	for _, args := range [][]string{{"ps", "--fleet"}, {"events", "--fleet"}, {"alerts", "--fleet"}} {
		code, out, stderr := run(args...)
		want(t, args, 1, code, out, stderr, "no fleet: add a bus: section")
	}
}
