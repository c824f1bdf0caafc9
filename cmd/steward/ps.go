package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newPsCmd(g *globals) *cobra.Command {
	var fleet bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List the services and their state; with --fleet, those of every node",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			if fleet {
				return fleetPs(ctx, cc)
			}
			list, err := cc.c.Services(ctx)
			if err != nil {
				return err
			}
			return printServices(cc.stdout, list, cc.json, time.Now())
		}),
	}
	cmd.Flags().BoolVar(&fleet, "fleet", false, "ask every node of the fleet")
	return cmd
}

// printServices writes list as a table, or as a JSON array; now is the
// time uptimes are counted to.
func printServices(w io.Writer, list []steward.ServiceStatus, asJSON bool, now time.Time) error {
	if asJSON {
		if list == nil {
			list = []steward.ServiceStatus{}
		}
		return printJSON(w, list)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tKIND\tSTATE\tPID\tRESTARTS\tHEALTH\tCPU\tMEM\tUPTIME/SINCE\tREASON")
	for _, s := range list {
		fmt.Fprintln(tw, strings.Join(serviceRow(s, now), "\t"))
	}
	return tw.Flush()
}

// serviceRow is the row of s in ps's table.
func serviceRow(s steward.ServiceStatus, now time.Time) []string {
	pid := "-"
	if s.PID > 0 {
		pid = strconv.Itoa(s.PID)
	}
	health := string(s.Health)
	if s.Health == steward.HealthUnknown {
		health = ""
	}
	cpu, mem := "-", "-"
	if s.PID > 0 && s.RSSBytes > 0 {
		cpu, mem = fmt.Sprintf("%.1f%%", s.CPUPercent), memText(s.RSSBytes)
	}
	return []string{s.Name, cmp.Or(s.Kind, "-"), string(s.State), pid, strconv.Itoa(s.Restarts),
		cmp.Or(health, "-"), cpu, mem, since(s, now), reasonText(s)}
}

// memText formats a memory size compactly: 512K, 37.4M, 1.2G.
func memText(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1fG", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1fM", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%dK", b>>10)
}

// since is the UPTIME/SINCE cell: how long a service with a process has
// been in its state ("5m3s"), or how long ago any other entered its state
// ("5m3s ago").
func since(s steward.ServiceStatus, now time.Time) string {
	if s.Since.IsZero() {
		return "-"
	}
	d := duration(max(now.Sub(s.Since), 0))
	if s.State.Active() || s.State == steward.StateStopping {
		return d
	}
	return d + " ago"
}

// printList writes list as a JSON array ([] when it is empty), or as a
// table: header's tab-separated column names, then row's cells of each.
func printList[T any](w io.Writer, list []T, asJSON bool, header string, row func(T) []string) error {
	if asJSON {
		if list == nil {
			list = []T{}
		}
		return printJSON(w, list)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, header)
	for _, v := range list {
		fmt.Fprintln(tw, strings.Join(row(v), "\t"))
	}
	return tw.Flush()
}

// table aligns tab-separated cells in columns two spaces apart, without
// trailing blanks.
type table struct {
	*tabwriter.Writer
	buf bytes.Buffer
	w   io.Writer
}

func newTable(w io.Writer) *table {
	t := &table{w: w}
	t.Writer = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

// Flush writes the table.
func (t *table) Flush() error {
	if err := t.Writer.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(t.buf.String()) {
		if _, err := io.WriteString(t.w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// reasonText is the reason of s, with the STATUS= it last sent, if any.
func reasonText(s steward.ServiceStatus) string {
	if s.StatusText == "" {
		return s.Reason
	}
	if s.Reason == "" {
		return "status: " + s.StatusText
	}
	return s.Reason + "; status: " + s.StatusText
}
