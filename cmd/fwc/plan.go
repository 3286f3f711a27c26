package main

import (
	"github.com/spf13/cobra"
)

func newPlanCmd(e *env) *cobra.Command {
	var netns string
	cmd := &cobra.Command{
		Use:   "plan [--netns NAME] PATH",
		Short: "Show what apply would change in the running ruleset",
		Long: `Plan compares a policy with what the kernel holds (fwc's nftables table
"inet fwc", and the ip rules and routes fwc installed) and prints the
difference, one change a line: + added, - removed, ~ changed. It changes
nothing.

Exit status: 0 when nothing would change, 1 when changes are pending, 2 on
error (policy errors included), so that configuration management can use
it as a check.`,
		Example: `  fwc plan host.fw
  fwc plan --netns test host.fw`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("plan needs one PATH")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, paths []string) error {
			_, h, plan, err := planFor(e, paths, netns)
			if err != nil {
				if ee, ok := err.(*exitError); ok {
					ee.code = exitUsage
				}
				return err
			}
			defer h.Close()
			if err := plan.Write(e.stdout); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if !plan.Empty() {
				return &exitError{code: exitFindings}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&netns, "netns", "", "work in the network `namespace` NAME (or at a path)")
	return cmd
}
