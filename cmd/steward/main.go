// Command steward hosts, supervises and monitors services. This file holds
// the root command and its global flags; each subcommand lives in its own file.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

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

	root.AddCommand(
		newRunCmd(g),
		newValidateCmd(g),
		newPsCmd(g),
		newActionCmd(g, "start", "Start services and wait until they run"),
		newActionCmd(g, "stop", "Stop services and wait until they stopped"),
		newActionCmd(g, "restart", "Restart services"),
		newLogsCmd(g),
		newEventsCmd(g),
		newReloadCmd(g),
		newConfigCmd(g),
		newAlertsCmd(g),
		newSilenceCmd(g),
		newChecksCmd(g),
		newNotificationsCmd(g),
		newServiceCmd(g),
		newOSServiceCmd(g),
	)
	return root
}
