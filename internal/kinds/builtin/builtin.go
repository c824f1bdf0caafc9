// Package builtin lists steward's built-in kinds and notifiers: the
// registries that cmd/steward passes to config.Parse and the daemon, and
// that tests and benchmarks parse configurations with. Only they import it.
package builtin

import (
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds"
	"github.com/stewardhq/steward/internal/kinds/logwatch"
	"github.com/stewardhq/steward/internal/kinds/sysmon"
	"github.com/stewardhq/steward/internal/kinds/workbook"
	"github.com/stewardhq/steward/internal/notify"
)

// Kinds returns the built-in kinds, by name.
func Kinds() kinds.Registry {
	return kinds.Registry{
		sysmon.Name:   sysmon.Definition(),
		logwatch.Name: logwatch.Definition(),
		workbook.Name: workbook.Definition(),
	}
}

// Config returns the registry config.Parse needs for a file that may use
// the built-in kinds and notifiers.
func Config() config.Registry {
	return config.Registry{Kinds: Kinds().Schemas(), Notifiers: notify.Types()}
}
