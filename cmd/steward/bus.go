package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

// errEnough ends a subscription once --count messages came.
var errEnough = errors.New("enough messages")

func newBusCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bus",
		Short: "Publish, subscribe and send requests on steward's message bus (NATS)",
	}
	cmd.AddCommand(newBusPubCmd(g), newBusSubCmd(g), newBusReqCmd(g), newBusStreamsCmd(g), newBusDLQCmd(g), newBusServicesCmd(g))
	return cmd
}

// busData is the data argument: DATA, "-" for standard input, none for
// empty; base64 when it is not UTF-8.
func busData(args []string, stdin io.Reader) (data, encoding string, err error) {
	if len(args) == 0 {
		return "", "", nil
	}
	if args[0] != "-" {
		return args[0], "", nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 1<<20+1))
	if err != nil {
		return "", "", fmt.Errorf("read the data from standard input: %w", err)
	}
	if len(b) > 1<<20 {
		return "", "", errors.New("the data on standard input is larger than 1 MiB")
	}
	if !utf8.Valid(b) {
		return base64.StdEncoding.EncodeToString(b), steward.EncodingBase64, nil
	}
	return string(b), "", nil
}

func newBusPubCmd(g *globals) *cobra.Command {
	var typ string
	var headers []string
	cmd := &cobra.Command{
		Use:   "pub SUBJECT [DATA|-]",
		Short: "Publish a message (DATA, or standard input for -)",
		Args:  usageArgs(cobra.RangeArgs(1, 2)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			h, err := parseHeaders(headers)
			if err != nil {
				return err
			}
			data, enc, err := busData(args[1:], os.Stdin)
			if err != nil {
				return err
			}
			p, err := cc.c.BusPublish(ctx, steward.BusPublishRequest{Subject: args[0], Data: data, Encoding: enc, Headers: h, Type: typ})
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, p)
			}
			if p.Stream != "" {
				fmt.Fprintf(cc.stdout, "published %s on %s, stored in %s as %d\n", p.ID, p.Subject, p.Stream, p.Seq)
				return nil
			}
			fmt.Fprintf(cc.stdout, "published %s on %s\n", p.ID, p.Subject)
			return nil
		}),
	}
	cmd.Flags().StringVar(&typ, "type", "", "envelope type: event (default), command, query or response")
	cmd.Flags().StringArrayVarP(&headers, "header", "H", nil, "a header KEY:VALUE (repeatable)")
	return cmd
}

func newBusSubCmd(g *globals) *cobra.Command {
	var (
		count  int
		sinceS string
	)
	cmd := &cobra.Command{
		Use:   "sub SUBJECT [--count N] [--since D]",
		Short: "Print the messages on a subject (wildcards * and > allowed) as they come",
		Long: "Print the messages on SUBJECT until interrupted, or until --count of them came.\n" +
			"--since replays first what the stream that holds the subject stored since then.\n" +
			"With -o json: one JSON object per line (NDJSON).",
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			if count < 0 {
				return usageError{fmt.Errorf("--count %d: want 0 (no limit) or more", count)}
			}
			q := steward.BusSubscribeQuery{Subject: args[0]}
			if sinceS != "" {
				t, err := parseSince(sinceS, time.Now())
				if err != nil {
					return err
				}
				q.Since = t
			}
			enc := json.NewEncoder(cc.stdout)
			n := 0
			err := cc.c.BusSubscribe(ctx, q, nil, func(m steward.BusMessage) error {
				var err error
				if cc.json {
					err = enc.Encode(m)
				} else {
					err = printBusMessage(cc.stdout, m)
				}
				if err != nil {
					return err
				}
				if n++; count > 0 && n >= count {
					return errEnough
				}
				return nil
			})
			if errors.Is(err, errEnough) {
				return nil
			}
			return err
		}),
	}
	cmd.Flags().IntVar(&count, "count", 0, "stop after this many messages (0: no limit)")
	cmd.Flags().StringVar(&sinceS, "since", "", "replay from a time (RFC 3339) or a duration back (like 1h)")
	return cmd
}

func newBusReqCmd(g *globals) *cobra.Command {
	var timeout time.Duration
	var headers []string
	cmd := &cobra.Command{
		Use:   "req SUBJECT DATA [--timeout D]",
		Short: "Send a request and print the reply",
		Args:  usageArgs(cobra.ExactArgs(2)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			if timeout <= 0 || timeout > time.Minute {
				return usageError{fmt.Errorf("--timeout %v: want more than 0 and at most 1m", timeout)}
			}
			h, err := parseHeaders(headers)
			if err != nil {
				return err
			}
			data, enc, err := busData(args[1:], os.Stdin)
			if err != nil {
				return err
			}
			m, err := cc.c.BusRequest(ctx, steward.BusRequest{Subject: args[0], Data: data, Encoding: enc, Headers: h, Timeout: timeout.String()})
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, m)
			}
			_, err = fmt.Fprintln(cc.stdout, busText(m))
			return err
		}),
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the reply")
	cmd.Flags().StringArrayVarP(&headers, "header", "H", nil, "a header KEY:VALUE (repeatable)")
	return cmd
}

func newBusStreamsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "streams",
		Short: "List the bus's JetStream streams",
		Args:  noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			list, err := cc.c.BusStreams(ctx)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, list)
			}
			const format = "%-20s  %-30s  %10s  %12s  %8s  %s\n"
			fmt.Fprintf(cc.stdout, format, "NAME", "SUBJECTS", "MESSAGES", "BYTES", "MAX AGE", "LAST")
			for _, s := range list {
				age, last := "-", "-"
				if s.MaxAge > 0 {
					age = duration(s.MaxAge)
				}
				if !s.LastTime.IsZero() {
					last = s.LastTime.Local().Format(time.DateTime)
				}
				fmt.Fprintf(cc.stdout, format, s.Name, strings.Join(s.Subjects, ","), fmt.Sprint(s.Messages), fmt.Sprint(s.Bytes), age, last)
			}
			return nil
		}),
	}
}

// parseHeaders reads --header KEY:VALUE flags.
func parseHeaders(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usageError{fmt.Errorf("--header %q: want KEY:VALUE", f)}
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// printBusMessage writes one line: the subject, then the data.
func printBusMessage(w io.Writer, m steward.BusMessage) error {
	_, err := fmt.Fprintf(w, "[%s] %s\n", m.Subject, busText(m))
	return err
}

// busText is a message's data as text; base64 data is marked so.
func busText(m steward.BusMessage) string {
	if m.Encoding != "" {
		return "(" + m.Encoding + ") " + m.Data
	}
	return m.Data
}
