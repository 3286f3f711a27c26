package routing_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/routing"
)

func TestTestdata(t *testing.T) { analysistest.Run(t, "testdata", routing.Analyzer) }
