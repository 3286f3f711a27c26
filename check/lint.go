package check

import (
	"slices"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes"
	"github.com/fwcproject/fwc/check/policy"
	"github.com/fwcproject/fwc/diag"
)

// lint runs the lint passes over a program without front-end errors.
// Severity overrides apply to lint codes only: a name or type error always
// stops a policy from being lowered.
func lint(p *policy.Program, opts Options) diag.Diagnostics {
	as := passes.All
	if opts.ErrorsOnly {
		as = slices.DeleteFunc(slices.Clone(as), func(a *analysis.Analyzer) bool {
			return !slices.ContainsFunc(a.Codes, func(d diag.Doc) bool { return d.Severity == diag.Error })
		})
	}
	return analysis.Run(p, as, analysis.Options{Backends: opts.Backends, Severity: opts.Severity, Disable: opts.Disable})
}
