package verdictflow_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/verdictflow"
)

func TestTestdata(t *testing.T) { analysistest.Run(t, "testdata", verdictflow.Analyzer) }
