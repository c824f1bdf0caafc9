package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds/builtin"
	"github.com/stewardhq/steward/internal/osservice"
	"github.com/stewardhq/steward/internal/preflight"
)

// doctorRoot is where steward doctor finds the service's unit or plist:
// "/", but in tests.
var doctorRoot = "/"

// doctorAPITimeout is how long steward doctor waits for the API.
const doctorAPITimeout = 5 * time.Second

func newDoctorCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check that steward is installed as an OS service that starts at boot, and works",
		Long: `Check the install of steward as an OS service, as "steward service install"
makes it: the systemd unit is there and enabled, the Windows service starts
automatically, or the launchd job runs at load; it runs this binary with the
config file (-c); the config file is valid; the data dir is writable; and the
API answers when steward runs. Each check is a line "ok|warn|fail  what  (how to
fix)"; the exit status is 1 when a check fails. Run it as the user the service
runs as (root, or an elevated prompt on Windows) to check what it can reach.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			js, err := jsonOutput(g, false)
			if err != nil {
				return err
			}
			spec, err := serviceSpec(configFile(g))
			if err != nil {
				return err
			}
			findings := osservice.CheckInstall(spec, doctorRoot)
			cfg, f := doctorConfig(spec.ConfigFile)
			findings = append(findings, f)
			if cfg != nil {
				ctx, cancel := context.WithTimeout(cmd.Context(), doctorAPITimeout)
				defer cancel()
				findings = append(findings, doctorDataDir(cfg.DataDir), doctorAPI(ctx, g, spec))
			}
			if js {
				err = printJSON(cmd.OutOrStdout(), findings)
			} else {
				err = printFindings(cmd.OutOrStdout(), findings)
			}
			if err != nil {
				return err
			}
			if slices.ContainsFunc(findings, func(f osservice.Finding) bool { return f.Status == osservice.FindingFail }) {
				return exitError{exitFailure}
			}
			return nil
		},
	}
}

// printFindings writes one line per finding: status, check, (fix).
func printFindings(w io.Writer, findings []osservice.Finding) error {
	for _, f := range findings {
		line := fmt.Sprintf("%-4s  %s", f.Status, f.Check)
		if f.Fix != "" {
			line += "  (" + f.Fix + ")"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// doctorConfig loads and checks the config file as steward run would.
func doctorConfig(file string) (*config.Config, osservice.Finding) {
	fix := "steward validate -c " + file
	cfg, err := config.Load(file, builtin.Config())
	if err == nil {
		if errs := preflight.Check(cfg); errs != nil {
			err = errs
		}
	}
	var list config.ErrorList
	switch {
	case errors.As(err, &list):
		more := ""
		if len(list) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(list)-1)
		}
		return nil, osservice.Finding{Status: osservice.FindingFail, Check: fmt.Sprintf("config %s is not valid: %v%s", file, list[0], more), Fix: fix}
	case err != nil:
		return nil, osservice.Finding{Status: osservice.FindingFail, Check: fmt.Sprintf("config %s: %v", file, err), Fix: fix}
	}
	return cfg, osservice.Finding{Status: osservice.FindingOK, Check: fmt.Sprintf("config %s is valid", file)}
}

// doctorDataDir checks that steward can write to its data dir, or create
// it: it writes a file there and removes it.
func doctorDataDir(dir string) osservice.Finding {
	fix := "make it writable by the user steward runs as, or set data_dir"
	at, missing := dir, false
	for {
		if _, err := os.Stat(at); !errors.Is(err, fs.ErrNotExist) || filepath.Dir(at) == at {
			break
		}
		at, missing = filepath.Dir(at), true
	}
	f, err := os.CreateTemp(at, ".steward-doctor-*")
	if err != nil {
		return osservice.Finding{Status: osservice.FindingFail, Check: fmt.Sprintf("data dir %s is not writable: %v", dir, err), Fix: fix}
	}
	f.Close()
	os.Remove(f.Name())
	if missing {
		return osservice.Finding{Status: osservice.FindingOK, Check: fmt.Sprintf("data dir %s does not exist yet; steward can create it in %s", dir, at)}
	}
	return osservice.Finding{Status: osservice.FindingOK, Check: fmt.Sprintf("data dir %s is writable", dir)}
}

// doctorAPI checks that the API answers. When it does not, that fails only
// when the service runs; a stopped service is a warning.
func doctorAPI(ctx context.Context, g *globals, spec osservice.Spec) osservice.Finding {
	c, err := newClient(g)
	if err == nil {
		defer c.Close()
		i, ierr := c.Info(ctx)
		if ierr == nil {
			return osservice.Finding{Status: osservice.FindingOK, Check: fmt.Sprintf("the API at %s answers: steward %s, pid %d", c.Address(), i.Version, i.PID)}
		}
		err = ierr
	}
	spec.StopTimeout = stopTimeoutFloor
	if s, serr := osservice.New(spec); serr == nil {
		if st, serr := s.Status(); serr == nil && st == osservice.StatusRunning {
			return osservice.Finding{Status: osservice.FindingFail, Check: fmt.Sprintf("the steward service runs, and its API does not answer: %v", err),
				Fix: "see its log, then: steward service restart"}
		}
	}
	return osservice.Finding{Status: osservice.FindingWarn, Check: fmt.Sprintf("steward does not run, so its API was not checked: %v", err), Fix: "steward service start"}
}
