package osservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
)

// Event IDs of steward's entries in the Windows Event Log.
const (
	eventWarning = 2
	eventError   = 3
)

// logFileMax is the size at which steward.log is rotated.
const logFileMax = 10 << 20

// pendingHint is how long the Service Control Manager is told to wait
// between two progress reports while steward starts or stops; a report
// goes out every pendingTick.
const (
	pendingHint = 10 * time.Second
	pendingTick = 2 * time.Second
)

// RunManaged runs steward as the Windows service name under the Service
// Control Manager: it reports "start pending" at once and "running" when
// run calls Host.Ready; a stop or shutdown request cancels run's context,
// and steward reports "stopped" once run has returned. run failing on its
// own is reported with exit code 1, which makes the Service Control
// Manager apply the recovery actions (restart); an error while stopping on
// request is only logged. steward's warnings and errors go
// to the Event Log under the source name, which installing the service
// registers.
//
// It calls svc.Run itself, rather than through kardianos/service, which
// decides with svc.IsWindowsService whether a manager started it: that
// answer is wrong under Wine, and the command line already says.
func RunManaged(name string, stderr io.Writer, run func(context.Context, *Host) error) error {
	elog, err := eventlog.Open(name)
	if err != nil {
		return fmt.Errorf("open the event log as %s: %w", name, err)
	}
	defer elog.Close()
	ignoreLogoff()
	h := &handler{readyc: make(chan struct{}), run: run, report: eventSink(elog)}
	h.host = &Host{
		log:   &lineWriter{sink: atLeast(slog.LevelWarn, h.report)},
		ready: func() { close(h.readyc) },
	}
	h.host.openLog = func(dataDir string) (io.Writer, error) {
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		f, err := openLogFile(filepath.Join(dataDir, "steward.log"), logFileMax)
		if err != nil {
			return nil, err
		}
		h.closeLog = f.Close
		return io.MultiWriter(f, h.host.log), nil
	}
	err = svc.Run(name, h)
	if h.closeLog != nil {
		h.closeLog()
	}
	if errors.Is(err, windows.ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
		return fmt.Errorf("--%s is for the Service Control Manager, which did not start this steward: use steward run without it", ManagedFlag)
	}
	if err != nil {
		return fmt.Errorf("run as service %s: %w", name, err)
	}
	return h.err
}

// eventSink writes a log line to the Event Log.
func eventSink(elog *eventlog.Log) func(slog.Level, string) error {
	return func(level slog.Level, line string) error {
		if level >= slog.LevelError {
			return elog.Error(eventError, line)
		}
		return elog.Warning(eventWarning, line)
	}
}

// handler is steward's svc.Handler.
type handler struct {
	host     *Host
	run      func(context.Context, *Host) error
	readyc   chan struct{}                  // closed by Host.Ready
	report   func(slog.Level, string) error // to the Event Log
	err      error                          // what run returned
	closeLog func() error
}

// Execute runs steward and answers the Service Control Manager.
func (h *handler) Execute(_ []string, reqs <-chan svc.ChangeRequest, changes chan<- svc.Status) (bool, uint32) {
	const accepts = svc.AcceptStop | svc.AcceptShutdown
	status := svc.Status{State: svc.StartPending, WaitHint: uint32(pendingHint / time.Millisecond)}
	changes <- status
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.run(ctx, h.host) }()
	tick := time.NewTicker(pendingTick)
	defer tick.Stop()
	ready := h.readyc
	for {
		select {
		case <-ready:
			ready = nil
			if status.State == svc.StartPending {
				status = svc.Status{State: svc.Running, Accepts: accepts}
				changes <- status
			}
		case <-tick.C:
			if status.State == svc.StartPending || status.State == svc.StopPending {
				status.CheckPoint++
				changes <- status
			}
		case c := <-reqs:
			switch c.Cmd {
			case svc.Interrogate:
				changes <- status
			case svc.Stop, svc.Shutdown:
				if status.State != svc.StopPending {
					status = svc.Status{State: svc.StopPending, WaitHint: uint32(pendingHint / time.Millisecond)}
					changes <- status
					cancel()
				}
			}
		case err := <-done:
			h.err = err
			switch {
			case err == nil:
				return false, 0
			case status.State == svc.StopPending:
				// Asked to stop: an exit code would have the recovery
				// actions start steward again.
				h.report(slog.LevelError, "steward stopped, with an error: "+err.Error())
				return false, 0
			}
			h.report(slog.LevelError, "steward stopped: "+err.Error())
			return true, 1
		}
	}
}

var (
	kernel32                  = windows.NewLazySystemDLL("kernel32.dll")
	procSetConsoleCtrlHandler = kernel32.NewProc("SetConsoleCtrlHandler")
	logoffOnce                sync.Once
)

// ignoreLogoff keeps a user's logoff from stopping steward. Services get
// CTRL_LOGOFF_EVENT when any user logs off, and Go turns it into SIGTERM,
// on which steward stops; a handler registered after Go's runs first and
// takes the event.
func ignoreLogoff() {
	logoffOnce.Do(func() {
		cb := windows.NewCallback(func(ctrlType uint32) uintptr {
			if ctrlType == windows.CTRL_LOGOFF_EVENT {
				return 1
			}
			return 0
		})
		procSetConsoleCtrlHandler.Call(cb, 1)
	})
}
