package daemon

import (
	"os"
	"path/filepath"
	"runtime"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/proc"
)

// platform is what GET /v1/info says of the OS, the service manager, the
// data dir and the capabilities of this machine.
func (d *Daemon) platform() steward.Info {
	cfg := d.Current()
	info := steward.Info{OS: runtime.GOOS, Arch: runtime.GOARCH, ServiceManager: serviceManager(), DataDir: cfg.DataDir}
	if cfg.API.TLS.Auto {
		if ca, err := readCert(filepath.Join(config.AutoTLSDir(cfg.DataDir), "ca.pem")); err == nil {
			info.TLSPin = certPin(ca.Raw)
		}
	}
	for _, c := range proc.Capabilities() {
		info.Capabilities = append(info.Capabilities, steward.Capability{Name: c.Name, Available: c.Available, Detail: c.Detail})
	}
	notify := steward.Capability{Name: "sd_notify", Available: runtime.GOOS == "linux", Detail: "NOTIFY_SOCKET with SO_PASSCRED"}
	if !notify.Available {
		notify.Detail = "needs SO_PASSCRED, which only Linux has"
	}
	syslog := steward.Capability{Name: "syslog", Detail: "no local syslog socket (/dev/log, /var/run/syslog)"}
	for _, p := range []string{"/dev/log", "/var/run/syslog"} {
		if _, err := os.Stat(p); err == nil && runtime.GOOS != "windows" {
			syslog.Available, syslog.Detail = true, p
			break
		}
	}
	eventLog := steward.Capability{Name: "event log", Available: runtime.GOOS == "windows", Detail: "Windows only"}
	if eventLog.Available {
		eventLog.Detail = "Application log"
	}
	oom := steward.Capability{Name: "oom detection", Available: runtime.GOOS == "linux",
		Detail: "memory cgroup oom_kill (memory.events, memory.oom_control), else /proc/vmstat oom_kill"}
	if !oom.Available {
		oom.Detail = "this OS has no OOM kill counter steward reads: exits say unknown"
	}
	info.Capabilities = append(info.Capabilities, notify, oom, syslog, eventLog)
	return info
}

// serviceManager names the OS service manager steward can run under here.
func serviceManager() string {
	switch runtime.GOOS {
	case "windows":
		return "Windows Service Control Manager"
	case "darwin":
		return "launchd"
	case "linux":
		if _, err := os.Stat("/run/systemd/system"); err == nil {
			return "systemd"
		}
		return "none (systemd is not running)"
	}
	return "none"
}
