package main

import (
	"cmp"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newReportCmd(g *globals) *cobra.Command {
	var q steward.ReportQuery
	var out string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Report availability, restarts, incidents, job runs and load over a time range",
		Long: "Report, from steward's store, each service's availability (and SLO error budget), restarts\n" +
			"split into crashes and manual ones, outages with MTTR and MTBF, CPU and memory; the incidents;\n" +
			"the runs of the jobs; the machine's load. --since and --until take an RFC 3339 time or a span\n" +
			"(7d, 36h, 2w): --since back from --until, --until back from now. -o json (the default), csv,\n" +
			"html or xlsx; --out FILE writes the file atomically, else the report goes to standard output\n" +
			"(xlsx only when that is not a terminal). docs/reports.md defines every figure.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q.Format = cmp.Or(g.output, steward.ReportJSON)
			if !slices.Contains(steward.ReportFormats, q.Format) {
				return usageError{fmt.Errorf("-o %q: want one of %s", g.output, strings.Join(steward.ReportFormats, ", "))}
			}
			if q.Format == steward.ReportXLSX && out == "" && terminal(cmd.OutOrStdout()) {
				return usageError{fmt.Errorf("-o xlsx writes a binary workbook: use --out FILE, or redirect standard output")}
			}
			c, err := newClient(g)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			body, err := c.Report(ctx, q)
			if err != nil {
				return err
			}
			if out != "" {
				return writeNew(out, body, true)
			}
			_, err = cmd.OutOrStdout().Write(body)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Since, "since", "", "start: an RFC 3339 time or a span back from --until (default 7d)")
	f.StringVar(&q.Until, "until", "", "end: an RFC 3339 time or a span back from now (default now)")
	f.StringArrayVar(&q.Services, "service", nil, "only this service (repeat for several; default every one)")
	f.StringVar(&q.Section, "section", "", "for -o csv, the table: services (default), incidents, jobs or machine")
	f.StringVar(&out, "out", "", "write the report to FILE (atomically) instead of standard output")
	return cmd
}
