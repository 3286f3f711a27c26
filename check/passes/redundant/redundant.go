package redundant

import (
	"fmt"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/dead"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// Codes of this pass.
const (
	CodeCovered = "FW1201"
	CodePolicy  = "FW1202"
)

// Analyzer is the redundant pass.
var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name:     "redundant",
	Requires: []*analysis.Analyzer{space.Analyzer},
	Codes: []diag.Doc{
		{Code: CodeCovered, Severity: diag.Warning},
		{Code: CodePolicy, Severity: diag.Warning},
	},
	Run: run,
})

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	res := pass.ResultOf[space.Analyzer].(*space.Result)
	for _, g := range dead.Group(res) {
		f := g[0]
		at := analysis.RuleRange(f.Rule)
		if dead.AllDead(g) {
			if !dead.Redundant(g) || dead.AfterUnconditional(g) {
				continue // shadow's, or verdictflow's FW1601
			}
			if dead.AllSame(g) {
				covers := dead.Covers(g)
				d := pass.Reportf(CodeCovered, at, "rule is redundant: earlier rules with the same verdict decide all its packets")
				d.Detail = fmt.Sprintf("Every packet this rule matches is already decided (%s); deleting it changes nothing.",
					dead.VerdictList(covers))
				d.Related = dead.Related(covers, "covered by this rule")
				continue
			}
			// Rules with another verdict take some packets first, but the
			// rules with this verdict cover it by themselves: the rule
			// repeats them. Moving it up would override the others.
			covers := dead.SameCovers(g)
			d := pass.Reportf(CodeCovered, at, "rule is redundant: earlier rules with the same verdict cover all its packets")
			d.Detail = fmt.Sprintf("Earlier rules with this rule's verdict (%s) match every packet it matches, so deleting it changes nothing. "+
				"Rules with another verdict (%s) take some of these packets first, and still would without this rule; "+
				"moving this rule above them would override them.",
				dead.VerdictList(covers), dead.VerdictList(others(g, f.Verdict)))
			d.Related = dead.Related(covers, "covered by this rule")
			continue
		}
		if allPolicy(g) && f.Rule.Origin == policy.FromChain && !f.Chain.Table.Incomplete() {
			d := pass.Reportf(CodePolicy, at, "rule is redundant: its verdict %s is what the chain does anyway", f.Verdict)
			d.Detail = "No later rule treats this rule's packets differently, so without it they reach the same verdict at the end of the chain."
		}
	}
	return nil, nil
}

func allPolicy(g []*space.Facts) bool {
	for _, f := range g {
		if f.Dead() || !f.PolicyRedundant() {
			return false
		}
	}
	return true
}

// others lists the rules with another verdict than v that decide packets
// of the group first, each once.
func others(g []*space.Facts, v string) []space.Cover {
	var out []space.Cover
	seen := map[*policy.Rule]bool{}
	for _, f := range g {
		for _, c := range f.Covers {
			if c.Verdict != v && !seen[c.Rule] {
				seen[c.Rule] = true
				out = append(out, c)
			}
		}
	}
	return out
}
