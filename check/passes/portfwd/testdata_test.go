package portfwd_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/portfwd"
)

func TestTestdata(t *testing.T) { analysistest.Run(t, "testdata", portfwd.Analyzer) }
