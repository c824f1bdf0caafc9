package check

import (
	"context"
	"fmt"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/osservice"
)

// OSService probes that a service of the OS service manager (a systemd
// unit, a Windows service, a launchd job) runs: OK when running, WARNING
// while it starts or stops, CRITICAL when stopped, failed or unknown to the
// manager, UNKNOWN when the manager cannot be asked.
type OSService struct {
	Name string
	// Get looks the service up; nil asks the OS service manager.
	Get func(ctx context.Context, name string) (osservice.Service, error)
}

// Run implements Probe.
func (o *OSService) Run(ctx context.Context) Result {
	get := o.Get
	if get == nil {
		get = lookupOSService
	}
	svc, err := get(ctx, o.Name)
	switch {
	case steward.ErrorCode(err) == steward.ENOTFOUND:
		return Result{Status: Critical, Message: steward.ErrorMessage(err)}
	case err != nil:
		return Result{Status: Unknown, Message: err.Error()}
	}
	msg := fmt.Sprintf("%s is %s", o.Name, svc.State)
	if svc.Detail != "" {
		msg += " (" + svc.Detail + ")"
	}
	switch svc.State {
	case osservice.StateRunning:
		return Result{Status: OK, Message: msg}
	case osservice.StateStarting, osservice.StateStopping, osservice.StatePaused:
		return Result{Status: Warning, Message: msg}
	}
	return Result{Status: Critical, Message: msg}
}

func lookupOSService(ctx context.Context, name string) (osservice.Service, error) {
	m, err := osservice.Connect(ctx)
	if err != nil {
		return osservice.Service{}, err
	}
	defer m.Close()
	return m.Get(ctx, name)
}
