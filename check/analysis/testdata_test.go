package analysis_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes"
)

func TestSuppressionEndToEnd(t *testing.T) {
	analysistest.Run(t, "testdata", passes.All...)
}
