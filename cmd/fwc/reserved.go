package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// reserved builds a command whose name is taken but whose work has not
// landed yet: it accepts anything and exits 2 with "not implemented yet".
// Each reserved command lives in its own file; replace the call there with
// the real command when it lands.
func reserved(use, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:                use,
		Short:              short + " (not implemented yet)",
		Long:               long + "\n\nNot implemented yet: this name is reserved.",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
				return cmd.Help()
			}
			return &exitError{code: exitUsage, err: errors.New(cmd.Name() + ": not implemented yet")}
		},
	}
}
