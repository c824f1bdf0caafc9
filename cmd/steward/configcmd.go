package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newReloadCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reload",
		Short: "Re-read the config file and apply the changes",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			a, err := cc.c.Reload(ctx)
			if err != nil {
				return printProblems(cc.stderr, err)
			}
			return printApplied(cc, "", a)
		}),
	}
}

// printApplied reports what applying a configuration did.
func printApplied(cc *clientCmd, prefix string, a steward.Applied) error {
	if cc.json {
		return printJSON(cc.stdout, a)
	}
	d := a.Diff
	fmt.Fprintf(cc.stdout, "%sconfig version %d applied: %s added, %s changed, %s removed\n", prefix, a.Version,
		names(d.Added), names(d.Changed), names(d.Removed))
	if len(d.Sections) > 0 {
		fmt.Fprintf(cc.stdout, "changed %s: applied\n", strings.Join(d.Sections, ", "))
	}
	if len(d.Settings) > 0 {
		fmt.Fprintf(cc.stdout, "changed %s: restart steward to apply\n", strings.Join(d.Settings, ", "))
	}
	return nil
}

// names counts and lists service names: "0", "2 (api, web)".
func names(list []string) string {
	if len(list) == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", len(list), strings.Join(list, ", "))
}

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the applied configuration, its history, diffs, and roll back",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{fmt.Errorf("%s: want a subcommand: show, history, diff or rollback", subcommand(cmd))}
		},
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "show",
			Short: "Print the applied configuration's text",
			Args:  noArgs,
			RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
				ct, err := cc.c.Config(ctx)
				if err != nil {
					return err
				}
				if cc.json {
					return printJSON(cc.stdout, ct)
				}
				_, err = io.WriteString(cc.stdout, ct.Text)
				return err
			}),
		},
		&cobra.Command{
			Use:   "history",
			Short: "List the applied config versions, newest first",
			Args:  noArgs,
			RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
				vs, err := cc.c.ConfigVersions(ctx)
				if err != nil {
					return err
				}
				if cc.json {
					if vs == nil {
						vs = []steward.ConfigVersion{}
					}
					return printJSON(cc.stdout, vs)
				}
				info, err := cc.c.Info(ctx)
				if err != nil {
					return err
				}
				return printHistory(cc.stdout, vs, info.ConfigVersion)
			}),
		},
		&cobra.Command{
			Use:   "diff A B",
			Short: "Print the unified diff from config version A to version B",
			Args:  usageArgs(cobra.ExactArgs(2)),
			RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
				a, err := versionArg(args[0])
				if err != nil {
					return err
				}
				b, err := versionArg(args[1])
				if err != nil {
					return err
				}
				diff, err := cc.c.ConfigDiff(ctx, a, b)
				if err != nil {
					return err
				}
				if cc.json {
					return printJSON(cc.stdout, map[string]any{"from": a, "to": b, "diff": diff})
				}
				_, err = io.WriteString(cc.stdout, diff)
				return err
			}),
		},
		&cobra.Command{
			Use:   "rollback N",
			Short: "Apply config version N again, as a new version",
			Args:  usageArgs(cobra.ExactArgs(1)),
			RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
				n, err := versionArg(args[0])
				if err != nil {
					return err
				}
				a, err := cc.c.Rollback(ctx, n)
				if err != nil {
					return printProblems(cc.stderr, err)
				}
				return printApplied(cc, fmt.Sprintf("rolled back to version %d: ", n), a)
			}),
		},
	)
	return cmd
}

// versionArg parses a config version number argument.
func versionArg(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, usageError{fmt.Errorf("%q is not a config version number", s)}
	}
	return n, nil
}

// printHistory writes the config versions as a table, marking current.
func printHistory(w io.Writer, vs []steward.ConfigVersion, current int) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "VERSION\tAPPLIED\tBY\tHASH\tFILE")
	for _, v := range vs {
		n := strconv.Itoa(v.N)
		if v.N == current {
			n += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.12s\t%s\n", n, v.Time.Local().Format(time.DateTime), cmp.Or(v.Source, "-"), v.Hash, v.File)
	}
	return tw.Flush()
}
