package osservice

import (
	"context"
	"testing"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/stewardhq/steward"
)

// rpcss is a service every Windows (and Wine) runs.
const rpcss = "RpcSs"

func TestSCMListAndGet(t *testing.T) {
	ctx := context.Background()
	m, err := Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	list, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range list {
		found = found || s.Name == rpcss
	}
	if !found {
		t.Errorf("%s not among the %d services listed", rpcss, len(list))
	}
	s, err := m.Get(ctx, rpcss)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != rpcss || s.State == "" || s.Description == "" {
		t.Errorf("got %+v", s)
	}
	if _, err := m.Get(ctx, "steward-no-such-service"); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("unknown service: got %v", err)
	}
	if err := m.Start(ctx, "steward-no-such-service"); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("start of an unknown service: got %v", err)
	}
}

func TestWindowsStates(t *testing.T) {
	for _, tt := range []struct {
		st         svc.State
		exit, spec uint32
		state      string
		detail     string
	}{
		{svc.Running, 0, 0, StateRunning, "running"},
		{svc.Stopped, 0, 0, StateStopped, "stopped"},
		{svc.Stopped, uint32(windows.ERROR_SERVICE_NEVER_STARTED), 0, StateStopped, "stopped"},
		{svc.Stopped, 5, 0, StateFailed, "stopped, exit code 5"},
		{svc.Stopped, uint32(windows.ERROR_SERVICE_SPECIFIC_ERROR), 1, StateFailed, "stopped, service exit code 1"},
		{svc.StartPending, 0, 0, StateStarting, "start_pending"},
		{svc.StopPending, 0, 0, StateStopping, "stop_pending"},
		{svc.Paused, 0, 0, StatePaused, "paused"},
		{svc.State(42), 0, 0, StateUnknown, "state 42"},
	} {
		if got := windowsState(tt.st, tt.exit); got != tt.state {
			t.Errorf("windowsState(%d, %d): got %q, want %q", tt.st, tt.exit, got, tt.state)
		}
		if got := windowsDetail(tt.st, tt.exit, tt.spec); got != tt.detail {
			t.Errorf("windowsDetail(%d, %d, %d): got %q, want %q", tt.st, tt.exit, tt.spec, got, tt.detail)
		}
	}
}

func TestStartType(t *testing.T) {
	for _, tt := range []struct {
		t       uint32
		delayed bool
		want    string
	}{
		{mgr.StartAutomatic, false, "automatic"},
		{mgr.StartAutomatic, true, "automatic (delayed)"},
		{mgr.StartManual, false, "manual"},
		{mgr.StartDisabled, false, "disabled"},
		{windows.SERVICE_BOOT_START, false, "boot"},
		{windows.SERVICE_SYSTEM_START, false, "system"},
		{9, false, "start type 9"},
	} {
		if got := startType(tt.t, tt.delayed); got != tt.want {
			t.Errorf("startType(%d, %v): got %q, want %q", tt.t, tt.delayed, got, tt.want)
		}
	}
}
