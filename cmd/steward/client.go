package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/config"
)

// socketAddress finds the API: --socket, else $STEWARD_SOCKET, else the
// api.socket of the config file (-c, else $STEWARD_CONFIG, else the OS
// default, whose own default socket counts when that file does not exist).
// Only the keys that set the socket are read: a file with errors elsewhere
// still leads to the steward that runs an older version of it.
func socketAddress(g *globals) (string, error) {
	if g.socket != "" {
		return g.socket, nil
	}
	if s := os.Getenv("STEWARD_SOCKET"); s != "" {
		return s, nil
	}
	file := configFile(g)
	socket, err := config.LoadSocket(file)
	if err != nil && errors.Is(err, fs.ErrNotExist) && g.configFile == "" && os.Getenv("STEWARD_CONFIG") == "" {
		socket, err = config.Socket("", nil)
	}
	var list config.ErrorList
	switch {
	case errors.As(err, &list):
		more := ""
		if len(list) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(list)-1)
		}
		return "", fmt.Errorf("cannot find the API in %s, which has errors: %v%s; use --socket", file, list[0], more)
	case err != nil:
		return "", fmt.Errorf("cannot find the API: %w; use --socket or -c", err)
	}
	return socket, nil
}

// newClient returns a client of the API socketAddress finds. An http:// or
// https:// address is TCP, with the bearer token in $STEWARD_TOKEN; an
// https:// one is trusted by --tls-pin (or $STEWARD_TLS_PIN) when given,
// else by the system's roots.
func newClient(g *globals) (*client.Client, error) {
	addr, err := socketAddress(g)
	if err != nil {
		return nil, err
	}
	var opts []client.Option
	if tok := os.Getenv("STEWARD_TOKEN"); tok != "" {
		opts = append(opts, client.WithToken(tok))
	}
	if pin := cmp.Or(g.tlsPin, os.Getenv("STEWARD_TLS_PIN")); pin != "" {
		conf, err := client.PinnedTLS(pin)
		if err != nil {
			return nil, usageError{err}
		}
		opts = append(opts, client.WithTLSConfig(conf))
	}
	if g.node != "" {
		opts = append(opts, client.WithNode(g.node))
	}
	return client.New(addr, opts...), nil
}

// optionalArg is the argument of a command that takes at most one (cobra
// checks that), or "" without it.
func optionalArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// jsonOutput reports whether -o asks for JSON; anything but "" and "json"
// (and "raw" when raw is allowed) is a usage error.
func jsonOutput(g *globals, raw bool) (bool, error) {
	switch {
	case g.output == "" || (raw && g.output == "raw"):
		return false, nil
	case g.output == "json":
		return true, nil
	case raw:
		return false, usageError{fmt.Errorf(`-o %q: want "json", "raw", or nothing for text`, g.output)}
	}
	return false, usageError{fmt.Errorf(`-o %q: want "json", or nothing for a table`, g.output)}
}

// clientCmd is what every client command shares: the client, the output
// format and the streams.
type clientCmd struct {
	c      *client.Client
	json   bool
	raw    bool // -o raw, for the commands that take it
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
}

// runClient returns a cobra RunE that sets up a clientCmd and calls run.
func runClient(g *globals, run func(ctx context.Context, cc *clientCmd, args []string) error) func(*cobra.Command, []string) error {
	return runClientOutput(g, false, run)
}

// runClientOutput is runClient for a command that takes -o raw when raw is
// true.
func runClientOutput(g *globals, raw bool, run func(ctx context.Context, cc *clientCmd, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		js, err := jsonOutput(g, raw)
		if err != nil {
			return err
		}
		c, err := newClient(g)
		if err != nil {
			return err
		}
		defer c.Close()
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = run(ctx, &clientCmd{c: c, json: js, raw: raw && g.output == "raw", stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr(), stdin: cmd.InOrStdin()}, args)
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return nil // interrupted: a normal end of a follow
		}
		return err
	}
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// usageArgs turns the error of a cobra argument validator into a usage error.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{fmt.Errorf("%s: %w", subcommand(cmd), err)}
		}
		return nil
	}
}

// subcommand names cmd for messages that steward's name already starts:
// "config diff".
func subcommand(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// completeServices completes service names from the running steward.
func completeServices(g *globals) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		c, err := newClient(g)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		list, err := c.Services(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, s := range list {
			if strings.HasPrefix(s.Name, prefix) {
				names = append(names, s.Name)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// printProblems writes each problem of an invalid configuration on its own
// line and returns the error that ends the command, or err itself when it
// is no such error.
func printProblems(w io.Writer, err error) error {
	var ce *client.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	for _, p := range ce.Problems {
		fmt.Fprintln(w, p)
	}
	fmt.Fprintln(w, "steward: the configuration has errors; nothing changed")
	return exitError{exitFailure}
}

// duration formats d compactly: 42s, 5m3s, 3h4m, 2d3h.
func duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}
