package assert_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/assert"
)

func TestTestdata(t *testing.T) { analysistest.Run(t, "testdata", assert.Analyzer) }
