package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newAlertsCmd(g *globals) *cobra.Command {
	var all, fleet bool
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List the open alerts (or all with --all); with --fleet, those of every node",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			if fleet {
				return fleetAlerts(ctx, cc, steward.AlertQuery{All: all})
			}
			list, err := cc.c.Alerts(ctx, all)
			if err != nil {
				return err
			}
			return printAlerts(cc.stdout, list, cc.json, time.Now())
		}),
	}
	cmd.Flags().BoolVar(&all, "all", false, "also list resolved alerts")
	cmd.Flags().BoolVar(&fleet, "fleet", false, "ask every node of the fleet")
	var comment string
	ack := &cobra.Command{
		Use:   "ack ID",
		Short: "Acknowledge an open alert, which ends its reminders",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			id, err := parseID(args[0], "alert")
			if err != nil {
				return err
			}
			a, err := cc.c.Ack(ctx, id, comment)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, a)
			}
			fmt.Fprintf(cc.stdout, "alert %d acknowledged by %s\n", a.ID, a.AckedBy)
			return nil
		}),
	}
	ack.Flags().StringVarP(&comment, "message", "m", "", "why, for the record")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one alert and its transitions",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			id, err := parseID(args[0], "alert")
			if err != nil {
				return err
			}
			a, err := cc.c.Alert(ctx, id)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, a)
			}
			return printAlert(cc.stdout, a)
		}),
	}
	cmd.AddCommand(ack, show)
	return cmd
}

func parseID(s, what string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, usageError{fmt.Errorf("%s ID %q: want a positive number", what, s)}
	}
	return id, nil
}

// fleetAlerts is alerts --fleet: the alerts of every node, each with its
// node, by when they started; those of the nodes that did not answer
// reported on stderr (and the exit status 1).
func fleetAlerts(ctx context.Context, cc *clientCmd, q steward.AlertQuery) error {
	list := []steward.FleetAlert{}
	all, err := fleetGet(ctx, cc, "/v1/alerts", q.Values(), func(node string, a steward.Alert) {
		list = append(list, steward.FleetAlert{Node: node, Alert: a})
	})
	if err != nil {
		return err
	}
	slices.SortStableFunc(list, func(a, b steward.FleetAlert) int { return a.Started.Compare(b.Started) })
	now := time.Now()
	err = printList(cc.stdout, list, cc.json, "NODE\t"+alertHeader, func(a steward.FleetAlert) []string {
		return append([]string{a.Node}, alertRow(a.Alert, now)...)
	})
	if err != nil {
		return err
	}
	return fleetExit(all)
}

// alertHeader is the header of alerts' table.
const alertHeader = "ID\tSTATE\tSEVERITY\tRULE\tSUBJECT\tSINCE\tNOTE\tMESSAGE"

// printAlerts writes list as a table, or as a JSON array; now is the time
// ages are counted to.
func printAlerts(w io.Writer, list []steward.Alert, asJSON bool, now time.Time) error {
	return printList(w, list, asJSON, alertHeader, func(a steward.Alert) []string { return alertRow(a, now) })
}

// alertRow is the row of a in alerts' table; now is the time ages are
// counted to.
func alertRow(a steward.Alert, now time.Time) []string {
	var notes []string
	if a.AckedBy != "" {
		notes = append(notes, "acked")
	}
	if len(a.Silenced) > 0 {
		notes = append(notes, "silenced")
	}
	if a.Flapping {
		notes = append(notes, "flapping")
	}
	at := a.Started
	if a.State == steward.AlertResolved {
		at = a.Resolved
	}
	return []string{strconv.FormatInt(a.ID, 10), string(a.State), a.Severity, a.Rule, cmp.Or(a.Subject, "-"),
		duration(max(now.Sub(at), 0)) + " ago", cmp.Or(strings.Join(notes, ","), "-"), a.Message}
}

func printAlert(w io.Writer, a steward.Alert) error {
	fmt.Fprintf(w, "alert %d: %s %s on %s (%s)\n", a.ID, a.State, a.Rule, a.Subject, a.Severity)
	fmt.Fprintf(w, "message: %s\n", a.Message)
	if a.AckedBy != "" {
		fmt.Fprintf(w, "acknowledged by %s at %s: %s\n", a.AckedBy, a.AckedAt.Format(time.RFC3339), a.AckComment)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TIME\tFROM\tTO\tMESSAGE")
	for _, t := range a.Transitions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Time.Format(time.RFC3339), cmp.Or(string(t.From), "-"), t.To, t.Message)
	}
	return tw.Flush()
}

func newSilenceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "silence",
		Short: "Silence alerts for a while: add, list, rm",
	}
	var (
		match   []string
		forD    time.Duration
		comment string
	)
	add := &cobra.Command{
		Use:   "add --match LABEL=GLOB... --for DURATION -m WHY",
		Short: "Silence the alerts that match (labels rule, subject, severity) for a while",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			matchers := map[string]string{}
			for _, m := range match {
				k, v, ok := strings.Cut(m, "=")
				if !ok || k == "" {
					return usageError{fmt.Errorf("--match %q: want LABEL=GLOB, e.g. subject=web", m)}
				}
				matchers[k] = v
			}
			if len(matchers) == 0 {
				return usageError{fmt.Errorf("silence add needs at least one --match")}
			}
			sl, err := cc.c.AddSilence(ctx, matchers, forD, comment)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, sl)
			}
			fmt.Fprintf(cc.stdout, "silence %d until %s\n", sl.ID, sl.Ends.Local().Format(time.RFC3339))
			return nil
		}),
	}
	add.Flags().StringArrayVar(&match, "match", nil, "LABEL=GLOB an alert must match (rule, subject or severity); repeatable")
	add.Flags().DurationVar(&forD, "for", time.Hour, "how long the silence lasts")
	add.Flags().StringVarP(&comment, "message", "m", "", "why, for the record")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the silences that have not ended",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			list, err := cc.c.Silences(ctx)
			if err != nil {
				return err
			}
			return printSilences(cc.stdout, list, cc.json)
		}),
	}
	rm := &cobra.Command{
		Use:   "rm ID...",
		Short: "End silences now",
		Args:  usageArgs(cobra.MinimumNArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			for _, a := range args {
				id, err := parseID(a, "silence")
				if err != nil {
					return err
				}
				if err := cc.c.DeleteSilence(ctx, id); err != nil {
					return err
				}
			}
			return nil
		}),
	}
	cmd.AddCommand(add, list, rm)
	return cmd
}

func printSilences(w io.Writer, list []steward.Silence, asJSON bool) error {
	return printList(w, list, asJSON, "ID\tMATCHERS\tENDS\tBY\tCOMMENT", func(s steward.Silence) []string {
		var ms []string
		for _, k := range slices.Sorted(maps.Keys(s.Matchers)) {
			ms = append(ms, k+"="+s.Matchers[k])
		}
		return []string{strconv.FormatInt(s.ID, 10), strings.Join(ms, ","), s.Ends.Format(time.RFC3339), cmp.Or(s.By, "-"), s.Comment}
	})
}

func newChecksCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "checks",
		Short: "List the standalone checks and their last results",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			list, err := cc.c.Checks(ctx)
			if err != nil {
				return err
			}
			return printList(cc.stdout, list, cc.json, "NAME\tSTATUS\tLAST\tMESSAGE", func(c steward.CheckState) []string {
				status, last, msg := "-", "-", ""
				if c.Last != nil {
					status, last, msg = c.Last.Status, duration(max(time.Since(c.Last.Time), 0))+" ago", c.Last.Message
				}
				return []string{c.Name, status, last, msg}
			})
		}),
	}
}
