package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/apply"
)

func newPlanCmd(e *env) *cobra.Command {
	var netns, stateDir, old, backend string
	var semantic bool
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

Plan also compares the policy's marks with the host's policy routing as it
will be once applied (its own ip rules and routes, fwc's replaced by the
policy's) and warns, on standard error, about a mark the policy sets that
no ip rule fwmark selects, an ip rule fwmark for a mark nothing in the
policy sets, a table the policy's marks are steered to that has no default
route, and strict rp_filter on an interface such a table sends packets out
of. These warnings do not change the exit status.

With --backend iptables (or iptables-legacy, iptables-nft) plan compares
fwc's chains, jumps and sets in iptables and ipset, as iptables-save and
ipset save list them, with the policy's, loaded into a scratch namespace
to be listed the same way (see "fwc apply --help").

With either backend, plan (and apply) warn when docker's or kube-proxy's
chains are in the namespace and the policy drops the traffic they forward
(FW4001: "fwc explain FW4001").

With --semantic --old OLD, plan also prints what fwc diff OLD PATH prints:
the classes of packets the policy would treat differently from OLD (the
policy applied now), each with a witness packet and the rules
responsible, so that a reviewer sees "tcp dport 22 from 198.51.100.0/24:
accept -> drop" beside the rule lines. OLD must be given: the state
directory keeps the nft script apply loaded, not the policy it came from.

Exit status: 0 when nothing would change, 1 when changes are pending (or,
with --semantic, the policies differ), 2 on error (policy errors
included), so that configuration management can use it as a check.`,
		Example: `  fwc plan host.fw
  fwc plan --netns test host.fw
  fwc plan --semantic --old /etc/fwc/policy.fw host.fw`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("plan needs one PATH")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, paths []string) error {
			if semantic != (old != "") {
				return usagef("--semantic and --old go together: --old names the policy applied now (the state directory keeps only the nft script it became)")
			}
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
			fs, err := apply.CrossLayer(h, w.Ruleset, w)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			for _, f := range fs {
				fmt.Fprintf(e.stderr, "fwc: warning: %s\n", f)
			}
			differ := false
			if semantic {
				if differ, err = semanticPlan(e, old, paths[0]); err != nil {
					return err
				}
			}
			if !plan.Empty() || differ {
				return &exitError{code: exitFindings}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&netns, "netns", "", "work in the network `namespace` NAME (or at a path)")
	cmd.Flags().StringVar(&stateDir, "state-dir", apply.DefaultStateDir, "`directory` of the plan cache apply keeps")
	cmd.Flags().BoolVar(&semantic, "semantic", false, "also show which packets the policy treats differently from --old (see fwc diff)")
	cmd.Flags().StringVar(&old, "old", "", "the `policy` applied now, for --semantic")
	addIncludeRootFlag(cmd, e)
	addBackendFlag(cmd, &backend)
	return cmd
}
