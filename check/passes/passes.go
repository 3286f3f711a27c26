// Package passes lists fwc's lint passes. Each pass lives in its own
// package under check/passes; All is what `fwc check` runs.
package passes

import (
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/capability"
	"github.com/fwcproject/fwc/check/passes/chains"
	"github.com/fwcproject/fwc/check/passes/graph"
	"github.com/fwcproject/fwc/check/passes/hygiene"
	"github.com/fwcproject/fwc/check/passes/ifacedir"
	"github.com/fwcproject/fwc/check/passes/placement"
	"github.com/fwcproject/fwc/check/passes/routing"
	"github.com/fwcproject/fwc/check/passes/verdictflow"
)

// All is every lint pass, in no particular order (analysis.Run orders them
// by their requirements).
var All = []*analysis.Analyzer{
	graph.Analyzer,
	chains.Analyzer,
	ifacedir.Analyzer,
	verdictflow.Analyzer,
	placement.Analyzer,
	routing.Analyzer,
	hygiene.Analyzer,
	capability.Analyzer,
}
