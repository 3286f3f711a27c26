// Package passes lists fwc's lint passes. Each pass lives in its own
// package under check/passes; All is what `fwc check` runs.
package passes

import (
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/graph"
)

// All is every lint pass, in no particular order (analysis.Run orders them
// by their requirements).
var All = []*analysis.Analyzer{
	graph.Analyzer,
}
