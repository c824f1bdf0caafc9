package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
)

// SetKeepalive sets how often an idle event stream gets a comment.
func SetKeepalive(s *Server, d time.Duration) { s.keepalive = d }

// SetNow sets the clock of s.
func SetNow(s *Server, now func() time.Time) { s.now = now }

// Routes returns "METHOD PATH" of every route, in table order.
func Routes(s *Server) []string {
	var out []string
	for _, r := range s.routes() {
		out = append(out, r.method+" "+strings.ReplaceAll(r.path, "...}", "}"))
	}
	return out
}

// RouteActions returns the action of every route, by "METHOD PATH".
func RouteActions(s *Server) map[string]auth.Action {
	out := map[string]auth.Action{}
	for _, r := range s.routes() {
		out[r.method+" "+r.path] = r.action
	}
	return out
}

// ErrorResponse is the status and body the API answers err with.
func ErrorResponse(err error) (int, steward.ErrorBody) { return errorResponse(err) }

// Endpoint returns the handler the route table would make of a route with
// action a and handler h, for a route whose action the authorizer may not
// know.
func Endpoint(s *Server, a auth.Action, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return s.endpoint(route{"POST", "/v1/test", a, h})
}

// Streams returns how many requests of the token with accessor are under
// way.
func Streams(s *Server, accessor string) int {
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	return len(s.streams.m[accessor])
}

// SetLimiterClock sets the clock of l.
func SetLimiterClock(l *RateLimiter, now func() time.Time) { l.now = now }

// FleetTarget is fleetTarget: the API request a fleet route carries.
func FleetTarget(r *http.Request) (string, error) { return fleetTarget(r) }

// DecodeRegistration is decodeRegistration.
var DecodeRegistration = decodeRegistration
