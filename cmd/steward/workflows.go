package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newWorkflowsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "workflows",
		Short: "List the workflows: triggers, steps, last run, next scheduled time",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			list, err := cc.c.Workflows(ctx)
			if err != nil {
				return err
			}
			return printWorkflows(cc.stdout, list, cc.json)
		}),
	}
}

func newWorkflowCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workflow",
		Short: "Run a workflow",
	}
	var inputs []string
	var wait bool
	run := &cobra.Command{
		Use:   "run NAME",
		Short: "Run a workflow now with inputs; with --wait, exit 0 when the run succeeded and 1 otherwise",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			req, err := workflowInputs(inputs)
			if err != nil {
				return err
			}
			r, err := cc.c.RunWorkflow(ctx, args[0], req, wait)
			if err != nil {
				return err
			}
			return printStarted(cc, r, wait)
		}),
	}
	run.Flags().StringArrayVar(&inputs, "input", nil, "an input of the run, KEY=VALUE ({{.inputs.KEY}} in its templates); repeat for more")
	run.Flags().BoolVar(&wait, "wait", false, "wait until the run has ended and show its steps")
	cmd.AddCommand(run)
	return cmd
}

// workflowInputs parses --input KEY=VALUE flags; a flag without = or a
// key given twice is a usage error.
func workflowInputs(flags []string) (steward.WorkflowRunRequest, error) {
	req := steward.WorkflowRunRequest{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return req, usageError{fmt.Errorf("--input %q: want KEY=VALUE", f)}
		}
		if _, dup := req.Inputs[k]; dup {
			return req, usageError{fmt.Errorf("--input %s: given twice", k)}
		}
		if req.Inputs == nil {
			req.Inputs = map[string]string{}
		}
		req.Inputs[k] = v
	}
	return req, nil
}

// printWorkflows writes list as a table, or as a JSON array.
func printWorkflows(w io.Writer, list []steward.Workflow, asJSON bool) error {
	if asJSON {
		if list == nil {
			list = []steward.Workflow{}
		}
		return printJSON(w, list)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tTRIGGERS\tSTEPS\tLAST\tNEXT")
	for _, wf := range list {
		triggers, last := "-", "-"
		if len(wf.Triggers) > 0 {
			triggers = strings.Join(wf.Triggers, "; ")
		}
		steps := make([]string, len(wf.Steps))
		for i, s := range wf.Steps {
			steps[i] = s.Name
			if len(s.Needs) > 0 {
				steps[i] += "(" + strings.Join(s.Needs, ",") + ")"
			}
		}
		if wf.Last != nil {
			last = fmt.Sprintf("%d %s", wf.Last.ID, wf.Last.Status)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", wf.Name, triggers, strings.Join(steps, " "), last, timeOrDash(wf.Next))
	}
	return tw.Flush()
}

// printSteps writes the steps of a workflow run as a table below it;
// nothing for a run without steps.
func printSteps(w io.Writer, steps []steward.StepRun) {
	if len(steps) == 0 {
		return
	}
	fmt.Fprintln(w, "steps:")
	tw := newTable(w)
	fmt.Fprintln(tw, "  STEP\tSTATUS\tATTEMPTS\tSTARTED\tDURATION\tEXIT/ERROR")
	for _, s := range steps {
		took := "-"
		if !s.Started.IsZero() && !s.Ended.IsZero() {
			took = stepDuration(s.Ended.Sub(s.Started))
		}
		result := exitOrDash(s.ExitCode)
		switch {
		case s.Error != "" && s.ExitCode != nil:
			result = "exit " + result + ": " + s.Error
		case s.Error != "":
			result = s.Error
		case s.ExitCode != nil:
			result = "exit " + result
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Status, strconv.Itoa(s.Attempt), timeOrDash(s.Started), took, result)
	}
	tw.Flush()
}

// stepDuration formats d to the millisecond below a second, else as
// duration does.
func stepDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return duration(d)
}
