package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/client"
)

// newRegisterCmd is registry register: an instance registered on the
// steward asked, its id printed.
func newRegisterCmd(g *globals) *cobra.Command {
	var (
		reg        steward.Registration
		ttl, dereg time.Duration
		meta       []string
	)
	cmd := &cobra.Command{
		Use:   "register --name NAME --port PORT [--address A] [--tag T]... [--ttl D] [--id ID]",
		Short: "Register an instance on this node, kept alive by heartbeats within its TTL; prints its id",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			for _, m := range meta {
				k, v, ok := strings.Cut(m, "=")
				if !ok || k == "" {
					return usageError{fmt.Errorf("--meta %q: want KEY=VALUE, e.g. zone=a", m)}
				}
				if reg.Meta == nil {
					reg.Meta = map[string]string{}
				}
				reg.Meta[k] = v
			}
			if ttl != 0 {
				reg.TTL = ttl.String()
			}
			if dereg != 0 {
				reg.DeregisterAfter = dereg.String()
			}
			in, err := cc.c.Register(ctx, reg)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, in)
			}
			fmt.Fprintln(cc.stdout, in.ID)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&reg.Name, "name", "", "the name the instance is found by")
	f.IntVar(&reg.Port, "port", 0, "its port")
	f.StringVar(&reg.Address, "address", "", "its address (default: the node's)")
	f.StringArrayVar(&reg.Tags, "tag", nil, "a tag; repeatable")
	f.StringArrayVar(&meta, "meta", nil, "KEY=VALUE; repeatable")
	f.DurationVar(&ttl, "ttl", 0, "a heartbeat must come within it (default 30s)")
	f.DurationVar(&dereg, "deregister-after", 0, "removed this long after its last heartbeat (default 10×TTL, at least 1m)")
	f.StringVar(&reg.ID, "id", "", "its id (default: NAME-XXXXXXXX); registering an id again replaces it")
	f.IntVar(&reg.SuccessBeforePassing, "success-before-passing", 0, "passing reports in a row that make it healthy (default 1)")
	f.IntVar(&reg.FailuresBeforeCritical, "failures-before-critical", 0, "failing reports in a row that make it unhealthy (default 1)")
	return cmd
}

// newHeartbeatCmd is registry heartbeat NAME ID.
func newHeartbeatCmd(g *globals) *cobra.Command {
	var (
		failing bool
		note    string
	)
	cmd := &cobra.Command{
		Use:   "heartbeat NAME ID [--failing] [-m NOTE]",
		Short: "Report an instance registered on this node alive, passing or failing",
		Args:  usageArgs(cobra.ExactArgs(2)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			hb := steward.Heartbeat{Status: steward.CheckPassing, Note: note}
			if failing {
				hb.Status = steward.CheckFailing
			}
			in, err := cc.c.Heartbeat(ctx, args[0], args[1], hb)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, in)
			}
			fmt.Fprintf(cc.stdout, "%s %s healthy=%t\n", in.Name, in.ID, in.Healthy)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&failing, "failing", false, "report it failing")
	cmd.Flags().StringVarP(&note, "message", "m", "", "a note, shown with the instance")
	return cmd
}

// newDeregisterCmd is registry deregister NAME ID.
func newDeregisterCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "deregister NAME ID",
		Short: "Remove an instance registered on this node",
		Args:  usageArgs(cobra.ExactArgs(2)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			return cc.c.Deregister(ctx, args[0], args[1])
		}),
	}
}

// newPickCmd is registry pick NAME: one healthy instance, each call the
// next, printed as HOST:PORT.
func newPickCmd(g *globals) *cobra.Command {
	var q client.RegistryFilter
	cmd := &cobra.Command{
		Use:   "pick NAME [--tag T]",
		Short: "Print one healthy instance of NAME as HOST:PORT, each call the next (round robin)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			in, err := cc.c.Pick(ctx, args[0], q)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, in)
			}
			fmt.Fprintln(cc.stdout, net.JoinHostPort(in.Address, strconv.Itoa(in.Port)))
			return nil
		}),
	}
	cmd.Flags().StringVar(&q.Tag, "tag", "", "only the instances with this tag")
	return cmd
}
