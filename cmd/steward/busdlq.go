package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newBusDLQCmd(g *globals) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "dlq [STREAM]",
		Short: "List the bus's dead letters, oldest first: all, or one stream's",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			q := steward.BusDLQQuery{Limit: limit, Stream: optionalArg(args)}
			list, err := cc.c.BusDeadLetters(ctx, q)
			if err != nil {
				return err
			}
			return printList(cc.stdout, list, cc.json, "ID\tSTREAM\tSUBJECT\tSEQ\tCONSUMER\tDELIVERIES\tTIME\tREASON", func(d steward.BusDeadLetter) []string {
				at := "-"
				if !d.Time.IsZero() {
					at = d.Time.Local().Format(time.DateTime)
				}
				subject := d.Subject
				if d.Missing {
					subject = "(gone)"
				}
				return []string{fmt.Sprint(d.ID), d.Stream, subject, fmt.Sprint(d.Seq), d.Consumer, fmt.Sprint(d.Deliveries), at, d.Reason}
			})
		}),
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many (default: the server's, 1000)")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one dead letter with its message",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			id, err := parseDLQID(args[0])
			if err != nil {
				return err
			}
			d, err := cc.c.BusDeadLetter(ctx, id)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, d)
			}
			printDeadLetter(cc.stdout, d)
			return nil
		}),
	}
	var all bool
	var stream string
	replay := &cobra.Command{
		Use:   "replay ID|--all [--stream S]",
		Short: "Publish a dead letter (or all) again on its subject, and remove it from the DLQ",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			if all == (len(args) == 1) || stream != "" && !all {
				return usageError{fmt.Errorf("bus dlq replay: give an ID or --all (with --stream to limit it)")}
			}
			if all {
				n, err := cc.c.BusReplayDeadLetters(ctx, stream)
				if err != nil {
					return err
				}
				if cc.json {
					return printJSON(cc.stdout, n)
				}
				fmt.Fprintf(cc.stdout, "replayed %d dead letters\n", n.Count)
				return nil
			}
			id, err := parseDLQID(args[0])
			if err != nil {
				return err
			}
			p, err := cc.c.BusReplayDeadLetter(ctx, id)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, p)
			}
			fmt.Fprintf(cc.stdout, "replayed %d on %s as %s, stored in %s as %d\n", id, p.Subject, p.ID, p.Stream, p.Seq)
			return nil
		}),
	}
	replay.Flags().BoolVar(&all, "all", false, "replay every dead letter, oldest first")
	replay.Flags().StringVar(&stream, "stream", "", "with --all: only this stream's")
	purge := &cobra.Command{
		Use:   "purge [STREAM]",
		Short: "Remove the dead letters: all, or one stream's",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			n, err := cc.c.BusPurgeDeadLetters(ctx, optionalArg(args))
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, n)
			}
			fmt.Fprintf(cc.stdout, "removed %d dead letters\n", n.Count)
			return nil
		}),
	}
	cmd.AddCommand(show, replay, purge)
	return cmd
}

func parseDLQID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id < 1 {
		return 0, usageError{fmt.Errorf("dead letter ID %q: want a positive number", s)}
	}
	return id, nil
}

// printDeadLetter writes one dead letter, its message's headers and data.
func printDeadLetter(w io.Writer, d steward.BusDeadLetter) {
	fmt.Fprintf(w, "id:          %d\nstream:      %s (seq %d)\nsubject:     %s\nconsumer:    %s\nreason:      %s\ndeliveries:  %d\n",
		d.ID, d.Stream, d.Seq, d.Subject, d.Consumer, d.Reason, d.Deliveries)
	if !d.Time.IsZero() {
		fmt.Fprintf(w, "time:        %s\n", d.Time.Local().Format(time.RFC3339))
	}
	if d.Message == nil {
		fmt.Fprintln(w, "message:     (gone from its stream before steward read it)")
		return
	}
	m := d.Message
	for _, kv := range [][2]string{{"type", m.Type}, {"msg id", m.ID}, {"source", m.Source}, {"correlation", m.CorrelationID}} {
		if kv[1] != "" {
			fmt.Fprintf(w, "%-12s %s\n", kv[0]+":", kv[1])
		}
	}
	for k, v := range m.Headers {
		fmt.Fprintf(w, "header:      %s: %s\n", k, v)
	}
	fmt.Fprintf(w, "data:\n%s\n", strings.TrimRight(busText(*m), "\n"))
}

func newBusServicesCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "services",
		Short: "List the NATS micro services (plugins) on the bus, with their endpoints and figures",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			list, err := cc.c.BusServices(ctx)
			if err != nil {
				return err
			}
			if cc.json {
				if list == nil {
					list = []steward.BusService{}
				}
				return printJSON(cc.stdout, list)
			}
			const format = "%-20s  %-10s  %-22s  %-20s  %-24s  %8s  %6s  %s\n"
			fmt.Fprintf(cc.stdout, format, "NAME", "VERSION", "ID", "ENDPOINT", "SUBJECT", "REQUESTS", "ERRORS", "AVERAGE")
			for _, s := range list {
				if len(s.Endpoints) == 0 {
					fmt.Fprintf(cc.stdout, format, s.Name, s.Version, s.ID, "-", "-", "-", "-", "-")
				}
				for _, e := range s.Endpoints {
					fmt.Fprintf(cc.stdout, format, s.Name, s.Version, s.ID, e.Name, e.Subject, fmt.Sprint(e.Requests), fmt.Sprint(e.Errors), e.AverageProcessingTime)
				}
			}
			return nil
		}),
	}
}
