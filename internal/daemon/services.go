package daemon

import (
	"context"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/supervise"
)

// services adapts the supervisor, and the store for the exits it keeps,
// to the API's view of them.
type services struct {
	*supervise.Supervisor
	st *store.Store
}

var _ api.Services = services{}

// Log returns the named service's captured output.
func (s services) Log(name string) (api.LogSource, error) {
	l, err := s.Supervisor.Log(name)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Exits returns the newest limit exits of the named service from the
// store, newest first.
func (s services) Exits(ctx context.Context, name string, limit int) ([]steward.Exit, error) {
	if _, err := s.Supervisor.Get(name); err != nil {
		return nil, err
	}
	return s.st.Exits(ctx, name, limit)
}
