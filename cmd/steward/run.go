package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/daemon"
	"github.com/stewardhq/steward/internal/kinds/builtin"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/osservice"
	"github.com/stewardhq/steward/internal/preflight"
)

func newRunCmd(g *globals) *cobra.Command {
	var managed bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run steward in the foreground (what an OS service manager runs)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if managed {
				return runManaged(g, cmd.ErrOrStderr())
			}
			cfg, err := loadConfig(g, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return runDaemon(cmd.Context(), cfg, cmd.ErrOrStderr(), nil)
		},
	}
	// The command line of the installed OS service carries it (see service.go).
	cmd.Flags().BoolVar(&managed, osservice.ManagedFlag, false, "run under the OS service manager")
	cmd.Flags().MarkHidden(osservice.ManagedFlag)
	return cmd
}

// runDaemon runs steward until SIGINT or SIGTERM, reloading on SIGHUP. ready
// is called once the API serves.
func runDaemon(ctx context.Context, cfg *config.Config, logTo io.Writer, ready func()) error {
	logger := slog.New(slog.NewTextHandler(logTo, nil))
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := daemon.New(ctx, cfg, daemon.Options{Version: version, Kinds: builtin.Kinds(), Logger: logger, Ready: ready})
	if err != nil {
		return printConfigErrors(err, logTo)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				if applied, err := d.ReloadOnSignal(ctx); err != nil {
					logger.Error("reload on SIGHUP rejected; nothing changed", "err", err)
				} else {
					logger.Info("reloaded on SIGHUP", "version", applied.Version,
						"added", applied.Diff.Added, "changed", applied.Diff.Changed, "removed", applied.Diff.Removed)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	logger.Info("steward running", "node", cfg.Node, "config", cfg.File, "socket", cfg.API.Socket, "services", len(cfg.Services))
	err = d.Run(ctx)
	if exit, ok := errors.AsType[*daemon.ExitStatus](err); ok {
		logger.Info(exit.Error())
		return exitError{exit.Code}
	}
	return err
}

// configFile is the config file to use: -c, $STEWARD_CONFIG, or the OS default.
func configFile(g *globals) string {
	if g.configFile != "" {
		return g.configFile
	}
	if f := os.Getenv("STEWARD_CONFIG"); f != "" {
		return f
	}
	return config.DefaultFile()
}

// loadConfig loads the config file and checks it against this machine
// (preflight.Check), printing each error as FILE:LINE:COL.
func loadConfig(g *globals, stderr io.Writer) (*config.Config, error) {
	cfg, err := config.Load(configFile(g), builtin.Config())
	if err != nil {
		return nil, printConfigErrors(err, stderr)
	}
	if errs := preflight.Check(cfg); errs != nil {
		return nil, printConfigErrors(errs, stderr)
	}
	return cfg, nil
}

// printConfigErrors prints the FILE:LINE:COL lines of a config.ErrorList
// and returns an exitError, or returns any other err as it is.
func printConfigErrors(err error, stderr io.Writer) error {
	var list config.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(stderr, e)
		}
		return exitError{exitFailure}
	}
	return err
}

func newValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check a config file; print every error as FILE:LINE:COL: message",
		Long: "Check a config file; print every error as FILE:LINE:COL: message.\n\n" +
			"The ${env:NAME} and ${file:PATH} references of the notifiers are resolved too, in this\n" +
			"command's environment, as steward run would resolve them.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(g, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if _, err := notify.Build(cfg); err != nil {
				return printConfigErrors(err, cmd.ErrOrStderr())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok, %d services\n", cfg.File, len(cfg.Services))
			return nil
		},
	}
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}
