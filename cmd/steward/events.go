package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/client"
)

// eventPage is how many events one request reads when paging through --since.
const eventPage = 1000

func newEventsCmd(g *globals) *cobra.Command {
	var (
		follow  bool
		sinceS  string
		service string
		n       int
		fleet   bool
	)
	cmd := &cobra.Command{
		Use:   "events [-f] [--since DURATION|TIME] [--service NAME]",
		Short: "Print what happened: state changes, config changes, steward's start and stop",
		Long: "Print events, oldest first: every event since --since, else the newest -n (at most\n" +
			"10000; beyond that a note on stderr says so).\n" +
			"With -f, keep printing new events as they happen.\n" +
			"With -o json: a JSON array, or with -f one JSON object per line (NDJSON).",
		Args: noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			q := steward.EventQuery{Service: service, Limit: n}
			if n < 1 {
				return usageError{fmt.Errorf("-n %d: want a count of at least 1", n)}
			}
			if sinceS != "" {
				t, err := parseSince(sinceS, time.Now())
				if err != nil {
					return err
				}
				q.Since, q.Limit = t, 0
			}
			if fleet {
				if follow {
					return usageError{fmt.Errorf("-f and --fleet: follow one node at a time, with --node NAME")}
				}
				return fleetEvents(ctx, cc, q)
			}
			if follow {
				enc := json.NewEncoder(cc.stdout)
				if !cc.json {
					printEventHeader(cc.stdout)
				}
				return cc.c.FollowEvents(ctx, q, func(ev steward.Event) error {
					if cc.json {
						return enc.Encode(ev)
					}
					return printEvent(cc.stdout, ev)
				})
			}
			evs, err := listEvents(ctx, cc.c, q)
			if err != nil {
				return err
			}
			if err := printEvents(cc, evs); err != nil {
				return err
			}
			if q.Since.IsZero() && n > steward.MaxEventLimit && len(evs) == steward.MaxEventLimit {
				fmt.Fprintf(cc.stderr, "showing the newest %d events, the most steward returns at once; use --since for more\n", len(evs))
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&follow, "follow", "f", false, "keep printing new events as they happen")
	f.StringVar(&sinceS, "since", "", "events since a time (RFC 3339) or for a duration back (like 2h)")
	f.StringVar(&service, "service", "", "only this service's events")
	f.IntVarP(&n, "lines", "n", 100, "without --since, how many of the newest events")
	f.BoolVar(&fleet, "fleet", false, "ask every node of the fleet (each node's newest -n, or those since --since)")
	cmd.RegisterFlagCompletionFunc("service", completeServices(g))
	return cmd
}

// printEvents prints evs as a table, or as a JSON array with -o json.
func printEvents(cc *clientCmd, evs []steward.Event) error {
	if cc.json {
		return printJSON(cc.stdout, evs)
	}
	printEventHeader(cc.stdout)
	for _, ev := range evs {
		if err := printEvent(cc.stdout, ev); err != nil {
			return err
		}
	}
	return nil
}

// fleetEvents is events --fleet: the events of every node, each with its
// node, by time; those of the nodes that did not answer reported on stderr
// (and the exit status 1).
func fleetEvents(ctx context.Context, cc *clientCmd, q steward.EventQuery) error {
	list := []steward.FleetEvent{}
	all, err := fleetGet(ctx, cc, "/v1/events", q.Values(), func(node string, ev steward.Event) {
		list = append(list, steward.FleetEvent{Node: node, Event: ev})
	})
	if err != nil {
		return err
	}
	slices.SortStableFunc(list, func(a, b steward.FleetEvent) int { return a.Time.Compare(b.Time) })
	if cc.json {
		err = printJSON(cc.stdout, list)
	} else {
		err = printFleetEvents(cc.stdout, list)
	}
	if err != nil {
		return err
	}
	return fleetExit(all)
}

// printFleetEvents writes list as events' table with the node first.
func printFleetEvents(w io.Writer, list []steward.FleetEvent) error {
	width := len("NODE")
	for _, ev := range list {
		width = max(width, len(ev.Node))
	}
	fmt.Fprintf(w, "%-*s  ", width, "NODE")
	printEventHeader(w)
	for _, ev := range list {
		fmt.Fprintf(w, "%-*s  ", width, ev.Node)
		if err := printEvent(w, ev.Event); err != nil {
			return err
		}
	}
	return nil
}

// listEvents returns the events q selects; with Since, every one of them.
func listEvents(ctx context.Context, c *client.Client, q steward.EventQuery) ([]steward.Event, error) {
	if q.Since.IsZero() {
		return c.Events(ctx, q)
	}
	out := []steward.Event{}
	q.Limit = eventPage
	for {
		evs, err := c.Events(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
		if len(evs) < eventPage {
			return out, nil
		}
		q.After = evs[len(evs)-1].ID
	}
}

// parseSince parses --since: a duration back from now, or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Errorf("--since %q: want a duration like 2h or a time like 2025-01-02T15:04:05Z", s)}
}

// eventFormat lays out one event line of the human output.
const eventFormat = "%-19s  %-6s  %-16s  %-30s  %s\n"

func printEventHeader(w io.Writer) {
	fmt.Fprintf(w, eventFormat, "TIME", "TYPE", "SERVICE", "CHANGE", "REASON")
}

func printEvent(w io.Writer, ev steward.Event) error {
	change := "-"
	if ev.From != "" || ev.To != "" {
		change = fmt.Sprintf("%s -> %s", cmp.Or(string(ev.From), "-"), cmp.Or(string(ev.To), "-"))
		if ev.PID > 0 {
			change += fmt.Sprintf(" (%d)", ev.PID)
		}
	}
	_, err := fmt.Fprintf(w, eventFormat, ev.Time.Local().Format(time.DateTime), ev.Type, cmp.Or(ev.Service, "-"), change, ev.Reason)
	return err
}
