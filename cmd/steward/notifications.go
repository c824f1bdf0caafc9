package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

// notificationStates are what --state accepts besides "all".
var notificationStates = []string{"pending", "failed", "delivered"}

func newNotificationsCmd(g *globals) *cobra.Command {
	var states []string
	cmd := &cobra.Command{
		Use:   "notifications",
		Short: "List the notifications not delivered yet: pending (being retried) and failed (given up)",
		Long: "List the notifications in the outbox, newest first: by default those pending (being\n" +
			"delivered, retried with backoff) and failed (given up after notifications.max_age).\n" +
			"--state picks others: pending, failed, delivered or all; repeat it or separate with commas.",
		Args: noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			want, err := parseStates(states)
			if err != nil {
				return err
			}
			list, err := cc.c.Notifications(ctx, want...)
			if err != nil {
				return err
			}
			return printNotifications(cc.stdout, list, cc.json, time.Now())
		}),
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "pending, failed, delivered or all (default pending,failed)")
	retry := &cobra.Command{
		Use:   "retry ID...",
		Short: "Deliver failed notifications again, with the same idempotency key",
		Args:  usageArgs(cobra.MinimumNArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			for _, a := range args {
				id, err := parseID(a, "notification")
				if err != nil {
					return err
				}
				n, err := cc.c.RetryNotification(ctx, id)
				if err != nil {
					return err
				}
				if cc.json {
					if err := printJSON(cc.stdout, n); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(cc.stdout, "notification %d to %s is pending again\n", n.ID, n.Notifier)
			}
			return nil
		}),
	}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one notification and the message it carries",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			id, err := parseID(args[0], "notification")
			if err != nil {
				return err
			}
			n, err := cc.c.Notification(ctx, id)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, n)
			}
			printNotification(cc.stdout, n)
			return nil
		}),
	}
	cmd.AddCommand(retry, show)
	return cmd
}

// parseStates returns the states --state asks for: none for all.
func parseStates(flags []string) ([]string, error) {
	if len(flags) == 0 {
		return []string{"pending", "failed"}, nil
	}
	var out []string
	for _, s := range flags {
		switch {
		case s == "all":
			return nil, nil
		case !slices.Contains(notificationStates, s):
			return nil, usageError{fmt.Errorf("--state %q: want pending, failed, delivered or all", s)}
		case !slices.Contains(out, s):
			out = append(out, s)
		}
	}
	return out, nil
}

// printNotifications writes list as a table, or as a JSON array; now is
// the time ages are counted to.
func printNotifications(w io.Writer, list []steward.Notification, asJSON bool, now time.Time) error {
	if asJSON {
		if list == nil {
			list = []steward.Notification{}
		}
		return printJSON(w, list)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tSTATE\tNOTIFIER\tATTEMPTS\tCREATED\tNEXT\tTITLE\tLAST ERROR")
	for _, n := range list {
		next := "-"
		if n.State == "pending" && !n.NextAttempt.IsZero() {
			next = "in " + duration(max(n.NextAttempt.Sub(now), 0))
		}
		row := []string{strconv.FormatInt(n.ID, 10), n.State, n.Notifier, strconv.Itoa(n.Attempts),
			duration(max(now.Sub(n.Created), 0)) + " ago", next, n.Message.Title, cmp.Or(oneLine(n.LastError), "-")}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

func printNotification(w io.Writer, n steward.Notification) {
	fmt.Fprintf(w, "notification %d to %s: %s after %d attempts\n", n.ID, n.Notifier, n.State, n.Attempts)
	fmt.Fprintf(w, "key: %s\ncreated: %s\n", n.Key, n.Created.Format(time.RFC3339))
	if !n.NextAttempt.IsZero() {
		fmt.Fprintf(w, "next attempt: %s\n", n.NextAttempt.Format(time.RFC3339))
	}
	if !n.Done.IsZero() {
		fmt.Fprintf(w, "done: %s\n", n.Done.Format(time.RFC3339))
	}
	if n.LastError != "" {
		fmt.Fprintf(w, "last error: %s\n", n.LastError)
	}
	fmt.Fprintf(w, "\n%s\n\n%s", n.Message.Title, n.Message.Text)
}

// oneLine returns s with each run of white space, line breaks included, as
// one space.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
