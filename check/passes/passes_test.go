package passes_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes"
)

// The scenario policies under examples/ are written to be clean: every
// pass together must report nothing on them that is not suppressed (and
// every suppression must be used). A report here is a false alarm or an
// example that needs fixing.
func TestExamplesClean(t *testing.T) {
	analysistest.Run(t, "../../examples", passes.All...)
}
