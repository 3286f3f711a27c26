package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/diag"
)

// ioCode is lang's code for a path that cannot be read; check exits 2 on
// it like on any other I/O problem.
const ioCode = "FW0010"

var (
	checkFormats  = []string{"text", "json", "sarif", "github"}
	checkBackends = []string{"nft", "iptables", "ip6tables"}
)

func newCheckCmd(e *env) *cobra.Command {
	var (
		format   string
		strict   bool
		backends []string
		severity []string
		from     string
		live     bool
		netns    string
	)
	cmd := &cobra.Command{
		Use:   "check [--format text|json|sarif|github] [--strict] [--backend NAME]... PATH... | --live [--netns NS]",
		Short: "Check policies for errors and likely mistakes",
		Long: `Check parses the policies in the given files and directories (every *.fw
file below a directory), resolves names, checks types and runs the lint
passes, and reports every problem found in one run.

Each file given or found is a policy of its own unless another file includes
it. A file that is not named *.fw and holds a ruleset fwc import reads
(iptables-save, ipset save, nft text or JSON; --from names the format) is
imported and the result checked: diagnostics point at the input's lines.
--live checks the kernel's current ruleset the same way (nft -j list
ruleset, in network namespace NS with --netns), read-only. --backend names the backends the policy will be translated for: the
constructs they cannot express are errors, which no suppression comment or
--severity hides (translate would refuse them anyway); repeat it or separate
names with commas. Without it, what any backend cannot express is a warning.

Text diagnostics go to standard error; --format json and --format sarif
write one document to standard output instead, and --format github writes
GitHub Actions workflow commands (annotations on the policy's lines) to
standard output.

--severity changes how lint findings (codes FW1000-FW1999) count:
--severity FW1201=error makes redundant rules fail the check, FW1001=off
hides correlated-rule warnings. Name and type errors cannot be lowered.

Exit status: 0 when there are no errors, 1 when there are (or there are
warnings and --strict is given), 2 for usage or I/O problems and when the
paths hold no policy at all (so that a wrong path cannot pass in CI).`,
		Example: `  fwc check examples/
  fwc check --strict --backend nft,iptables host.fw
  fwc check --format sarif policies/ > fwc.sarif
  fwc check --severity FW1201=error,FW1001=off gateway.fw`,
		Args: func(cmd *cobra.Command, args []string) error {
			if live, _ := cmd.Flags().GetBool("live"); live {
				if len(args) > 0 {
					return usagef("--live checks the kernel's ruleset: give no PATH")
				}
				return nil
			}
			if len(args) == 0 {
				return usagef("check needs at least one PATH")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, paths []string) error {
			if !slices.Contains(checkFormats, format) {
				return usagef("unknown --format %q (want %s)", format, strings.Join(checkFormats, ", "))
			}
			var bs []string
			for _, b := range backends {
				if !slices.Contains(checkBackends, b) {
					return usagef("unknown --backend %q (want %s)", b, strings.Join(checkBackends, ", "))
				}
				if !slices.Contains(bs, b) {
					bs = append(bs, b)
				}
			}
			for _, p := range paths {
				if _, err := os.Stat(p); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}

			opts, err := lintOptions(bs, severity)
			if err != nil {
				return err
			}
			force, err := parseFrom(from)
			if err != nil {
				return err
			}
			if netns != "" && !live {
				return usagef("--netns goes with --live")
			}
			// Rulesets to import are checked as what they import to.
			var policies, rulesets []string
			for _, p := range paths {
				if isImportPath(p, force) {
					rulesets = append(rulesets, p)
				} else {
					policies = append(policies, p)
				}
			}
			var ii *importInput
			switch {
			case live:
				ii, err = readLive(netns)
			case len(rulesets) > 0:
				ii, err = readImportInputs(rulesets, force)
			}
			if err != nil {
				return err
			}
			l, ds := &loaded{&compile.Loaded{Sources: map[string][]byte{}}}, diag.Diagnostics(nil)
			if len(policies) > 0 {
				l, ds = loadPolicies(e, policies)
			}
			for _, u := range l.Units {
				_, uds := compile.Check(u.Files, opts)
				ds = append(ds, uds...)
			}
			if ii != nil {
				ds = append(ds, checkImported(ii, opts)...).Sort()
				for n, s := range ii.sources {
					l.Sources[n] = s
				}
			}

			switch format {
			case "text":
				err = diag.RenderText(e.stderr, ds, l.source, diag.TextOptions{Color: wantColor(e.stderr)})
			case "json":
				err = diag.RenderJSON(e.stdout, ds)
			case "github":
				err = diag.RenderGitHub(e.stdout, ds)
			case "sarif":
				err = diag.RenderSARIF(e.stdout, ds, l.source, diag.SARIFOptions{Version: fwcVersion()})
			}
			switch {
			case err != nil:
				return &exitError{code: exitUsage, err: err}
			case slices.ContainsFunc(ds, func(d *diag.Diagnostic) bool { return d.Code == ioCode }):
				return &exitError{code: exitUsage}
			case len(l.Units) == 0 && ii == nil && !ds.HasErrors():
				// Nothing was checked; lang has said why, or we do.
				// Exit 2, not 0: a check that checked nothing must not
				// pass in CI (a wrong path would hide every policy).
				return &exitError{code: exitUsage, err: fmt.Errorf("nothing to check: no .fw files in %s", strings.Join(paths, " "))}
			case ds.HasErrors(), strict && ds.Count(diag.Warning) > 0:
				return findings
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output `format`: text, json, sarif or github")
	cmd.Flags().BoolVar(&strict, "strict", false, "fail on warnings too")
	cmd.Flags().StringSliceVar(&backends, "backend", nil, "check for these `backends`: nft, iptables, ip6tables")
	addIncludeRootFlag(cmd, e)
	cmd.Flags().StringVar(&from, "from", "", "read rulesets to import as `FORMAT`: iptables, ip6tables, ipset, nft or nft-json (default: by content)")
	cmd.Flags().BoolVar(&live, "live", false, "check the kernel's current ruleset (nft -j list ruleset), read-only")
	cmd.Flags().StringVar(&netns, "netns", "", "with --live: the ruleset of network namespace `NS`")
	cmd.Flags().StringSliceVar(&severity, "severity", nil, "set the severity of lint codes: `CODE=LEVEL`,... with LEVEL error, warning, info or off")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(checkFormats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("backend", cobra.FixedCompletions(checkBackends, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
