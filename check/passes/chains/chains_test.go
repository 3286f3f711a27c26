package chains_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/chains"
)

// TestLoopRelated: a loop names the jumps that form it as related
// positions, besides the want in testdata/chains.fw.
func TestLoopRelated(t *testing.T) {
	ds := analysistest.Run(t, "testdata/chains.fw", chains.Analyzer)
	found := false
	for _, d := range ds {
		if d.Code == chains.CodeLoop && d.Summary == "jump loop: a -> b -> a" {
			found = true
			if len(d.Related) == 0 {
				t.Errorf("loop without related positions")
			}
		}
	}
	if !found {
		t.Error("no loop a -> b -> a reported")
	}
}
