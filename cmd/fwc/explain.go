package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/diag"
)

func newExplainCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "explain [CODE]",
		Short: "Print the documentation of a diagnostic code",
		Long: `Explain prints what a diagnostic code means, why it matters and how to fix
it. Without a code it lists every code with its default severity and title.
The FW prefix may be left out and case does not matter.`,
		Example: `  fwc explain FW0001
  fwc explain 1001
  fwc explain`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			var out []cobra.Completion
			for _, d := range diag.Codes() {
				out = append(out, cobra.CompletionWithDesc(d.Code, d.Title))
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
				for _, d := range diag.Codes() {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Code, d.Severity, d.Title)
				}
				return tw.Flush()
			}
			code := strings.ToUpper(args[0])
			if code != "" && strings.Trim(code, "0123456789") == "" {
				code = "FW" + code
			}
			d, ok := diag.Lookup(code)
			if !ok {
				return usagef("unknown diagnostic code %q; run 'fwc explain' for the list", args[0])
			}
			fmt.Fprintf(e.stdout, "%s: %s (%s)\n", d.Code, d.Title, d.Severity)
			if d.Doc != "" {
				fmt.Fprintf(e.stdout, "\n%s\n", d.Doc)
			}
			return nil
		},
	}
}
