package daemon

import (
	"context"
	"fmt"

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

// Why explains the named service's state; when the supervisor has seen no
// exit of it since steward started, the last stored one is added.
func (s services) Why(ctx context.Context, name string) (steward.Why, error) {
	w, err := s.Supervisor.Why(name)
	if err != nil || w.LastExit != nil {
		return w, err
	}
	exits, err := s.st.Exits(ctx, name, 1)
	if err != nil || len(exits) == 0 {
		return w, nil // the explanation stands without it
	}
	e := exits[0]
	w.LastExit = &e
	w.Details = append(w.Details, fmt.Sprintf("the last recorded run (pid %d), before this steward started, ended at %s: %s",
		e.PID, e.Ended.Local().Format("2006-01-02 15:04:05"), e.Status))
	return w, nil
}
