package redundant_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/redundant"
)

func TestTestdata(t *testing.T) { analysistest.Run(t, "testdata", redundant.Analyzer) }
