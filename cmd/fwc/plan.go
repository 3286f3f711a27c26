package main

import "github.com/spf13/cobra"

// newPlanCmd is the seam for `fwc plan`.
func newPlanCmd(*env) *cobra.Command {
	return reserved("plan PATH...",
		"Show what apply would change in the running ruleset",
		`Plan compares a policy with the ruleset loaded in the kernel and prints
the difference, changing nothing.`)
}
