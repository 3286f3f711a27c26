package chains_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/chains"
)

func TestTestdata(t *testing.T) { analysistest.Run(t, "testdata", chains.Analyzer) }
