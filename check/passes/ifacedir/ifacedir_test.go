package ifacedir_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/ifacedir"
)

// TestRelated: a finding in a user chain names the jumps that bring the
// packets there, besides the wants in testdata/ifacedir.fw.
func TestRelated(t *testing.T) {
	ds := analysistest.Run(t, "testdata/ifacedir.fw", ifacedir.Analyzer)
	found := false
	for _, d := range ds {
		if d.Summary == "oif in chain deeper: packets there have no output interface" {
			found = true
			if len(d.Related) != 2 {
				t.Errorf("deeper: want the two jumps from input as related positions, got %v", d.Related)
			}
		}
	}
	if !found {
		t.Error("no finding in chain deeper")
	}
}
