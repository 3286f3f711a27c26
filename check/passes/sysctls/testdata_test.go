package sysctls_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/sysctls"
)

func TestTestdata(t *testing.T) { analysistest.Run(t, "testdata", sysctls.Analyzer) }
