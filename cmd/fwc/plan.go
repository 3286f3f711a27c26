package main

import (
	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/apply"
)

func newPlanCmd(e *env) *cobra.Command {
	var netns, stateDir, backend string
	cmd := &cobra.Command{
		Use:   "plan [--netns NAME] [--backend nft|iptables] PATH",
		Short: "Show what apply would change in the running ruleset",
		Long: `Plan compares a policy with what the kernel holds (fwc's nftables table
"inet fwc", and the ip rules and routes fwc installed) and prints the
difference, one change a line: + added, - removed, ~ changed; = marks
elements added at run time to dynamic sets, which apply keeps. It changes
nothing.

Apply keeps a record of what it loaded in --state-dir. While the ruleset
generation has not moved since, plan compares the policy with the script
apply loaded and does not read the table, which for tens of thousands of
rules takes the kernel seconds. Once it has moved, the record is checked
against the kernel, not believed: for the same policy, a small table's
fingerprint must equal that of the policy loaded into a scratch namespace.
Otherwise plan compares nft's listings of the live table and of the
policy. Everything in the table is compared: its flags (a dormant table),
chains, rules, sets and their elements, stateful objects and flowtables.

With --backend iptables (or iptables-legacy, iptables-nft) plan compares
fwc's chains, jumps and sets in iptables and ipset, as iptables-save and
ipset save list them, with the policy's, loaded into a scratch namespace
to be listed the same way (see "fwc apply --help").

With either backend, plan (and apply) warn when docker's or kube-proxy's
chains are in the namespace and the policy drops the traffic they forward
(FW4001: "fwc explain FW4001").

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
			c, w, h, plan, err := planFor(e, paths, netns, stateDir, backend, false)
			if err != nil {
				if ee, ok := err.(*exitError); ok {
					ee.code = exitUsage
				}
				return err
			}
			defer h.Close()
			coexist(e, h, w, c)
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
	cmd.Flags().StringVar(&stateDir, "state-dir", apply.DefaultStateDir, "`directory` of the plan cache apply keeps")
	addIncludeRootFlag(cmd, e)
	addBackendFlag(cmd, &backend)
	return cmd
}
