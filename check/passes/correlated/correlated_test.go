package correlated_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/correlated"
)

func TestTestdata(t *testing.T) {
	ds := analysistest.Run(t, "testdata", correlated.Analyzer)
	for _, d := range ds {
		if d.Code == correlated.CodeCorrelated && d.Detail == "" {
			t.Errorf("%s: no example packet in the detail", d.Subject)
		}
	}
}
