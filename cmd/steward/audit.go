package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newAuditCmd(g *globals) *cobra.Command {
	var (
		sinceS string
		n      int
	)
	cmd := &cobra.Command{
		Use:   "audit [--since DURATION|TIME] [-n N]",
		Short: "Print the audit log of every change, oldest first; verify it, checkpoint it",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			var since time.Time
			if sinceS != "" {
				t, err := parseSince(sinceS, time.Now())
				if err != nil {
					return err
				}
				since = t
			}
			list, err := cc.c.Audit(ctx, since, n)
			if err != nil {
				return err
			}
			return printAudit(cc.stdout, list, cc.json)
		}),
	}
	cmd.Flags().StringVar(&sinceS, "since", "", "records since a time (RFC 3339) or for a duration back (like 2h)")
	cmd.Flags().IntVarP(&n, "lines", "n", 100, "at most this many of the newest records")
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the hash chain and the tail against the latest signed checkpoint; exit 1 naming the first bad record",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			v, err := cc.c.VerifyAudit(ctx)
			if err != nil {
				return err
			}
			if cc.json {
				if err := printJSON(cc.stdout, v); err != nil {
					return err
				}
			} else if v.OK {
				fmt.Fprintf(cc.stdout, "audit log ok: %d records, the latest checkpoint at record %d\n", v.Records, v.Checkpoint)
			}
			if v.OK {
				return nil
			}
			if !cc.json {
				at := ""
				if v.FirstBad > 0 {
					at = fmt.Sprintf("record %d: ", v.FirstBad)
				}
				fmt.Fprintf(cc.stderr, "steward: the audit log does not verify: %s%s\n", at, v.Problem)
			}
			return exitError{exitFailure}
		}),
	}
	checkpoint := &cobra.Command{
		Use:   "checkpoint",
		Short: "Sign a checkpoint of the audit log as it is, kept outside the database",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			c, err := cc.c.CheckpointAudit(ctx)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, c)
			}
			fmt.Fprintf(cc.stdout, "checkpoint of record %d (%s) appended to %s\n", c.Seq, c.Hash, c.File)
			return nil
		}),
	}
	cmd.AddCommand(verify, checkpoint)
	return cmd
}

// printAudit writes list, which the API gives newest first, oldest first:
// as a table, or as a JSON array.
func printAudit(w io.Writer, list []steward.AuditRecord, asJSON bool) error {
	slices.Reverse(list)
	if asJSON {
		if list == nil {
			list = []steward.AuditRecord{}
		}
		return printJSON(w, list)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "SEQ\tTIME\tPRINCIPAL\tACTION\tTARGET\tOUTCOME")
	for _, r := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.Time.Local().Format(time.RFC3339), r.Principal, r.Action, r.Target, r.Outcome)
	}
	return tw.Flush()
}
