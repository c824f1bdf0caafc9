package osservice

import (
	"io"
	"sync"
)

// Host is the OS service manager as the steward it runs sees it: where to
// log and whom to tell that steward runs. Its methods are safe for
// concurrent use.
type Host struct {
	log     io.Writer
	openLog func(dataDir string) (io.Writer, error)
	ready   func()
	once    sync.Once
}

// Log returns where steward logs before it knows its data dir: the
// standard error that systemd and launchd collect (under systemd with each
// line's priority for the journal), or the Windows Event Log, which takes
// the warnings and errors. Lines are in slog's text format; a line without
// a level counts as an error.
func (h *Host) Log() io.Writer { return h.log }

// OpenLog returns where steward logs once it knows its data dir: Log on
// Unix; on Windows the file steward.log in dataDir (rotated at 10 MB into
// steward.log.1), with the warnings and errors also in the Event Log.
func (h *Host) OpenLog(dataDir string) (io.Writer, error) {
	if h.openLog == nil {
		return h.log, nil
	}
	return h.openLog(dataDir)
}

// Ready tells the manager that steward runs: call it once the API serves.
// Calls after the first do nothing.
func (h *Host) Ready() {
	h.once.Do(func() {
		if h.ready != nil {
			h.ready()
		}
	})
}
