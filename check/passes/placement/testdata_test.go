package placement_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/placement"
)

func TestTestdata(t *testing.T) { analysistest.Run(t, "testdata", placement.Analyzer) }
