package shadow_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/redundant"
	"github.com/fwcproject/fwc/check/passes/shadow"
	"github.com/fwcproject/fwc/check/space/spacetest"
)

// The testdata also wants the redundant pass's findings, so that a rule the
// shadow pass rightly leaves alone is seen to land there.
func TestShadow(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.pol")
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := spacetest.Parse(name, string(src))
			if err != nil {
				t.Fatal(err)
			}
			ds := analysistest.RunProgram(t, prog, analysis.Options{}, shadow.Analyzer, redundant.Analyzer)
			for _, d := range ds {
				t.Logf("%s: %s: %s (%s) %v", d.Subject, d.Code, d.Summary, d.Detail, d.Related)
			}
		})
	}
}
