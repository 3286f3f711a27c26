package passes_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes"
)

// A rule that is never reached gets FW1601 and nothing else from any pass
// but errors (issue 11, item 12): a never-run log is not "a log that says
// blocked", a never-run "drop log" has no log to misplace.
func TestDeadRulesOnlyFW1601(t *testing.T) {
	analysistest.Run(t, "testdata/dead", passes.All...)
}

// Name and type errors do not hide the lints of what did check, and a rule
// that failed to check causes no finding by its absence (issue 11, item 15).
func TestLintDespiteErrors(t *testing.T) {
	analysistest.Run(t, "testdata/failed", passes.All...)
}
