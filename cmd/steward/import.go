package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/importer"
)

func newImportCmd(g *globals) *cobra.Command {
	var from string
	var force bool
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Write a steward config from a supervisord, PM2, compose, Procfile or systemd file",
		Long: "Write a steward config from the config of another supervisor: a supervisord .conf, a PM2\n" +
			"ecosystem file (JSON, or JavaScript evaluated with node when node is installed), a docker\n" +
			"compose file (its commands run on this machine; images are reported, not run), a Procfile\n" +
			"(with the .env beside it) or systemd .service units (several units at once depend on each\n" +
			"other by After=, Wants= and Requires=). The format is told from the file's name and content,\n" +
			"or named with --from. What could not be mapped is written as # comments. The result is\n" +
			"checked as `steward validate` would check it; a file that cannot be imported writes nothing.\n\n" +
			"-o FILE writes the config to FILE (an existing FILE only with --force) instead of standard output.",
		Example: "  steward import /etc/supervisor/conf.d/app.conf -o steward.yaml\n" +
			"  steward import docker-compose.yml\n" +
			"  steward import --from systemd api.service worker.service",
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var format importer.Format
			if from != "" {
				f, err := importer.ParseFormat(from)
				if err != nil {
					return usageError{err}
				}
				format = f
			}
			if g.output == "json" {
				return usageError{errors.New("import writes YAML; -o names the file to write it to")}
			}
			var in []importer.Input
			for _, path := range args {
				data, err := readLimited(path, importer.MaxFileSize)
				if err != nil {
					return err
				}
				in = append(in, importer.Input{Path: path, Data: data, Format: format})
			}
			out, err := importer.Import(in, importer.Options{ReadFile: os.ReadFile})
			if err != nil {
				return err
			}
			if g.output == "" {
				_, err := cmd.OutOrStdout().Write(out)
				return err
			}
			if err := writeNew(g.output, out, force); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", g.output)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "format of the files: "+formatNames())
	cmd.Flags().BoolVar(&force, "force", false, "overwrite the -o file when it exists")
	return cmd
}

func formatNames() string {
	var names []string
	for _, f := range importer.Formats {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// readLimited reads the file at path, failing when it is larger than max
// bytes.
func readLimited(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return data, nil
}

// writeNew writes data to path through a temporary file in its directory
// renamed over it, so that a failure leaves nothing half written; an
// existing path is replaced only when force is set.
func writeNew(path string, data []byte, force bool) error {
	if _, err := os.Stat(path); err == nil && !force {
		return fmt.Errorf("%s exists; use --force to replace it", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
