package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newWhyCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "why NAME",
		Short: "Explain in plain words why a service is in its state",
		Long: "Explain in plain words why a service is in its state: how its last runs ended (exit status or\n" +
			"signal, an OOM kill, the failing check, its last lines of output), the restart intensity it\n" +
			"exceeded, the dependency it waits for, or who stopped it. -o json prints the explanation with\n" +
			"the last exit record.",
		Args:              usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: completeServices(g),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			w, err := cc.c.Why(ctx, args[0])
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, w)
			}
			return printWhy(cc.stdout, w)
		}),
	}
}

// printWhy writes the summary, then each detail indented below it.
func printWhy(w io.Writer, why steward.Why) error {
	var b strings.Builder
	b.WriteString(why.Summary + "\n")
	for _, d := range why.Details {
		b.WriteString("  " + strings.ReplaceAll(d, "\n", "\n  ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func newInfoCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "info",
		Short: "Describe the running steward: version, OS, service manager, data dir and capabilities",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			info, err := cc.c.Info(ctx)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, info)
			}
			return printInfo(cc.stdout, info)
		}),
	}
}

// printInfo writes info as "key: value" lines and a table of capabilities.
func printInfo(w io.Writer, info steward.Info) error {
	tw := newTable(w)
	for _, kv := range [][2]string{
		{"version", info.Version}, {"node", info.Node}, {"pid", fmt.Sprint(info.PID)},
		{"started", info.Started.Local().Format("2006-01-02 15:04:05")}, {"config version", fmt.Sprint(info.ConfigVersion)},
		{"os/arch", info.OS + "/" + info.Arch}, {"service manager", info.ServiceManager}, {"data dir", info.DataDir},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	if info.TLSPin != "" {
		fmt.Fprintf(tw, "tls pin:\t%s\n", info.TLSPin)
	}
	fmt.Fprintln(tw, "\nCAPABILITY\tAVAILABLE\tDETAIL")
	for _, c := range info.Capabilities {
		avail := "no"
		if c.Available {
			avail = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, avail, c.Detail)
	}
	return tw.Flush()
}
