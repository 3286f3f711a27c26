package verdictflow_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/verdictflow"
	"github.com/fwcproject/fwc/policy"
)

// TestResult: the pass hands later passes every dead rule, not only the
// one it reports, each mapped to the rule that ends the chain.
func TestResult(t *testing.T) {
	var res *verdictflow.Result
	var prog *policy.Program
	probe := &analysis.Analyzer{Name: "probe", Requires: []*analysis.Analyzer{verdictflow.Analyzer}, Run: func(p *analysis.Pass) (any, error) {
		res, prog = p.ResultOf[verdictflow.Analyzer].(*verdictflow.Result), p.Program
		return nil, nil
	}}
	analysistest.Run(t, "testdata/result", probe)
	if res == nil {
		t.Fatal("the probe did not run")
	}
	// Lines of testdata/result/result.fw.
	byLine := map[int]*policy.Rule{}
	for _, tb := range prog.Tables {
		for _, c := range tb.Chains {
			for _, r := range c.Rules {
				byLine[r.Src.Span().Start.Line] = r
			}
		}
	}
	stop, d1, d2 := byLine[5], byLine[6], byLine[7]
	if stop == nil || d1 == nil || d2 == nil {
		t.Fatalf("rules on lines 5-7 not found: %v", byLine)
	}
	if len(res.Dead) != 2 || res.Dead[d1] != stop || res.Dead[d2] != stop {
		t.Errorf("Dead = %v, want both rules after the drop", res.Dead)
	}
}
