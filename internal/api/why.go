package api

import (
	"context"
	"net/http"

	"github.com/stewardhq/steward"
)

// Forensics explains services: why each is in its state, and how its runs
// ended.
type Forensics interface {
	Why(ctx context.Context, name string) (steward.Why, error) // ENOTFOUND for an unknown name
	// Exits returns the newest limit exits of the service, newest first;
	// limit 0 means the store's default.
	Exits(ctx context.Context, name string, limit int) ([]steward.Exit, error)
}

var errNoForensics = steward.Errorf(steward.EUNAVAILABLE, "exit records are not available")

// maxExits is the most exits one request returns.
const maxExits = 1000

func (s *Server) why(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Forensics == nil {
		return errNoForensics
	}
	why, err := s.opts.Forensics.Why(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, why)
}

func (s *Server) exits(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Forensics == nil {
		return errNoForensics
	}
	limit, err := intParam("limit", r.URL.Query().Get("limit"), 1, 0)
	if err != nil {
		return err
	}
	exits, err := s.opts.Forensics.Exits(r.Context(), r.PathValue("name"), min(limit, maxExits))
	if err != nil {
		return err
	}
	if exits == nil {
		exits = []steward.Exit{}
	}
	return writeJSON(w, http.StatusOK, exits)
}
