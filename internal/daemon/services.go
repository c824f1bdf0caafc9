package daemon

import (
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/supervise"
)

// services adapts the supervisor to the API's view of it.
type services struct{ *supervise.Supervisor }

var _ api.Services = services{}

// Log returns the named service's captured output.
func (s services) Log(name string) (api.LogSource, error) {
	l, err := s.Supervisor.Log(name)
	if err != nil {
		return nil, err
	}
	return l, nil
}
