package api

import (
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
