package osservice

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"
)

// checkInstall asks the Service Control Manager about steward's service.
func checkInstall(spec Spec, _ string) []Finding {
	m, err := mgr.Connect()
	if err != nil {
		return []Finding{failFinding("run steward doctor from an elevated prompt", "connect to the Service Control Manager: %v", err)}
	}
	defer m.Disconnect()
	s, err := m.OpenService(spec.Name)
	switch {
	case errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST):
		return []Finding{failFinding(install(spec), "no Windows service %s: steward is not installed as a service", spec.Name)}
	case err != nil:
		return []Finding{failFinding("run steward doctor from an elevated prompt", "open the Windows service %s: %v", spec.Name, err)}
	}
	defer s.Close()
	cfg, err := queryConfig(s.Handle)
	if err != nil {
		return []Finding{failFinding("run steward doctor from an elevated prompt", "read the Windows service %s: %v", spec.Name, err)}
	}
	// The command line as mgr.CreateService writes it.
	want := syscall.EscapeArg(spec.Executable)
	for _, a := range spec.Args() {
		want += " " + syscall.EscapeArg(a)
	}
	return checkWindowsService(cfg.StartType, windows.UTF16PtrToString(cfg.BinaryPathName), want, spec)
}
