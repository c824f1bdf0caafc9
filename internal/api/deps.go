package api

import (
	"context"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/store"
)

// Services is the supervisor as the API drives it.
type Services interface {
	List() []steward.ServiceStatus
	Get(name string) (steward.ServiceStatus, error) // ENOTFOUND for an unknown name
	// Start, Stop and Restart act on the named services; no names means every
	// service (for Start: every service that is not disabled). They return
	// once the action has been taken (started/stopped), ENOTFOUND for an
	// unknown name before acting on any.
	Start(ctx context.Context, names []string) error
	Stop(ctx context.Context, names []string) error
	Restart(ctx context.Context, names []string) error
	Log(name string) (LogSource, error) // ENOTFOUND for an unknown name
}

// LogSource is one service's captured output.
type LogSource interface {
	Tail(n int) []logcap.Line
	Subscribe() (<-chan logcap.Line, func())
	// Rotate ends the log file unless it is empty and returns the name it
	// was renamed to, or "".
	Rotate() (string, error)
}

// Events is the event history and its live stream.
type Events interface {
	List(ctx context.Context, f store.EventFilter) ([]steward.Event, error)
	Subscribe() (<-chan steward.Event, func())
}

// Configs owns the applied configuration, its history and live reload.
type Configs interface {
	Current() *config.Config
	// Validate parses text as a config file would be; a config.ErrorList
	// error lists every problem.
	Validate(ctx context.Context, text []byte) error
	// Apply validates text, stores it as a new version and applies the
	// difference to the running services. An invalid text changes nothing.
	Apply(ctx context.Context, text []byte, who string) (Applied, error)
	// Reload re-reads the config file and applies it like Apply.
	Reload(ctx context.Context, who string) (Applied, error)
	Versions(ctx context.Context) ([]store.ConfigVersion, error)
	Version(ctx context.Context, n int) (store.ConfigVersion, error)
	// Rollback applies version n again, as a new version.
	Rollback(ctx context.Context, n int, who string) (Applied, error)
}

// Applied reports what applying a configuration did; the API answers with
// it as a steward.Applied.
type Applied struct {
	Version int
	Diff    config.Diff
}

func applied(a Applied) steward.Applied {
	return steward.Applied{Version: a.Version, Diff: steward.ConfigDiff(a.Diff)}
}
