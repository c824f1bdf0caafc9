package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
)

func newBackupsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "backups [JOB]",
		Short: "List the backups of the backup jobs, newest first: all, or one job's",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			list, err := cc.c.Backups(ctx, optionalArg(args))
			if err != nil {
				return err
			}
			return printBackups(cc.stdout, list, cc.json)
		}),
	}
}

func newBackupCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Verify, restore and forget backups (take one with: steward jobs run JOB --wait)",
	}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one backup: its archive, digest, counts and what it left out",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			b, err := cc.c.Backup(ctx, args[0])
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, b)
			}
			printBackup(cc.stdout, b)
			return nil
		}),
	}
	var identity string
	verify := &cobra.Command{
		Use:   "verify ID",
		Short: "Read a backup through and check every file's SHA-256; exit 1 naming each problem",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			id, err := readIdentity(identity)
			if err != nil {
				return err
			}
			c, err := cc.c.VerifyBackup(ctx, args[0], steward.BackupIdentity{Identity: id})
			if err != nil {
				return err
			}
			if cc.json {
				err = printJSON(cc.stdout, c)
			} else {
				printCheck(cc.stdout, c)
			}
			if err == nil && !c.OK {
				return exitError{exitFailure}
			}
			return err
		}),
	}
	verify.Flags().StringVar(&identity, "identity", "", "age identity file that decrypts an encrypted backup")
	var to, restoreIdentity string
	restore := &cobra.Command{
		Use:   "restore ID --to DIR",
		Short: "Restore a backup below DIR on the node, once it verifies; nothing is written outside DIR",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			if to == "" {
				return usageError{fmt.Errorf("backup restore: --to DIR is required")}
			}
			dir, err := filepath.Abs(to)
			if err != nil {
				return err
			}
			id, err := readIdentity(restoreIdentity)
			if err != nil {
				return err
			}
			r, err := cc.c.RestoreBackup(ctx, args[0], steward.BackupRestoreRequest{To: dir, Identity: id})
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, r)
			}
			fmt.Fprintf(cc.stdout, "restored backup %s to %s: %d files, %d bytes\n", r.ID, r.To, r.Files, r.Bytes)
			return nil
		}),
	}
	restore.Flags().StringVar(&to, "to", "", "the directory to restore into (created when missing)")
	restore.Flags().StringVar(&restoreIdentity, "identity", "", "age identity file that decrypts an encrypted backup")
	var dryRun bool
	forget := &cobra.Command{
		Use:   "forget JOB [--dry-run]",
		Short: "Remove the backups of a job that its keep policy does not keep, saying why each other one is kept",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, args []string) error {
			f, err := cc.c.ForgetBackups(ctx, args[0], dryRun)
			if err != nil {
				return err
			}
			if cc.json {
				return printJSON(cc.stdout, f)
			}
			printForget(cc.stdout, f)
			return nil
		}),
	}
	forget.Flags().BoolVar(&dryRun, "dry-run", false, "remove nothing: only say what would be kept and why")
	cmd.AddCommand(show, verify, restore, forget)
	return cmd
}

// readIdentity returns the text of the age identity file path, "" for
// none.
func readIdentity(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("identity: %w", err)
	}
	return string(b), nil
}

// printBackups writes list as a table, or as a JSON array.
func printBackups(w io.Writer, list []steward.Backup, asJSON bool) error {
	return printList(w, list, asJSON, "ID\tJOB\tTIME\tFORMAT\tFILES\tBYTES\tSIZE\tARCHIVE", func(b steward.Backup) []string {
		format := b.Format
		if b.Encrypted {
			format += "+age"
		}
		return []string{b.ID, b.Job, b.Time.Format(time.RFC3339), format, strconv.Itoa(b.Files),
			strconv.FormatInt(b.Bytes, 10), strconv.FormatInt(b.Size, 10), b.Archive}
	})
}

// printBackup writes every field of b.
func printBackup(w io.Writer, b steward.Backup) {
	fmt.Fprintf(w, "backup %s of %s\ntime: %s\nformat: %s\nencrypted: %t\narchive: %s\nsize: %d\nsha256: %s\nfiles: %d\nbytes: %d\n",
		b.ID, b.Job, b.Time.Format(time.RFC3339), b.Format, b.Encrypted, b.Archive, b.Size, b.SHA256, b.Files, b.Bytes)
	for _, s := range b.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", s.Path, s.Why)
	}
}

// printCheck writes what a verify found: a line, then each problem.
func printCheck(w io.Writer, c steward.BackupCheck) {
	switch {
	case !c.OK:
		noun := "problems"
		if len(c.Problems) == 1 {
			noun = "problem"
		}
		fmt.Fprintf(w, "backup %s: %d %s\n", c.ID, len(c.Problems), noun)
		for _, p := range c.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	case !c.Content:
		fmt.Fprintf(w, "backup %s: ok, archive digest only (encrypted: give --identity to read the files)\n", c.ID)
	default:
		fmt.Fprintf(w, "backup %s: ok, %d files, %d bytes\n", c.ID, c.Files, c.Bytes)
	}
}

// printForget writes one line per backup: kept and why, or removed.
func printForget(w io.Writer, f steward.BackupForget) {
	if len(f.Decisions) == 0 {
		fmt.Fprintf(w, "job %s has no backups\n", f.Job)
	}
	for _, d := range f.Decisions {
		switch {
		case d.Keep:
			fmt.Fprintf(w, "keep %s: %s\n", d.ID, strings.Join(d.Reasons, ", "))
		case f.DryRun:
			fmt.Fprintf(w, "would remove %s\n", d.ID)
		default:
			fmt.Fprintf(w, "removed %s\n", d.ID)
		}
	}
}
