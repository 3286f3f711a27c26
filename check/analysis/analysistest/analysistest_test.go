package analysistest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/diag"
)

// recorder is a testing.TB that records errors instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()           {}
func (r *recorder) Error(args ...any) { r.errs = append(r.errs, fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func file(comments map[int]string) *ast.File {
	f := &ast.File{Range: diag.Range{Filename: "t.fw"}}
	for l := 1; l <= 20; l++ {
		if text, ok := comments[l]; ok {
			f.Comments = append(f.Comments, &ast.Comment{Range: diag.Range{Filename: "t.fw", Start: diag.Pos{Line: l, Column: 20}}, Text: text})
		}
	}
	return f
}

func d(line int, code, summary string) *diag.Diagnostic {
	return &diag.Diagnostic{Code: code, Summary: summary, Subject: diag.Range{Filename: "t.fw", Start: diag.Pos{Line: line, Column: 1}}}
}

func TestCompare(t *testing.T) {
	f := file(map[int]string{
		1: `# want "shadowed by"`,
		2: `# want FW1401 "oif" FW1501 ` + "`unused`",
		3: `# want "two" "two"`,
		4: `# want "never met"`,
		5: `# want FW1401`,
		6: `# a plain comment`,
		7: `# want "[unclosed"`,
	})
	r := &recorder{TB: t}
	analysistest.Compare(r, []*ast.File{f}, diag.Diagnostics{
		d(1, "FW1101", "rule is shadowed by an earlier rule"),
		d(2, "FW1501", "chain is unused"),
		d(2, "FW1401", "oif in input"),
		d(3, "FW1", "two"),
		d(3, "FW1", "two"),
		d(6, "FW1", "surprise"),
		d(2, "FW1402", "oif again"),
	})
	got := strings.Join(r.errs, "\n")
	for _, want := range []string{
		"t.fw:5: bad want comment: code FW1401 without a regexp",
		"t.fw:7: bad want comment: error parsing regexp",
		"t.fw:6:1: unexpected diagnostic: info: surprise [FW1]",
		"t.fw:2:1: unexpected diagnostic: info: oif again [FW1402]",
		`t.fw:4: "never met": no diagnostic matched the want`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing error %q", want)
		}
	}
	if len(r.errs) != 5 {
		t.Errorf("got %d errors, want 5:\n%s", len(r.errs), got)
	}
}
