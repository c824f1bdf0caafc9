package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "API tokens for TCP and the dashboard: create, list, revoke",
	}
	var req steward.TokenRequest
	create := &cobra.Command{
		Use:   "create NAME --role viewer|operator|admin [--expires DURATION]",
		Short: "Create a token and print its secret, which is shown this once",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			req.Name = args[0]
			if req.Role == "" {
				return usageError{fmt.Errorf("token create: --role is required: viewer, operator or admin")}
			}
			t, err := cc.c.CreateToken(ctx, req)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, t)
			}
			fmt.Fprintln(cc.stdout, t.Secret)
			fmt.Fprintf(cc.stderr, "token %s (%s, accessor %s) created; its secret above is shown this once\n", t.Name, t.Role, t.Accessor)
			return nil
		}),
	}
	f := create.Flags()
	f.StringVar(&req.Role, "role", "", "viewer (reads), operator (start, stop, ack, run jobs) or admin (config, tokens, audit)")
	f.StringVar(&req.Tenant, "tenant", "", "the tenant it is scoped to (not supported yet)")
	f.StringVar(&req.Expires, "expires", "", "expire after this long, like 720h (default: never)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the tokens, never their secrets",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			list, err := cc.c.Tokens(ctx)
			if err != nil {
				return err
			}
			return printTokens(cc.stdout, list, cc.json, time.Now())
		}),
	}
	revoke := &cobra.Command{
		Use:   "revoke ACCESSOR|NAME",
		Short: "Revoke a token at once; its open streams end",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			t, err := cc.c.RevokeToken(ctx, args[0])
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, t)
			}
			fmt.Fprintf(cc.stdout, "token %s (accessor %s) revoked\n", t.Name, t.Accessor)
			return nil
		}),
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// printTokens writes list as a table, or as a JSON array; now is the time
// expiry is told against.
func printTokens(w io.Writer, list []steward.Token, asJSON bool, now time.Time) error {
	if asJSON {
		if list == nil {
			list = []steward.Token{}
		}
		return printJSON(w, list)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tACCESSOR\tROLE\tTENANT\tCREATED\tSTATE")
	for _, t := range list {
		state := "active"
		switch {
		case !t.Revoked.IsZero():
			state = "revoked " + t.Revoked.Format(time.RFC3339)
		case !t.Expires.IsZero() && !now.Before(t.Expires):
			state = "expired " + t.Expires.Format(time.RFC3339)
		case !t.Expires.IsZero():
			state = "expires " + t.Expires.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Accessor, t.Role, cmp.Or(t.Tenant, "-"), t.Created.Format(time.RFC3339), state)
	}
	return tw.Flush()
}
