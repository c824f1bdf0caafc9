package osservice

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc"
)

// execute runs h.Execute as the Service Control Manager would and returns
// the channels to drive it, and its result once it has returned.
func execute(h *handler) (reqs chan svc.ChangeRequest, changes chan svc.Status, result chan [2]uint32) {
	reqs = make(chan svc.ChangeRequest)
	changes = make(chan svc.Status, 16)
	result = make(chan [2]uint32, 1)
	go func() {
		specific, code := h.Execute(nil, reqs, changes)
		b := uint32(0)
		if specific {
			b = 1
		}
		result <- [2]uint32{b, code}
	}()
	return reqs, changes, result
}

func nextState(t *testing.T, changes chan svc.Status) svc.Status {
	t.Helper()
	select {
	case st := <-changes:
		return st
	case <-time.After(5 * time.Second):
		t.Fatal("no status change within 5s")
	}
	return svc.Status{}
}

func newTestHandler(run func(context.Context, *Host) error) (*handler, *sinkRecorder) {
	var r sinkRecorder
	h := &handler{readyc: make(chan struct{}), run: run, report: r.sink}
	h.host = &Host{log: &lineWriter{sink: atLeast(slog.LevelWarn, r.sink)}, ready: func() { close(h.readyc) }}
	return h, &r
}

func TestExecuteReportsRunningOnceReadyAndStopsOnRequest(t *testing.T) {
	stopped := make(chan struct{})
	h, _ := newTestHandler(func(ctx context.Context, host *Host) error {
		host.Ready()
		<-ctx.Done()
		close(stopped)
		return nil
	})
	reqs, changes, result := execute(h)
	if st := nextState(t, changes); st.State != svc.StartPending {
		t.Fatalf("first status %v, want StartPending", st.State)
	}
	if st := nextState(t, changes); st.State != svc.Running || st.Accepts != svc.AcceptStop|svc.AcceptShutdown {
		t.Fatalf("then %+v, want Running accepting stop and shutdown", st)
	}
	reqs <- svc.ChangeRequest{Cmd: svc.Interrogate}
	if st := nextState(t, changes); st.State != svc.Running {
		t.Errorf("interrogate: %v", st.State)
	}
	reqs <- svc.ChangeRequest{Cmd: svc.Stop}
	if st := nextState(t, changes); st.State != svc.StopPending {
		t.Errorf("after stop: %v, want StopPending", st.State)
	}
	<-stopped
	if got := <-result; got != [2]uint32{0, 0} {
		t.Errorf("Execute returned %v, want success", got)
	}
}

func TestExecuteStopsBeforeReady(t *testing.T) {
	h, _ := newTestHandler(func(ctx context.Context, _ *Host) error {
		<-ctx.Done()
		return nil
	})
	reqs, changes, result := execute(h)
	nextState(t, changes) // StartPending
	reqs <- svc.ChangeRequest{Cmd: svc.Shutdown}
	if st := nextState(t, changes); st.State != svc.StopPending {
		t.Errorf("after shutdown: %v, want StopPending", st.State)
	}
	if got := <-result; got != [2]uint32{0, 0} {
		t.Errorf("Execute returned %v", got)
	}
}

func TestExecuteReportsAFailure(t *testing.T) {
	h, r := newTestHandler(func(context.Context, *Host) error {
		return errors.New("listen on \\\\.\\pipe\\steward: steward is already running")
	})
	_, changes, result := execute(h)
	nextState(t, changes)
	if got := <-result; got != [2]uint32{1, 1} {
		t.Errorf("Execute returned %v, want service exit code 1", got)
	}
	if len(r.lines) != 1 || !strings.HasPrefix(r.lines[0], slog.LevelError.String()+" steward stopped: listen on") {
		t.Errorf("reported %q", r.lines)
	}
	if h.err == nil {
		t.Error("the error is not kept for RunManaged")
	}
}

func TestRunManagedOutsideTheServiceManager(t *testing.T) {
	err := RunManaged("steward-test", nil, func(context.Context, *Host) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "Service Control Manager") {
		t.Errorf("got %v", err)
	}
}

func TestExecuteStopErrorIsNoFailure(t *testing.T) {
	h, r := newTestHandler(func(ctx context.Context, host *Host) error {
		host.Ready()
		<-ctx.Done()
		return errors.New("shut down: web did not stop")
	})
	reqs, changes, result := execute(h)
	nextState(t, changes) // StartPending
	nextState(t, changes) // Running
	reqs <- svc.ChangeRequest{Cmd: svc.Stop}
	nextState(t, changes) // StopPending
	if got := <-result; got != [2]uint32{0, 0} {
		t.Errorf("Execute returned %v, want success: the recovery actions must not restart a stopped steward", got)
	}
	if len(r.lines) != 1 || !strings.Contains(r.lines[0], "steward stopped, with an error: shut down: web did not stop") {
		t.Errorf("reported %q", r.lines)
	}
}
