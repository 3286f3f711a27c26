package passes_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes"
	"github.com/fwcproject/fwc/check/passes/correlated"
	"github.com/fwcproject/fwc/check/passes/redundant"
	"github.com/fwcproject/fwc/check/passes/shadow"
	"github.com/fwcproject/fwc/diag"
)

// The scenario policies under examples/ are written to be clean: every
// pass together must report nothing on them that is not suppressed (and
// every suppression must be used). A report here is a false alarm or an
// example that needs fixing.
func TestExamplesClean(t *testing.T) {
	analysistest.Run(t, "../../examples", passes.All...)
}

// Every pass documents its codes (what `fwc explain` prints) and keeps them
// in one hundred of the lint range.
func TestCodesDocumented(t *testing.T) {
	for _, a := range passes.All {
		if a.Name == "" || a.Doc == "" || a.Title == "" {
			t.Errorf("analyzer %q lacks a name, title or doc", a.Name)
		}
		hundred := ""
		for _, c := range a.Codes {
			d, ok := diag.Lookup(c.Code)
			if !ok || d.Title == "" || len(d.Doc) < 80 {
				t.Errorf("%s (%s): not registered, or title/doc missing", c.Code, a.Name)
			}
			if len(c.Code) != 6 || c.Code[:3] != "FW1" {
				t.Errorf("%s (%s): not a lint code FW1xxx", c.Code, a.Name)
				continue
			}
			if hundred == "" {
				hundred = c.Code[:4]
			} else if c.Code[:4] != hundred {
				t.Errorf("%s (%s): outside the pass's hundred %sxx", c.Code, a.Name, hundred)
			}
		}
	}
}

// Published examples of shadowed, redundant and correlated rules (see the
// attribution in each file), checked by the three packet-space passes.
func TestGroundTruth(t *testing.T) {
	analysistest.Run(t, "testdata/groundtruth", shadow.Analyzer, shadow.Contradictions, redundant.Analyzer, correlated.Analyzer)
}
