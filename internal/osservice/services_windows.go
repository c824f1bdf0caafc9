package osservice

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/stewardhq/steward"
)

// pollInterval is how often a start or stop is checked on: the Service
// Control Manager has no call that waits for a state.
const pollInterval = 100 * time.Millisecond

// scm manages Windows services through the Service Control Manager. It
// asks for no more access than each operation needs, so that listing and
// status work without elevation.
type scm struct {
	m *mgr.Mgr
}

func connect(context.Context) (manager, error) {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT|windows.SC_MANAGER_ENUMERATE_SERVICE)
	if err != nil {
		return nil, fmt.Errorf("connect to the service control manager: %w", err)
	}
	return &scm{m: &mgr.Mgr{Handle: h}}, nil
}

func (s *scm) list(context.Context) ([]Service, error) {
	var (
		buf      []byte
		need     uint32
		returned uint32
		resume   uint32
		list     []Service
	)
	for {
		var p *byte
		if len(buf) > 0 {
			p = &buf[0]
		}
		err := windows.EnumServicesStatusEx(s.m.Handle, windows.SC_ENUM_PROCESS_INFO, windows.SERVICE_WIN32,
			windows.SERVICE_STATE_ALL, p, uint32(len(buf)), &need, &returned, &resume, nil)
		if err != nil && !errors.Is(err, windows.ERROR_MORE_DATA) {
			return nil, fmt.Errorf("list Windows services: %w", err)
		}
		if returned > 0 {
			entries := unsafe.Slice((*windows.ENUM_SERVICE_STATUS_PROCESS)(unsafe.Pointer(&buf[0])), returned)
			for _, e := range entries {
				st := e.ServiceStatusProcess
				list = append(list, Service{
					Name:        windows.UTF16PtrToString(e.ServiceName),
					Description: windows.UTF16PtrToString(e.DisplayName),
					State:       windowsState(svc.State(st.CurrentState), st.Win32ExitCode),
					Detail:      windowsDetail(svc.State(st.CurrentState), st.Win32ExitCode, st.ServiceSpecificExitCode),
					PID:         int(st.ProcessId),
				})
			}
		}
		if err == nil {
			return list, nil
		}
		buf = make([]byte, max(need, 4096))
	}
}

// open opens the service name with access.
func (s *scm) open(name string, access uint32) (*mgr.Service, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, steward.Errorf(steward.EINVALID, "invalid OS service name %q", name)
	}
	h, err := windows.OpenService(s.m.Handle, p, access)
	if err != nil {
		return nil, scmError(err, name)
	}
	return &mgr.Service{Name: name, Handle: h}, nil
}

func (s *scm) get(_ context.Context, name string) (Service, error) {
	ws, err := s.open(name, windows.SERVICE_QUERY_STATUS|windows.SERVICE_QUERY_CONFIG)
	if err != nil {
		return Service{}, err
	}
	defer ws.Close()
	st, err := ws.Query()
	if err != nil {
		return Service{}, fmt.Errorf("status of %s: %w", name, err)
	}
	svcInfo := Service{
		Name:   name,
		State:  windowsState(st.State, st.Win32ExitCode),
		Detail: windowsDetail(st.State, st.Win32ExitCode, st.ServiceSpecificExitCode),
		PID:    int(st.ProcessId),
	}
	svcInfo.Description, svcInfo.Startup = describe(ws.Handle)
	return svcInfo, nil
}

// describe returns the display name and description of a service, and
// its start type; what cannot be queried is left out. It asks for each
// piece on its own, where mgr.Service.Config fails as a whole when one is
// not known (such as the delayed start flag, under Wine).
func describe(h windows.Handle) (description, startup string) {
	c, err := queryConfig(h)
	if err != nil {
		return "", ""
	}
	description = windows.UTF16PtrToString(c.DisplayName)
	startup = startType(c.StartType, delayedStart(h))
	if text := queryDescription(h); text != "" {
		description += ": " + text
	}
	return description, startup
}

// queryConfig returns the main configuration of a service, which every
// Service Control Manager (Wine's too) knows.
func queryConfig(h windows.Handle) (*windows.QUERY_SERVICE_CONFIG, error) {
	var need uint32
	buf := make([]byte, 1024)
	for {
		c := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&buf[0]))
		err := windows.QueryServiceConfig(h, c, uint32(len(buf)), &need)
		if errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) && need > uint32(len(buf)) {
			buf = make([]byte, need)
			continue
		}
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// queryDescription returns the description of a service, or "".
func queryDescription(h windows.Handle) string {
	var need uint32
	windows.QueryServiceConfig2(h, windows.SERVICE_CONFIG_DESCRIPTION, nil, 0, &need)
	if need == 0 {
		return ""
	}
	buf := make([]byte, need)
	if err := windows.QueryServiceConfig2(h, windows.SERVICE_CONFIG_DESCRIPTION, &buf[0], need, &need); err != nil {
		return ""
	}
	return windows.UTF16PtrToString((*windows.SERVICE_DESCRIPTION)(unsafe.Pointer(&buf[0])).Description)
}

// delayedStart reports whether an automatic service starts after the
// others.
func delayedStart(h windows.Handle) bool {
	var info windows.SERVICE_DELAYED_AUTO_START_INFO
	var need uint32
	err := windows.QueryServiceConfig2(h, windows.SERVICE_CONFIG_DELAYED_AUTO_START_INFO,
		(*byte)(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), &need)
	return err == nil && info.IsDelayedAutoStartUp != 0
}

func (s *scm) start(ctx context.Context, name string) error {
	ws, err := s.open(name, windows.SERVICE_START|windows.SERVICE_QUERY_STATUS)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer ws.Close()
	if err := ws.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
		return fmt.Errorf("start %s: %w", name, scmError(err, name))
	}
	return waitState(ctx, ws, "start", svc.Running)
}

func (s *scm) stop(ctx context.Context, name string) error {
	ws, err := s.open(name, windows.SERVICE_STOP|windows.SERVICE_QUERY_STATUS)
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	defer ws.Close()
	if _, err := ws.Control(svc.Stop); err != nil && !errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
		return fmt.Errorf("stop %s: %w", name, scmError(err, name))
	}
	return waitState(ctx, ws, "stop", svc.Stopped)
}

func (s *scm) restart(ctx context.Context, name string) error {
	if err := s.stop(ctx, name); err != nil {
		return err
	}
	return s.start(ctx, name)
}

func (s *scm) close() error { return s.m.Disconnect() }

// waitState polls ws until it is in state want. A service that stops
// while it should start has failed to start.
func waitState(ctx context.Context, ws *mgr.Service, verb string, want svc.State) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		st, err := ws.Query()
		if err != nil {
			return fmt.Errorf("%s %s: %w", verb, ws.Name, err)
		}
		switch {
		case st.State == want:
			return nil
		case want == svc.Running && st.State == svc.Stopped:
			return fmt.Errorf("%s %s: it stopped (%s); see the Event Log", verb, ws.Name,
				windowsDetail(st.State, st.Win32ExitCode, st.ServiceSpecificExitCode))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s: still %s: %w", verb, ws.Name, windowsDetail(st.State, 0, 0), ctx.Err())
		case <-t.C:
		}
	}
}

// windowsState turns a service state into a State: a stopped service
// whose exit code says it failed is failed.
func windowsState(st svc.State, exitCode uint32) string {
	switch st {
	case svc.Running:
		return StateRunning
	case svc.Stopped:
		if exitCode != 0 && exitCode != uint32(windows.ERROR_SERVICE_NEVER_STARTED) {
			return StateFailed
		}
		return StateStopped
	case svc.StartPending, svc.ContinuePending:
		return StateStarting
	case svc.StopPending, svc.PausePending:
		return StateStopping
	case svc.Paused:
		return StatePaused
	}
	return StateUnknown
}

// windowsDetail names a service state as the Service Control Manager
// does, with the exit code of a stopped service that failed.
func windowsDetail(st svc.State, exitCode, specific uint32) string {
	names := map[svc.State]string{
		svc.Stopped: "stopped", svc.StartPending: "start_pending", svc.StopPending: "stop_pending",
		svc.Running: "running", svc.ContinuePending: "continue_pending", svc.PausePending: "pause_pending",
		svc.Paused: "paused",
	}
	name, ok := names[st]
	if !ok {
		name = fmt.Sprintf("state %d", st)
	}
	switch {
	case st != svc.Stopped || exitCode == 0 || exitCode == uint32(windows.ERROR_SERVICE_NEVER_STARTED):
		return name
	case exitCode == uint32(windows.ERROR_SERVICE_SPECIFIC_ERROR):
		return fmt.Sprintf("%s, service exit code %d", name, specific)
	}
	return fmt.Sprintf("%s, exit code %d", name, exitCode)
}

// startType names a start type as sc.exe does.
func startType(t uint32, delayed bool) string {
	switch t {
	case mgr.StartAutomatic:
		if delayed {
			return "automatic (delayed)"
		}
		return "automatic"
	case mgr.StartManual:
		return "manual"
	case mgr.StartDisabled:
		return "disabled"
	case windows.SERVICE_BOOT_START:
		return "boot"
	case windows.SERVICE_SYSTEM_START:
		return "system"
	}
	return fmt.Sprintf("start type %d", t)
}

// scmError turns the errors a user can act on into *steward.Errors.
func scmError(err error, name string) error {
	switch {
	case errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST):
		return steward.Errorf(steward.ENOTFOUND, "no Windows service %s", name)
	case errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return steward.Errorf(steward.EFORBIDDEN, "access to Windows service %s denied: run from an elevated prompt (Run as administrator)", name)
	case errors.Is(err, windows.ERROR_SERVICE_DISABLED):
		return steward.Errorf(steward.ECONFLICT, "Windows service %s is disabled", name)
	}
	return err
}
