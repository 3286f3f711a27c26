package hygiene_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/hygiene"
)

func TestTestdata(t *testing.T) {
	for _, dir := range []string{"bare", "healthy", "zones", "partial", "accept", "family"} {
		t.Run(dir, func(t *testing.T) { analysistest.Run(t, "testdata/"+dir, hygiene.Analyzer) })
	}
}
