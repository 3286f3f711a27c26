package chains

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/graph"
	"github.com/fwcproject/fwc/diag"
)

const (
	CodeUnreachable = "FW1501"
	CodeLoop        = "FW1502"
	CodeSelfJump    = "FW1503"
)

var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name:     "chains",
	Requires: []*analysis.Analyzer{graph.Analyzer},
	Codes: []diag.Doc{
		{Code: CodeUnreachable, Severity: diag.Warning},
		{Code: CodeLoop, Severity: diag.Error},
		{Code: CodeSelfJump, Severity: diag.Error},
	},
	Run: run,
})

func init() { analysis.Register(Analyzer) }

// Result mutes findings inside the rules of unreachable chains.
type Result struct {
	unreached []diag.Range
}

// Mutes reports whether d is a warning or info (other than FW1501) inside a
// rule of an unreachable chain.
func (r *Result) Mutes(d *diag.Diagnostic) bool {
	if d.Severity == diag.Error || d.Code == CodeUnreachable || d.Subject.IsZero() {
		return false
	}
	return slices.ContainsFunc(r.unreached, func(u diag.Range) bool {
		return d.Subject.Filename == u.Filename && d.Subject.Start.Byte >= u.Start.Byte && d.Subject.End.Byte <= u.End.Byte
	})
}

func run(pass *analysis.Pass) (any, error) {
	g := pass.ResultOf[graph.Analyzer].(*graph.Graph)
	p := pass.Program
	res := &Result{}
	if p == nil {
		return res, nil
	}
	for _, t := range p.Tables {
		if t.Incomplete() {
			continue // the rule that failed to check may jump to any chain here
		}
		for _, c := range t.Chains {
			if c.IsBase() || g.Reachable(c) {
				continue
			}
			for _, r := range c.Rules {
				if rr := analysis.RuleRange(r); !rr.IsZero() {
					res.unreached = append(res.unreached, rr)
				}
			}
			d := pass.Reportf(CodeUnreachable, analysis.ChainRange(c), "chain %s is never reached", c.Name)
			var callers []string
			for _, e := range g.In[c] {
				if e.From != c {
					callers = append(callers, e.From.Name)
					d.Related = append(d.Related, diag.Related{
						Message: fmt.Sprintf("jumped to from unreachable chain %s", e.From.Name),
						Range:   analysis.RuleRange(e.Rule)})
				}
			}
			if len(callers) == 0 {
				d.Detail = fmt.Sprintf("No rule jumps to chain %s from a base chain of table %s, so its rules never run.", c.Name, t.Name)
			} else {
				slices.Sort(callers)
				d.Detail = fmt.Sprintf("Only %s jump to chain %s, and no base chain reaches them, so its rules never run.",
					strings.Join(slices.Compact(callers), ", "), c.Name)
			}
		}
	}
	for _, cyc := range g.Cycles {
		if len(cyc) == 1 && len(cyc[0].Rule.Conds) == 0 {
			e := cyc[0]
			verb := "jumps"
			if e.Jump.Goto {
				verb = "goes"
			}
			d := pass.Reportf(CodeSelfJump, analysis.At(e.Jump, e.Rule), "rule %s back into its own chain %s unconditionally", verb, e.From.Name)
			d.Detail = "Every packet reaching this rule would loop forever; the kernel refuses the ruleset."
			continue
		}
		// Report at the earliest jump in source order, so the finding is
		// stable whichever chain the cycle was found from.
		start := 0
		for i, e := range cyc {
			if less(analysis.RuleRange(e.Rule), analysis.RuleRange(cyc[start].Rule)) {
				start = i
			}
		}
		cyc = append(slices.Clone(cyc[start:]), cyc[:start]...)
		names := []string{cyc[0].From.Name}
		var rel []diag.Related
		for _, e := range cyc {
			names = append(names, e.To.Name)
			verb := "jump"
			if e.Jump.Goto {
				verb = "goto"
			}
			rel = append(rel, diag.Related{Message: fmt.Sprintf("%s from %s to %s", verb, e.From.Name, e.To.Name), Range: analysis.At(e.Jump, e.Rule)})
		}
		d := pass.Reportf(CodeLoop, analysis.At(cyc[0].Jump, cyc[0].Rule), "jump loop: %s", strings.Join(names, " -> "))
		d.Detail = "The kernel refuses a ruleset whose jumps form a loop, whatever the rules' conditions."
		d.Related = rel[1:]
	}
	return res, nil
}

func less(a, b diag.Range) bool {
	if a.Filename != b.Filename {
		return a.Filename < b.Filename
	}
	if a.Start.Line != b.Start.Line {
		return a.Start.Line < b.Start.Line
	}
	return a.Start.Column < b.Start.Column
}
