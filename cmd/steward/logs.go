package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newLogsCmd(g *globals) *cobra.Command {
	var (
		follow bool
		n      int
	)
	cmd := &cobra.Command{
		Use:   "logs [-f] [-n N] NAME",
		Short: "Print a service's recent output; -f follows it",
		Long: "Print a service's recent output: its stdout lines on stdout and its stderr lines on stderr.\n" +
			"On a terminal, control characters other than tab (ESC, CR, backspace, DEL, C1) are\n" +
			"shown escaped as \\xHH; piped, or with -o raw, lines are written as they are.\n" +
			"With -o json, every line is a JSON object {time, stream, text} on stdout (NDJSON).",
		Args:              usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: completeServices(g),
		RunE: runClientOutput(g, true, func(ctx context.Context, cc *clientCmd, args []string) error {
			if n < 0 {
				return usageError{fmt.Errorf("-n %d: want a count of at least 0", n)}
			}
			enc := json.NewEncoder(cc.stdout)
			escOut, escErr := !cc.raw && terminal(cc.stdout), !cc.raw && terminal(cc.stderr)
			return cc.c.FollowLogs(ctx, args[0], n, follow, func(l steward.LogLine) error {
				if cc.json {
					return enc.Encode(l)
				}
				if l.Missed > 0 {
					fmt.Fprintf(cc.stderr, "steward: %d lines missed\n", l.Missed)
				}
				w, esc := cc.stdout, escOut
				if l.Stream == "stderr" {
					w, esc = cc.stderr, escErr
				}
				text := l.Text
				if esc {
					text = escapeControl(text)
				}
				_, err := fmt.Fprintln(w, text)
				return err
			})
		}),
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines as they come")
	cmd.Flags().IntVarP(&n, "lines", "n", 100, "how many recent lines to print first")
	cmd.AddCommand(newLogsRotateCmd(g))
	return cmd
}

func newLogsRotateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate [NAME...]",
		Short: "Rotate the log files of services now, or of every service",
		Long: "Rotate the log files of the named services, or of every service: each NAME.log that is not\n" +
			"empty is renamed NAME.log.STAMP (the UTC time) between two lines, and compressed in the\n" +
			"background when its logs: compress says so. -o json prints [{service, file}].",
		ValidArgsFunction: completeServices(g),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			rs, err := cc.c.RotateLogs(ctx, args...)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, rs)
			}
			var b strings.Builder
			for _, r := range rs {
				if r.File == "" {
					fmt.Fprintf(&b, "%s: empty, not rotated\n", r.Service)
				} else {
					fmt.Fprintf(&b, "%s: rotated to %s\n", r.Service, r.File)
				}
			}
			_, err = io.WriteString(cc.stdout, b.String())
			return err
		}),
	}
}
