package shadow_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/shadow"
)

func TestTestdata(t *testing.T) {
	analysistest.Run(t, "testdata", shadow.Analyzer, shadow.Contradictions)
}
