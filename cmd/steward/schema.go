package main

import (
	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/kinds/builtin"
)

func newSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the config file, for editors",
		Long: `Print a JSON Schema (draft 2020-12) of the config file as it is written:
durations as "10s", sizes as "64MB", a command as a string or a list, the
built-in kinds of service and types of notifier. Save it and point an editor
at it, e.g. with yaml-language-server's modeline at the top of steward.yaml:

    steward schema > steward.schema.json
    # yaml-language-server: $schema=steward.schema.json

The schema checks keys and the kinds of values; "steward validate" checks the
rest (names that must exist, commands on the PATH, conflicting settings).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printJSON(cmd.OutOrStdout(), config.Schema(builtin.Config()))
		},
	}
}
