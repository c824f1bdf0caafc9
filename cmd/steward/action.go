package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

// newActionCmd returns the start, stop or restart command.
func newActionCmd(g *globals, verb, short string) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   verb + " NAME... | --all",
		Short: short,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return usageError{fmt.Errorf("%s: name services or use --all, not both", subcommand(cmd))}
			case !all && len(args) == 0:
				return usageError{fmt.Errorf("%s: name at least one service, or use --all", subcommand(cmd))}
			}
			return nil
		},
		ValidArgsFunction: completeServices(g),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, names []string) error {
			var (
				list []steward.ServiceStatus
				err  error
			)
			switch {
			case verb == "start" && all:
				list, err = cc.c.StartAll(ctx)
			case verb == "start":
				list, err = cc.c.Start(ctx, names...)
			case verb == "stop" && all:
				list, err = cc.c.StopAll(ctx)
			case verb == "stop":
				list, err = cc.c.Stop(ctx, names...)
			case all:
				list, err = cc.c.RestartAll(ctx)
			default:
				list, err = cc.c.Restart(ctx, names...)
			}
			if err != nil {
				return err
			}
			return printServices(cc.stdout, list, cc.json, time.Now())
		}),
	}
	cmd.Flags().BoolVar(&all, "all", false, "act on every service ("+verb+" --all skips disabled ones)")
	if verb != "start" {
		cmd.Flags().Lookup("all").Usage = "act on every service"
	}
	return cmd
}
