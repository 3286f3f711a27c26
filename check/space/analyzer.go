package space

import "github.com/fwcproject/fwc/check/analysis"

// Analyzer computes the *Result of Analyze once for the shadow, redundant
// and correlated passes (Require it and read
// pass.ResultOf[space.Analyzer].(*space.Result)). It reports nothing.
var Analyzer = &analysis.Analyzer{
	Name:  "space",
	Title: "packet-space analysis of every chain",
	Doc:   "Walks every base chain in both families, following jumps, and records which rules can match and which earlier rules decide their packets.",
	Run:   func(p *analysis.Pass) (any, error) { return Analyze(p.Program), nil },
}
