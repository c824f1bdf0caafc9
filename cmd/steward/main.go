// Command steward hosts, supervises and monitors services. This file holds
// the root command and its global flags; each subcommand lives in its own file.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes of every command.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// globals are the flags every command accepts.
type globals struct {
	configFile string // -c
	socket     string // --socket
	output     string // -o: "" (table) or "json"
	tlsPin     string // --tls-pin
	node       string // --node: a fleet node to ask through the steward found
}

// usageError marks an error in how the command was called (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError carries an exit code for an error already reported to the user.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

// execute runs the command line args and returns the process exit code.
func execute(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		// Find fails only on an unknown subcommand of the root, which cobra
		// reports as a plain error.
		if _, _, ferr := root.Find(args); ferr != nil {
			err = usageError{err}
		}
	}
	var ee exitError
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "steward: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "steward: %v\n", err)
		return exitFailure
	}
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "steward",
		Short:         "Host, supervise and monitor services",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVarP(&g.configFile, "config", "c", "", "config file (default: $STEWARD_CONFIG or the per-OS default)")
	pf.StringVar(&g.socket, "socket", "", "API socket (default: $STEWARD_SOCKET, or the config's api.socket)")
	pf.StringVarP(&g.output, "output", "o", "", `output format: "" for tables, "json"`)
	pf.StringVar(&g.tlsPin, "tls-pin", "", "trust an https API by the pin of its certificate or CA, as steward info shows it (default: $STEWARD_TLS_PIN)")
	pf.StringVar(&g.node, "node", "", "ask this node of the fleet, through the steward found")

	root.AddCommand(
		newRunCmd(g),
		newValidateCmd(g),
		newPsCmd(g),
		newActionCmd(g, "start", "Start services and wait until they run"),
		newActionCmd(g, "stop", "Stop services and wait until they stopped"),
		newActionCmd(g, "restart", "Restart services"),
		newTopCmd(g),
		newLogsCmd(g),
		newWhyCmd(g),
		newInfoCmd(g),
		newEventsCmd(g),
		newReloadCmd(g),
		newConfigCmd(g),
		newAlertsCmd(g),
		newSilenceCmd(g),
		newChecksCmd(g),
		newNotificationsCmd(g),
		newJobsCmd(g),
		newRunsCmd(g),
		newWorkflowsCmd(g),
		newWorkflowCmd(g),
		newBackupsCmd(g),
		newBackupCmd(g),
		newServiceCmd(g),
		newOSServiceCmd(g),
		newBusCmd(g),
		newWorkbookCmd(g),
		newImportCmd(g),
		newSchemaCmd(),
		newDoctorCmd(g),
		newReportCmd(g),
		newTokenCmd(g),
		newAuditCmd(g),
		newNodesCmd(g),
		newRegistryCmd(g),
	)
	for _, c := range root.Commands() {
		groupUsage(c)
	}
	return root
}

// groupUsage makes each command that only groups subcommands, cmd and those
// under it, reject what is not one of its subcommands as a usage error, and
// a call without a subcommand too. (For the root, cobra finds an unknown
// subcommand itself; execute makes that a usage error.)
func groupUsage(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		groupUsage(c)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return usageError{errors.New(msg)}
		}
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		return usageError{fmt.Errorf("%s: want a subcommand: %s", subcommand(cmd), strings.Join(names, ", "))}
	}
}
