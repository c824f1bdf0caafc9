package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newJobsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List the jobs: schedule, next scheduled time, last run",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			list, err := cc.c.Jobs(ctx)
			if err != nil {
				return err
			}
			return printJobs(cc.stdout, list, cc.json)
		}),
	}
	var wait bool
	run := &cobra.Command{
		Use:   "run NAME",
		Short: "Run a job now; with --wait, exit 0 when the run succeeded and 1 otherwise",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			r, err := cc.c.RunJob(ctx, args[0], wait)
			if err != nil {
				return err
			}
			return printStarted(cc, r, wait)
		}),
	}
	run.Flags().BoolVar(&wait, "wait", false, "wait until the run and its retries have ended")
	var n int
	next := &cobra.Command{
		Use:   "next NAME",
		Short: "Show the next scheduled times of a job",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			if n < 1 {
				return usageError{fmt.Errorf("-n %d: want at least 1", n)}
			}
			nx, err := cc.c.JobNext(ctx, args[0], n)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, nx)
			}
			if len(nx.Next) == 0 {
				fmt.Fprintf(cc.stdout, "job %s has no schedule: it runs only when asked\n", nx.Name)
			}
			for _, t := range nx.Next {
				fmt.Fprintln(cc.stdout, t.Format(time.RFC3339))
			}
			return nil
		}),
	}
	next.Flags().IntVarP(&n, "number", "n", 5, "how many")
	cmd.AddCommand(run, next)
	return cmd
}

func newRunsCmd(g *globals) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "runs [NAME]",
		Short: "List runs, newest first: all, or those of one job or workflow",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			q := steward.RunQuery{Limit: limit, Name: optionalArg(args)}
			list, err := cc.c.Runs(ctx, q)
			if err != nil {
				return err
			}
			return printRuns(cc.stdout, list, cc.json)
		}),
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many (default: the server's, 100)")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one run; a workflow run with its steps",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			id, err := parseID(args[0], "run")
			if err != nil {
				return err
			}
			r, err := cc.c.Run(ctx, id)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, r)
			}
			printRun(cc.stdout, r)
			printSteps(cc.stdout, r.Steps)
			return nil
		}),
	}
	logs := &cobra.Command{
		Use:   "logs ID",
		Short: "Print the captured output of a run",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			id, err := parseID(args[0], "run")
			if err != nil {
				return err
			}
			l, err := cc.c.RunLogs(ctx, id)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, l)
			}
			io.WriteString(cc.stdout, l.Output)
			if l.Truncated {
				fmt.Fprintf(cc.stderr, "(run %d wrote more than is kept)\n", id)
			}
			return nil
		}),
	}
	cancel := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a run in flight: its process tree is killed",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			id, err := parseID(args[0], "run")
			if err != nil {
				return err
			}
			r, err := cc.c.CancelRun(ctx, id)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, r)
			}
			printRunLine(cc.stdout, r)
			return nil
		}),
	}
	cmd.AddCommand(show, logs, cancel)
	return cmd
}

// printJobs writes list as a table, or as a JSON array.
func printJobs(w io.Writer, list []steward.Job, asJSON bool) error {
	return printList(w, list, asJSON, "NAME\tSCHEDULE\tNEXT\tLAST", func(j steward.Job) []string {
		sched, next, last := "-", "-", "-"
		if j.Schedule != "" {
			sched = j.Schedule
			if j.Timezone != "" {
				sched += " (" + j.Timezone + ")"
			}
		}
		if !j.Next.IsZero() {
			next = j.Next.Format(time.RFC3339)
		}
		if j.Last != nil {
			last = fmt.Sprintf("%d %s", j.Last.ID, j.Last.Status)
		}
		return []string{j.Name, sched, next, last}
	})
}

// printRuns writes list as a table, or as a JSON array.
func printRuns(w io.Writer, list []steward.Run, asJSON bool) error {
	return printList(w, list, asJSON, "ID\tKIND\tNAME\tSTATUS\tTRIGGER\tSTARTED\tENDED\tEXIT", func(r steward.Run) []string {
		return []string{strconv.FormatInt(r.ID, 10), r.Kind, r.Name, string(r.Status), r.Trigger,
			timeOrDash(r.Started), timeOrDash(r.Ended), exitOrDash(r.ExitCode)}
	})
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func exitOrDash(c *int) string {
	if c == nil {
		return "-"
	}
	return strconv.Itoa(*c)
}

// printRunLine writes one line about r.
func printRunLine(w io.Writer, r steward.Run) {
	line := fmt.Sprintf("run %d of %s: %s", r.ID, r.Name, r.Status)
	if r.ExitCode != nil {
		line += fmt.Sprintf(" (exit %d)", *r.ExitCode)
	}
	if r.Error != "" {
		line += ": " + r.Error
	}
	fmt.Fprintln(w, line)
}

// printStarted writes r, a run just started or, with wait, ended, and its
// steps; with wait, a run that did not succeed ends the command with exit
// status 1.
func printStarted(cc *clientCmd, r steward.Run, wait bool) error {
	var err error
	if cc.json {
		err = printJSON(cc.stdout, r)
	} else {
		printRunLine(cc.stdout, r)
		printSteps(cc.stdout, r.Steps)
	}
	if err == nil && wait && r.Status != steward.RunSucceeded {
		return exitError{exitFailure}
	}
	return err
}

// printRun writes every field of r.
func printRun(w io.Writer, r steward.Run) {
	printRunLine(w, r)
	fmt.Fprintf(w, "kind: %s\ntrigger: %s\nattempt: %d\n", r.Kind, r.Trigger, r.Attempt)
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"scheduled", r.Scheduled}, {"created", r.Created}, {"started", r.Started}, {"ended", r.Ended}} {
		if !f.t.IsZero() {
			fmt.Fprintf(w, "%s: %s\n", f.name, f.t.Format(time.RFC3339Nano))
		}
	}
}
