package check

import (
	"slices"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// lint runs the lint passes over a program, errors or not. A rule that
// failed to check is not in it (its chain is marked incomplete); failed are
// the source ranges of the declarations and rules that failed, and a
// finding inside one or citing one (a related range in it) is dropped: it
// would judge half-checked data. Severity overrides apply to lint codes
// only: a name or type error always stops a policy from being lowered.
func lint(p *policy.Program, opts Options, failed []diag.Range) diag.Diagnostics {
	as := passes.All
	if opts.Passes != nil {
		as = opts.Passes
	}
	if opts.ErrorsOnly {
		as = slices.DeleteFunc(slices.Clone(as), func(a *analysis.Analyzer) bool {
			return !slices.ContainsFunc(a.Codes, func(d diag.Doc) bool { return d.Severity == diag.Error })
		})
	}
	ds := analysis.Run(p, as, analysis.Options{Backends: opts.Backends, Severity: opts.Severity, Disable: opts.Disable})
	if len(failed) == 0 {
		return ds
	}
	in := func(r diag.Range) bool {
		return slices.ContainsFunc(failed, func(f diag.Range) bool {
			return !r.IsZero() && r.Filename == f.Filename && r.Start.Byte >= f.Start.Byte && r.End.Byte <= f.End.Byte
		})
	}
	return slices.DeleteFunc(ds, func(d *diag.Diagnostic) bool {
		return in(d.Subject) || slices.ContainsFunc(d.Related, func(r diag.Related) bool { return in(r.Range) })
	})
}
