package ifacedir_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/ifacedir"
)

func TestTestdata(t *testing.T) { analysistest.Run(t, "testdata", ifacedir.Analyzer) }
