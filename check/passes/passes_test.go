package passes_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
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

// TestDocsOneSource: each pass's doc.go (its package doc, what go doc
// shows) is the one text of its documentation. Every "# Analyzer NAME"
// section is the Doc of a pass of All, and every "# FWnnnn: title" section
// is the title and text `fwc explain FWnnnn` prints (diag.Lookup is what
// explain reads); every pass and every code of All has its section. The doc
// files are read from disk here, not through the embedded copies.
func TestDocsOneSource(t *testing.T) {
	files, err := filepath.Glob("*/doc.go")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("internal/*/doc.go")
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("found %d doc.go files under check/passes: the glob is broken", len(files))
	}
	analyzers := map[string]bool{}
	codes := map[string]bool{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		secs, err := analysis.DocSections(string(src))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for key, text := range secs {
			if name, ok := strings.CutPrefix(key, "Analyzer "); ok {
				a := byName(name)
				if a == nil {
					t.Errorf("%s: section %q names no pass of passes.All", f, key)
					continue
				}
				if want := a.Name + ": " + a.Title + "\n\n" + a.Doc; text != want {
					t.Errorf("%s: the Doc of pass %s is not its section:\n%s\nwant:\n%s", f, name, want, text)
				}
				analyzers[name] = true
				continue
			}
			d, ok := diag.Lookup(key)
			if !ok {
				t.Errorf("%s: section %s documents a code no pass registers", f, key)
				continue
			}
			if got := d.Title + "\n\n" + d.Doc; got != text {
				t.Errorf("%s: fwc explain %s prints\n%s\nbut its section is\n%s", f, key, got, text)
			}
			codes[key] = true
		}
	}
	for _, a := range passes.All {
		if !analyzers[a.Name] {
			t.Errorf("pass %s has no \"# Analyzer %s\" section in a doc.go", a.Name, a.Name)
		}
		for _, c := range a.Codes {
			if !codes[c.Code] {
				t.Errorf("%s (%s) has no \"# %s: title\" section in a doc.go", c.Code, a.Name, c.Code)
			}
		}
	}
}

func byName(name string) *analysis.Analyzer {
	for _, a := range passes.All {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Published examples of shadowed, redundant and correlated rules (see the
// attribution in each file), checked by the three packet-space passes.
func TestGroundTruth(t *testing.T) {
	analysistest.Run(t, "testdata/groundtruth", shadow.Analyzer, shadow.Contradictions, redundant.Analyzer, correlated.Analyzer)
}
