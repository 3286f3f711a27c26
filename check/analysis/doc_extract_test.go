package analysis_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/diag"
)

const sampleDoc = `// Package sample is a pass.
//
// # Analyzer sample
//
// sample: a sample pass
//
// Reports samples.
//
// # What it models
//
// Nothing at all.
//
// # FW1801: a sample finding
//
// The sample is wrong. Write:
//
//	sample right
//
// and try again.
package sample
`

// WithDoc takes the analyzer's title and doc, and each code's title and
// doc, from their sections; other headings stay in their section, and a
// code block keeps explain's four-space indent.
func TestWithDoc(t *testing.T) {
	a := analysis.WithDoc(sampleDoc, &analysis.Analyzer{
		Name:  "sample",
		Codes: []diag.Doc{{Code: "FW1801", Severity: diag.Warning}},
	})
	if a.Title != "a sample pass" {
		t.Errorf("Title = %q", a.Title)
	}
	if want := "Reports samples.\n\n# What it models\n\nNothing at all."; a.Doc != want {
		t.Errorf("Doc = %q, want %q", a.Doc, want)
	}
	c := a.Codes[0]
	if c.Title != "a sample finding" || c.Severity != diag.Warning {
		t.Errorf("code = %+v", c)
	}
	if want := "The sample is wrong. Write:\n\n    sample right\n\nand try again."; c.Doc != want {
		t.Errorf("code Doc = %q, want %q", c.Doc, want)
	}
}

// A code without its section, or a title written in Go as well, is a
// programming error found at start-up.
func TestWithDocPanics(t *testing.T) {
	for name, a := range map[string]*analysis.Analyzer{
		"missing code":   {Name: "sample", Codes: []diag.Doc{{Code: "FW1802"}}},
		"missing pass":   {Name: "other"},
		"title in Go":    {Name: "sample", Title: "again"},
		"code doc in Go": {Name: "sample", Codes: []diag.Doc{{Code: "FW1801", Doc: "again"}}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: WithDoc did not panic", name)
				}
			}()
			analysis.WithDoc(sampleDoc, a)
		}()
	}
}
