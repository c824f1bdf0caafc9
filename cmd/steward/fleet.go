package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/client"
)

func newNodesCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "nodes",
		Short: "List the nodes of the fleet: up or down, version, services, last heartbeat",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			list, err := cc.c.Nodes(ctx)
			if err != nil {
				return err
			}
			return printNodes(cc.stdout, list, cc.json, time.Now())
		}),
	}
}

// printNodes writes list as a table, or as a JSON array; now is the time
// LAST SEEN counts to.
func printNodes(w io.Writer, list []steward.Node, asJSON bool, now time.Time) error {
	return printList(w, list, asJSON, "NAME\tSTATE\tVERSION\tSERVICES\tLAST SEEN", func(n steward.Node) []string {
		name := n.Name
		if n.Self {
			name += " (this)"
		}
		return []string{name, string(n.State), n.Version, strconv.Itoa(n.Services), duration(max(now.Sub(n.LastSeen), 0)) + " ago"}
	})
}

func newRegistryCmd(g *globals) *cobra.Command {
	var q client.RegistryFilter
	cmd := &cobra.Command{
		Use:   "registry [NAME]",
		Short: "List the fleet's registry: the instances of the services with a registry: section and those registered through the API",
		Long: `List the fleet's registry, or register, heartbeat, deregister and pick instances.
On this command --node filters the list by node: the list is the fleet's anyway.`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			list, err := cc.c.Registry(ctx, optionalArg(args), q)
			if err != nil {
				return err
			}
			return printInstances(cc.stdout, list, cc.json)
		}),
	}
	cmd.Flags().StringVar(&q.Tag, "tag", "", "only the instances with this tag")
	cmd.Flags().StringVar(&q.Node, "node", "", "only the instances of this node")
	cmd.Flags().BoolVar(&q.Healthy, "healthy", false, "only the healthy instances")
	cmd.AddCommand(newRegisterCmd(g), newHeartbeatCmd(g), newDeregisterCmd(g), newPickCmd(g))
	return cmd
}

// printInstances writes list as a table, or as a JSON array.
func printInstances(w io.Writer, list []steward.Instance, asJSON bool) error {
	return printList(w, list, asJSON, "NAME\tNODE\tADDRESS\tPORT\tHEALTHY\tTAGS", func(in steward.Instance) []string {
		return []string{in.Name, in.Node, in.Address, strconv.Itoa(in.Port), strconv.FormatBool(in.Healthy), strings.Join(in.Tags, ",")}
	})
}

// fleetPs is ps --fleet: the services of every node, those of the nodes
// that did not answer reported on stderr (and the exit status 1).
func fleetPs(ctx context.Context, cc *clientCmd) error {
	answers, err := cc.c.FleetServices(ctx)
	if err != nil {
		return err
	}
	list := []steward.FleetService{}
	failed := 0
	for _, a := range answers {
		var svcs []steward.ServiceStatus
		if a.Error == nil {
			if err := json.Unmarshal(a.Body, &svcs); err != nil {
				a.Error = &steward.ErrorBody{Code: steward.EINTERNAL, Message: fmt.Sprintf("node %q answered %v", a.Node, err)}
			}
		}
		if a.Error != nil {
			failed++
			fmt.Fprintf(cc.stderr, "steward: node %s: %s\n", a.Node, a.Error.Message)
			continue
		}
		for _, s := range svcs {
			list = append(list, steward.FleetService{Node: a.Node, ServiceStatus: s})
		}
	}
	if err := printFleetServices(cc.stdout, list, cc.json, time.Now()); err != nil {
		return err
	}
	if failed > 0 {
		return exitError{exitFailure}
	}
	return nil
}

// printFleetServices writes list as ps's table with the node first, or as
// a JSON array.
func printFleetServices(w io.Writer, list []steward.FleetService, asJSON bool, now time.Time) error {
	if asJSON {
		return printJSON(w, list)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "NODE\tNAME\tKIND\tSTATE\tPID\tRESTARTS\tHEALTH\tCPU\tMEM\tUPTIME/SINCE\tREASON")
	for _, s := range list {
		fmt.Fprintln(tw, s.Node+"\t"+strings.Join(serviceRow(s.ServiceStatus, now), "\t"))
	}
	return tw.Flush()
}
