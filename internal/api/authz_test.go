package api_test

import (
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/auth"
)

// TestEveryRouteNamesAnAction: the authorizer decides on every route, so a
// route whose action it does not know, or a change that reads with an
// action meant for reading, fails here.
func TestEveryRouteNamesAnAction(t *testing.T) {
	for route, action := range api.RouteActions(newFixture(t).server) {
		if !auth.Known(action) {
			t.Errorf("%s: action %q is not one the authorizer knows", route, action)
			continue
		}
		method, _, _ := strings.Cut(route, " ")
		read := method == "GET" || method == "HEAD"
		// A fleet route carries a request the target authorizes against
		// its own route, whatever the method.
		if !read && !auth.Mutates(action) && route != "POST /v1/config/validate" && action != auth.ActionFleet {
			t.Errorf("%s changes something but names the action %q, which is not audited", route, action)
		}
		if read && auth.Mutates(action) {
			t.Errorf("%s reads but names the action %q, which needs more than reading", route, action)
		}
	}
}
