package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/kinds/workbook"
)

// newWorkbookCmd is `steward workbook …`, a client of /v1/workbooks. A
// session ID (SERVICE.HEX) names its service; sessions and create take
// the service, by default the only workbook service there is.
func newWorkbookCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "workbook", Short: "Edit Excel workbooks in the sessions of a workbook service"}
	sessions := &cobra.Command{
		Use:   "sessions [SERVICE]",
		Short: "List the open sessions of a workbook service",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			service, err := workbookService(ctx, cc.c, args)
			if err != nil {
				return err
			}
			list, err := cc.c.WorkbookSessions(ctx, service)
			if err != nil {
				return err
			}
			now := time.Now()
			return printList(cc.stdout, list, cc.json, "ID\tSHEETS\tCELLS\tFILE\tIDLE\tEXPIRES IN", func(s steward.WorkbookSession) []string {
				return []string{s.ID, strings.Join(s.Sheets, ","), strconv.Itoa(s.Cells), cmp.Or(s.File, "-"),
					duration(max(now.Sub(s.Used), 0)), duration(max(s.Expires.Sub(now), 0))}
			})
		}),
	}
	var template string
	create := &cobra.Command{
		Use:   "create [SERVICE]",
		Short: "Open a session, blank or from a template file under the service's dir, and print its ID",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			service, err := workbookService(ctx, cc.c, args)
			if err != nil {
				return err
			}
			s, err := cc.c.CreateWorkbookSession(ctx, service, template)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, s)
			}
			fmt.Fprintln(cc.stdout, s.ID)
			return nil
		}),
	}
	create.Flags().StringVar(&template, "template", "", "a workbook file under the service's dir to start from")

	var sheet, cell, data string
	write := &cobra.Command{
		Use:   "write ID --sheet S [--cell A1] --data JSON|-",
		Short: "Write a JSON 2-D array at a cell of a sheet (created when missing)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			service, err := sessionService(args[0])
			if err != nil {
				return err
			}
			text := []byte(data)
			if data == "-" {
				if text, err = io.ReadAll(cc.stdin); err != nil {
					return fmt.Errorf("read data from stdin: %w", err)
				}
			}
			rows, err := workbook.ParseData(text)
			if err != nil {
				return usageError{err}
			}
			w, err := cc.c.WriteWorkbook(ctx, service, args[0], steward.WorkbookWriteRequest{Sheet: sheet, Cell: cell, Data: rows})
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, w)
			}
			fmt.Fprintf(cc.stdout, "%d rows written to %s!%s\n", w.Rows, w.Sheet, w.Range)
			return nil
		}),
	}
	write.Flags().StringVar(&sheet, "sheet", "", "the sheet (created when missing)")
	write.Flags().StringVar(&cell, "cell", "A1", "the top left cell")
	write.Flags().StringVar(&data, "data", "", `a JSON array of rows, or "-" to read it from stdin`)
	_ = write.MarkFlagRequired("sheet")
	_ = write.MarkFlagRequired("data")

	var rng string
	read := &cobra.Command{
		Use:   "read ID --sheet S --range A1:C3",
		Short: "Print a range of a sheet: tab-separated rows, or -o json",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			service, err := sessionService(args[0])
			if err != nil {
				return err
			}
			out, err := cc.c.ReadWorkbook(ctx, service, args[0], sheet, rng)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, out)
			}
			for _, row := range out.Data {
				cells := make([]string, len(row))
				for i, v := range row {
					cells[i] = cellText(v)
				}
				fmt.Fprintln(cc.stdout, strings.Join(cells, "\t"))
			}
			return nil
		}),
	}
	read.Flags().StringVar(&sheet, "sheet", "", "the sheet")
	read.Flags().StringVar(&rng, "range", "", "the cells, like A1:C3")
	_ = read.MarkFlagRequired("sheet")
	_ = read.MarkFlagRequired("range")

	var as string
	save := &cobra.Command{
		Use:   "save ID [--as FILE]",
		Short: "Save a session's workbook to a file under the service's dir (atomically)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			service, err := sessionService(args[0])
			if err != nil {
				return err
			}
			s, err := cc.c.SaveWorkbook(ctx, service, args[0], as)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, s)
			}
			fmt.Fprintf(cc.stdout, "saved %s (%d bytes)\n", s.File, s.Bytes)
			return nil
		}),
	}
	save.Flags().StringVar(&as, "as", "", "the file, relative to the service's dir (default: the session's file)")
	closeCmd := &cobra.Command{
		Use:   "close ID",
		Short: "Close a session without saving it",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			service, err := sessionService(args[0])
			if err != nil {
				return err
			}
			return cc.c.CloseWorkbookSession(ctx, service, args[0])
		}),
	}
	cmd.AddCommand(sessions, create, write, read, save, closeCmd)
	return cmd
}

// sessionService returns the service a session ID names.
func sessionService(id string) (string, error) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 || i == len(id)-1 {
		return "", usageError{fmt.Errorf("session ID %q: want SERVICE.HEX, as create printed it", id)}
	}
	return id[:i], nil
}

// workbookService returns the service args name, or the only workbook
// service of the running steward.
func workbookService(ctx context.Context, c *client.Client, args []string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	list, err := c.Services(ctx)
	if err != nil {
		return "", err
	}
	var names []string
	for _, s := range list {
		if s.Kind == workbook.Name {
			names = append(names, s.Name)
		}
	}
	switch len(names) {
	case 1:
		return names[0], nil
	case 0:
		return "", errors.New("no service of kind workbook is configured")
	}
	return "", usageError{fmt.Errorf("there are %d workbook services (%s): name one", len(names), strings.Join(names, ", "))}
}

// cellText is a value of a read as the table prints it: text as it is,
// an empty cell as nothing, other values in JSON.
func cellText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}
