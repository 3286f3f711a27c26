package main

import "github.com/spf13/cobra"

// newConfirmCmd is the seam for `fwc confirm`.
func newConfirmCmd(*env) *cobra.Command {
	return reserved("confirm",
		"Keep a ruleset installed with apply --confirm",
		`Confirm keeps the ruleset installed by "fwc apply --confirm DURATION";
without it the previous ruleset and routes are restored when the time runs
out.`)
}
