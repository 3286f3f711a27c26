package correlated

import (
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/dead"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/diag"
)

// CodeCorrelated is the code of this pass.
const CodeCorrelated = "FW1001"

// Analyzer is the correlated pass.
var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name:     "correlated",
	Requires: []*analysis.Analyzer{space.Analyzer},
	Codes: []diag.Doc{
		{Code: CodeCorrelated, Severity: diag.Warning},
	},
	Run: run,
})

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	res := pass.ResultOf[space.Analyzer].(*space.Result)
	for _, g := range dead.Group(res) {
		if dead.AllDead(g) {
			continue
		}
		for _, f := range g {
			c := f.Correlated
			if c == nil || f.Dead() || f.Incomplete {
				continue
			}
			d := pass.Reportf(CodeCorrelated, analysis.RuleRange(f.Rule),
				"rule overlaps an earlier %s rule; their order decides some packets", c.WithVerdict)
			d.Detail = "For example " + c.Example + " matches both and gets the earlier rule's verdict " +
				c.WithVerdict + ", not this rule's " + f.Verdict + "."
			d.Related = []diag.Related{{Message: "overlapping rule (" + c.WithVerdict + ")", Range: analysis.RuleRange(c.With)}}
			break
		}
	}
	return nil, nil
}
