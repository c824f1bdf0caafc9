package supervise

import (
	"io/fs"
	"slices"
	"syscall"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/logcap"
)

// TestLogFileEvents: a service's log file that stops being written, and
// is written again, makes a log event and the logfile condition each time,
// and the service runs on untouched.
func TestLogFileEvents(t *testing.T) {
	f := startFakes(t, "services:\n  a: {command: [app]}\n")
	if err := f.sup.Start(f.ctx(), nil); err != nil {
		t.Fatal(err)
	}
	svc := f.sup.service("a")
	since := f.clock.Now()
	svc.logFileChanged(logcap.FileState{Err: &fs.PathError{Op: "write", Path: "/data/logs/a.log", Err: syscall.ENOSPC}, Since: since})
	svc.logFileChanged(logcap.FileState{Since: since, Lines: 129000, Bytes: 9000000})
	down := "log of a is not being written: write /data/logs/a.log: no space left on device"
	up := "log of a is being written again: 129000 lines (9000000 bytes) of output since 2026-03-01T12:00:00Z are missing from it"
	if got, want := f.events.reasons("a", steward.EventLog), []string{down, up}; !slices.Equal(got, want) {
		t.Errorf("log events = %q, want %q", got, want)
	}
	waitCount(t, f.mon, "a logfile true: "+down, 1)
	waitCount(t, f.mon, "a logfile false: "+up, 1)
	if st := f.waitState("a", steward.StateRunning); st.Restarts != 0 || st.PID != f.proc("a", 1).Pid() {
		t.Errorf("a after its log's outage: %+v, want the first process running", st)
	}
}
