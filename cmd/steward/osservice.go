package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/osservice"
)

func newOSServiceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "os-service",
		Short: "List and control the OS's own services (systemd units, Windows services, launchd jobs)",
		Long: `List and control the services of the OS service manager, on this machine:
systemd units over D-Bus on Linux, Windows services through the Service Control
Manager, launchd jobs through launchctl on macOS. A systemd name without a
suffix means NAME.service. start, stop and restart wait until the manager has
done it and usually need an administrator.`,
		Args: noArgs,
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List the OS services",
			Args:  noArgs,
			RunE: runOSService(g, func(ctx context.Context, m *osservice.Manager, _ string, w io.Writer, js bool) error {
				list, err := m.List(ctx)
				if err != nil {
					return err
				}
				out := make([]steward.OSService, len(list))
				for i, s := range list {
					out[i] = steward.OSService(s)
				}
				return printOSServices(w, out, js)
			}),
		},
		&cobra.Command{
			Use:   "status NAME",
			Short: "Show one OS service",
			Args:  usageArgs(cobra.ExactArgs(1)),
			RunE: runOSService(g, func(ctx context.Context, m *osservice.Manager, name string, w io.Writer, js bool) error {
				s, err := m.Get(ctx, name)
				if err != nil {
					return err
				}
				return printOSService(w, steward.OSService(s), js)
			}),
		},
		newOSServiceActionCmd(g, "start", "Start an OS service and wait until it runs", (*osservice.Manager).Start),
		newOSServiceActionCmd(g, "stop", "Stop an OS service and wait until it stopped", (*osservice.Manager).Stop),
		newOSServiceActionCmd(g, "restart", "Restart an OS service", (*osservice.Manager).Restart),
	)
	return cmd
}

// newOSServiceActionCmd returns the os-service subcommand verb, which
// calls do, then shows the service.
func newOSServiceActionCmd(g *globals, verb, short string, do func(*osservice.Manager, context.Context, string) error) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: short,
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runOSService(g, func(ctx context.Context, m *osservice.Manager, name string, w io.Writer, js bool) error {
			if err := do(m, ctx, name); err != nil {
				return err
			}
			s, err := m.Get(ctx, name)
			if err != nil {
				return err
			}
			return printOSService(w, steward.OSService(s), js)
		}),
	}
}

// runOSService returns a cobra RunE that connects to the OS service
// manager and calls run with the first argument, if any.
func runOSService(g *globals, run func(ctx context.Context, m *osservice.Manager, name string, w io.Writer, js bool) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		js, err := jsonOutput(g, false)
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		m, err := osservice.Connect(ctx)
		if err != nil {
			return err
		}
		defer m.Close()
		name := ""
		if len(args) > 0 {
			name = args[0]
		}
		return run(ctx, m, name, cmd.OutOrStdout(), js)
	}
}

// printOSServices writes list as a table, or as a JSON array.
func printOSServices(w io.Writer, list []steward.OSService, asJSON bool) error {
	return printList(w, list, asJSON, "NAME\tSTATE\tPID\tDETAIL\tDESCRIPTION", func(s steward.OSService) []string {
		return []string{s.Name, s.State, pidCell(s.PID), cmp.Or(s.Detail, "-"), s.Description}
	})
}

// printOSService writes one service as "key: value" lines, or as JSON.
func printOSService(w io.Writer, s steward.OSService, asJSON bool) error {
	if asJSON {
		return printJSON(w, s)
	}
	tw := newTable(w)
	for _, kv := range [][2]string{
		{"name", s.Name}, {"state", s.State}, {"pid", pidCell(s.PID)}, {"detail", cmp.Or(s.Detail, "-")},
		{"startup", cmp.Or(s.Startup, "-")}, {"description", cmp.Or(s.Description, "-")},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

func pidCell(pid int) string {
	if pid <= 0 {
		return "-"
	}
	return strconv.Itoa(pid)
}
