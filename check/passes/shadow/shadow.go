package shadow

import (
	"fmt"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/dead"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/diag"
)

// Codes of this pass.
const (
	CodeShadowed = "FW1101"
	CodeExcluded = "FW1102"
)

// Analyzer is the shadow pass.
var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name:     "shadow",
	Requires: []*analysis.Analyzer{space.Analyzer},
	Codes: []diag.Doc{
		{Code: CodeShadowed, Severity: diag.Warning},
		{Code: CodeExcluded, Severity: diag.Warning},
	},
	Run: run,
})

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	res := pass.ResultOf[space.Analyzer].(*space.Result)
	for _, g := range dead.Group(res) {
		f := g[0]
		if !dead.AllDead(g) || dead.Redundant(g) || dead.AfterUnconditional(g) {
			continue // live, the redundant pass's, or verdictflow's FW1601
		}
		covers := dead.Covers(g)
		at := analysis.RuleRange(f.Rule)
		if excluded(g) {
			d := pass.Reportf(CodeExcluded, at, "rule can never match: the jumps into its chain exclude its packets")
			d.Detail = "No packet that enters the chain matches this rule, so it never fires."
			d.Related = dead.Related(covers, "chain entered by this rule")
			continue
		}
		d := pass.Reportf(CodeShadowed, at, "rule is shadowed: earlier rules decide all its packets")
		d.Detail = fmt.Sprintf("Every packet this rule matches is decided earlier (%s), so its %s never happens.",
			dead.VerdictList(covers), what(f))
		d.Related = dead.Related(covers, "covered by this rule")
	}
	return nil, nil
}

func what(f *space.Facts) string {
	if f.Verdict == "" {
		return "action"
	}
	return f.Verdict
}

// excluded reports whether the rule is dead only because of the jumps
// into its chain.
func excluded(g []*space.Facts) bool {
	for _, f := range g {
		if f.ByEntry != f.DeadIn {
			return false
		}
	}
	return true
}
