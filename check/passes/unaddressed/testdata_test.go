package unaddressed_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/unaddressed"
)

func TestTestdata(t *testing.T) { analysistest.Run(t, "testdata", unaddressed.Analyzer) }
