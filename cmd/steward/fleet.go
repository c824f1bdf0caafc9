package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
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
	list := []steward.FleetService{}
	all, err := fleetGet(ctx, cc, "/v1/services", nil, func(node string, s steward.ServiceStatus) {
		list = append(list, steward.FleetService{Node: node, ServiceStatus: s})
	})
	if err != nil {
		return err
	}
	if err := printFleetServices(cc.stdout, list, cc.json, time.Now()); err != nil {
		return err
	}
	return fleetExit(all)
}

// fleetGet sends GET path?query to every node of the fleet and calls add
// with each item of each node's answer, a JSON array of T, in the order of
// the nodes. It reports on stderr each node that gave no answer, and
// whether every node answered.
func fleetGet[T any](ctx context.Context, cc *clientCmd, path string, query url.Values, add func(node string, v T)) (all bool, err error) {
	answers, err := cc.c.Fleet(ctx, path, query)
	if err != nil {
		return false, err
	}
	all = true
	for _, a := range answers {
		var items []T
		if a.Error == nil {
			if err := json.Unmarshal(a.Body, &items); err != nil {
				a.Error = &steward.ErrorBody{Code: steward.EINTERNAL, Message: fmt.Sprintf("node %q answered %v", a.Node, err)}
			}
		}
		if a.Error != nil {
			all = false
			fmt.Fprintf(cc.stderr, "steward: node %s: %s\n", a.Node, a.Error.Message)
			continue
		}
		for _, v := range items {
			add(a.Node, v)
		}
	}
	return all, nil
}

// fleetExit is the result of a --fleet command once its output is
// printed: the exit status 1 unless all nodes answered.
func fleetExit(all bool) error {
	if all {
		return nil
	}
	return exitError{exitFailure}
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
