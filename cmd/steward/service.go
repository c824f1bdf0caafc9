package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/daemon"
	"github.com/stewardhq/steward/internal/osservice"
)

// serviceName is steward's name in the OS service manager.
const serviceName = "steward"

// Exit codes of steward service status, as LSB init scripts use them.
const (
	exitServiceStopped      = 3
	exitServiceNotInstalled = 4
)

// stopTimeoutFloor is the least time the service manager gives steward to
// stop: systemd's default.
const stopTimeoutFloor = 90 * time.Second

func newServiceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Install and control steward itself as an OS service (Windows SCM, systemd, launchd)",
		Long: `Install and control steward itself as an OS service: a Windows service with
automatic start and recovery actions, a systemd unit, or a launchd daemon. The
installed service runs "steward run -c FILE" with the absolute path of the
config file given by -c (or $STEWARD_CONFIG, or the per-OS default), which
install checks first. Everything but status needs an administrator: root, or
an elevated prompt on Windows.`,
		Args: noArgs,
	}
	cmd.AddCommand(
		newServiceInstallCmd(g),
		newServiceActionCmd(g, "uninstall", "Stop steward and remove it from the OS service manager", (*osservice.Steward).Uninstall),
		newServiceActionCmd(g, "start", "Start the installed steward service", (*osservice.Steward).Start),
		newServiceActionCmd(g, "stop", "Stop the steward service", (*osservice.Steward).Stop),
		newServiceActionCmd(g, "restart", "Restart the steward service", (*osservice.Steward).Restart),
		newServiceStatusCmd(g),
		newServiceUnitCmd(g),
	)
	return cmd
}

// newServiceUnitCmd prints the unit file install writes, for packages and
// configuration management that install it themselves.
func newServiceUnitCmd(g *globals) *cobra.Command {
	var executable string
	cmd := &cobra.Command{
		Use:   "unit",
		Short: "Print the unit file install would write (systemd on Linux, launchd on macOS) without installing it",
		Long: `Print the unit file "steward service install" would write — a systemd unit on
Linux, a launchd plist on macOS — without installing anything, for packages and
configuration management that install it themselves. The config file (-c) is
neither read nor checked, so the stop timeout is the least install would give
(90 s); --executable names the binary's path on the target machine (default:
this binary).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := serviceSpec(configFile(g))
			if err != nil {
				return err
			}
			if executable != "" {
				spec.Executable = executable
			}
			spec.StopTimeout = stopTimeoutFloor
			var unit string
			switch runtime.GOOS {
			case "linux":
				unit, err = osservice.SystemdUnit(spec)
			case "darwin":
				unit, err = osservice.LaunchdPlist(spec)
			default:
				err = fmt.Errorf("a %s service has no unit file: use steward service install", runtime.GOOS)
			}
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), unit)
			return err
		},
	}
	cmd.Flags().StringVar(&executable, "executable", "", "absolute path of the steward binary on the target machine")
	return cmd
}

func newServiceInstallCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "install",
		Short: "Install steward as an OS service that runs at boot with this config file",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(g, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			spec, err := serviceSpec(cfg.File)
			if err != nil {
				return err
			}
			spec.StopTimeout = max(daemon.ShutdownTimeout(cfg)+5*time.Second, stopTimeoutFloor)
			spec.LogFile = filepath.Join(cfg.DataDir, "steward.log")
			s, err := osservice.New(spec)
			if err != nil {
				return err
			}
			if err := s.Install(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "installed %s as a %s service: %s %s\nstart it with: steward service start\n",
				spec.Name, s.Platform(), spec.Executable, strings.Join(spec.Args(), " "))
			return nil
		},
	}
}

// newServiceActionCmd returns the service subcommand verb, which calls do.
func newServiceActionCmd(g *globals, verb, short string, do func(*osservice.Steward) error) *cobra.Command {
	return &cobra.Command{
		Use:   verb,
		Short: short,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := stewardService(g)
			if err != nil {
				return err
			}
			if err := do(s); err != nil {
				return err
			}
			st, err := s.Status()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", serviceName, st)
			return nil
		},
	}
}

func newServiceStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Say whether steward is installed and running as an OS service (exit 0 running, 3 stopped, 4 not installed)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			js, err := jsonOutput(g, false)
			if err != nil {
				return err
			}
			s, err := stewardService(g)
			if err != nil {
				return err
			}
			st, err := s.Status()
			if err != nil {
				return err
			}
			if js {
				err = printJSON(cmd.OutOrStdout(), map[string]string{"name": serviceName, "status": string(st), "platform": s.Platform()})
			} else {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: %s (%s)\n", serviceName, st, s.Platform())
			}
			if err != nil {
				return err
			}
			return statusExit(st)
		},
	}
}

// statusExit is the exit of steward service status for st.
func statusExit(st osservice.Status) error {
	switch st {
	case osservice.StatusStopped:
		return exitError{exitServiceStopped}
	case osservice.StatusNotInstalled:
		return exitError{exitServiceNotInstalled}
	}
	return nil
}

// stewardService returns steward as an OS service, for the operations
// other than install: they neither read nor check the config file.
func stewardService(g *globals) (*osservice.Steward, error) {
	spec, err := serviceSpec(configFile(g))
	if err != nil {
		return nil, err
	}
	spec.StopTimeout = stopTimeoutFloor
	return osservice.New(spec)
}

// serviceSpec describes steward as an OS service running with the config
// file configFile.
func serviceSpec(configFile string) (osservice.Spec, error) {
	exe, err := os.Executable()
	if err != nil {
		return osservice.Spec{}, fmt.Errorf("find the steward executable: %w", err)
	}
	file, err := filepath.Abs(configFile)
	if err != nil {
		return osservice.Spec{}, fmt.Errorf("config file %s: %w", configFile, err)
	}
	return osservice.Spec{
		Name:        serviceName,
		DisplayName: "steward",
		Description: "steward hosts, supervises and monitors services",
		Executable:  exe,
		ConfigFile:  file,
	}, nil
}

// runManaged runs steward under the OS service manager: what the
// installed service's command line asks for with --service-manager. It
// behaves as steward run does in a terminal, and reports "running" to the
// manager once the API serves.
func runManaged(g *globals, stderr io.Writer) error {
	return osservice.RunManaged(serviceName, stderr, func(ctx context.Context, h *osservice.Host) error {
		cfg, err := loadConfig(g, h.Log())
		if err != nil {
			return err
		}
		logTo, err := h.OpenLog(cfg.DataDir)
		if err != nil {
			return err
		}
		return runDaemon(ctx, cfg, logTo, h.Ready)
	})
}
