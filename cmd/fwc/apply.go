package main

import "github.com/spf13/cobra"

// newApplyCmd is the seam for `fwc apply`.
func newApplyCmd(*env) *cobra.Command {
	return reserved("apply [--confirm DURATION] PATH",
		"Install a checked policy on this host in one atomic batch",
		`Apply checks a policy, translates it and installs it in the running kernel
as one atomic netlink batch. With --confirm, the previous ruleset comes back
unless "fwc confirm" is run in time.`)
}
