package main

import (
	"errors"
	"fmt"

	"github.com/fwcproject/fwc/apply"
	"github.com/spf13/cobra"
)

func newConfirmCmd(e *env) *cobra.Command {
	var netns, stateDir, watchdog string
	cmd := &cobra.Command{
		Use:   "confirm [--netns NAME]",
		Short: "Keep a ruleset installed with apply --confirm",
		Long: `Confirm keeps the ruleset installed by "fwc apply --confirm DURATION";
without it the previous ruleset and routes are restored when the time runs
out.

Exit status: 0 confirmed, 1 when no apply waits for confirmation (none was
made, it was confirmed already, or it was rolled back), 2 for usage or I/O
problems.`,
		Example: `  fwc apply --confirm 30s host.fw
  fwc confirm`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if watchdog != "" {
				rolled, err := apply.Watch(stateDir, netns, watchdog)
				if err != nil {
					return &exitError{code: exitUnknown, err: fmt.Errorf("watchdog: rollback failed: %v", err)}
				}
				if rolled {
					fmt.Fprintln(e.stdout, "watchdog: not confirmed in time; the previous ruleset and routes are back")
				}
				return nil
			}
			p, err := apply.Confirm(stateDir, netns)
			switch {
			case errors.Is(err, apply.ErrNothingPending):
				return &exitError{code: exitFindings, err: fmt.Errorf("%v (confirmed already, rolled back, or never applied with --confirm)", err)}
			case err != nil:
				return &exitError{code: exitUsage, err: err}
			}
			fmt.Fprintf(e.stdout, "Confirmed: the ruleset applied with --confirm stays (deadline was %s).\n", p.Deadline.Format("15:04:05"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&netns, "netns", "", "the network `namespace` NAME (or path) given to apply")
	f.StringVar(&stateDir, "state-dir", apply.DefaultStateDir, "the `directory` given to apply")
	f.StringVar(&watchdog, "watchdog", "", "run as the watchdog of the apply with this `token` (internal)")
	_ = f.MarkHidden("watchdog")
	return cmd
}
