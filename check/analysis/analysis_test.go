package analysis_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

const file = "t.fw"

func line(n int) diag.Range {
	return diag.Range{Filename: file, Start: diag.Pos{Line: n, Column: 1}, End: diag.Pos{Line: n, Column: 5}}
}

func comment(n int, text string) *ast.Comment {
	return &ast.Comment{Range: diag.Range{Filename: file, Start: diag.Pos{Line: n, Column: 10}, End: diag.Pos{Line: n, Column: 10 + len(text)}}, Text: text}
}

func program(comments ...*ast.Comment) *policy.Program {
	return &policy.Program{Files: []*ast.File{{Range: diag.Range{Filename: file}, Comments: comments}}}
}

// reporter makes an analyzer that reports code on each of lines.
func reporter(name, code string, lines ...int) *analysis.Analyzer {
	return &analysis.Analyzer{
		Name:  name,
		Codes: []diag.Doc{{Code: code, Title: name, Severity: diag.Warning}},
		Run: func(p *analysis.Pass) (any, error) {
			for _, l := range lines {
				p.Reportf(code, line(l), "%s at %d", name, l)
			}
			return nil, nil
		},
	}
}

func summaries(ds diag.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%d %s %s %s\n", d.Subject.Start.Line, d.Code, d.Severity, d.Summary)
	}
	return b.String()
}

func TestRequiresRunOnceInOrder(t *testing.T) {
	var order []string
	shared := &analysis.Analyzer{Name: "shared", Run: func(p *analysis.Pass) (any, error) {
		order = append(order, "shared")
		return 42, nil
	}}
	mk := func(name string) *analysis.Analyzer {
		return &analysis.Analyzer{Name: name, Requires: []*analysis.Analyzer{shared}, Run: func(p *analysis.Pass) (any, error) {
			if got := p.ResultOf[shared]; got != 42 {
				t.Errorf("%s: ResultOf[shared] = %v", name, got)
			}
			order = append(order, name)
			return nil, nil
		}}
	}
	a, b := mk("a"), mk("b")
	analysis.Run(program(), []*analysis.Analyzer{a, b, shared}, analysis.Options{})
	if got := strings.Join(order, " "); got != "shared a b" {
		t.Errorf("order = %q, want \"shared a b\"", got)
	}
}

func TestBackendsPassed(t *testing.T) {
	var got []string
	a := &analysis.Analyzer{Name: "a", Run: func(p *analysis.Pass) (any, error) {
		got = p.Backends
		if !p.HasBackend("nft") || p.HasBackend("iptables") {
			t.Errorf("HasBackend wrong for %v", p.Backends)
		}
		return nil, nil
	}}
	analysis.Run(program(), []*analysis.Analyzer{a}, analysis.Options{Backends: []string{"nft"}})
	if len(got) != 1 || got[0] != "nft" {
		t.Errorf("Backends = %v", got)
	}
}

func TestFailingPass(t *testing.T) {
	panicky := &analysis.Analyzer{Name: "panicky", Run: func(*analysis.Pass) (any, error) {
		var rules []*policy.Rule
		_ = rules[len(rules)] // panics: index out of range
		return nil, nil
	}}
	failing := &analysis.Analyzer{Name: "failing", Run: func(*analysis.Pass) (any, error) { return nil, errors.New("boom") }}
	dependent := reporter("dependent", "FW1980", 1)
	dependent.Requires = []*analysis.Analyzer{panicky}
	other := reporter("other", "FW1981", 2)
	ds := analysis.Run(program(), []*analysis.Analyzer{dependent, failing, other}, analysis.Options{})
	got := summaries(ds)
	// Both failures land on the same (empty) position, and diag's Sort keeps
	// one error per line and code; the dependent pass did not run.
	want := "0 FW1999 error lint pass failing failed\n" +
		"2 FW1981 warning other at 2\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	ds = analysis.Run(program(), []*analysis.Analyzer{dependent}, analysis.Options{})
	if got, want := summaries(ds), "0 FW1999 error lint pass panicky failed\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(ds[0].Detail, "panic: runtime error: index out of range") {
		t.Errorf("detail does not show the panic: %s", ds[0].Detail)
	}
}

func TestSuppression(t *testing.T) {
	a := reporter("a", "FW1980", 2, 4, 7, 9, 12)
	b := reporter("b", "FW1981", 4, 9)
	p := program(
		comment(2, "# fwc:ignore FW1980 trailing, same line"),
		comment(3, "# fwc:ignore FW1980 line above"),
		comment(5, "# fwc:ignore FW1980 two lines above: does not reach line 7"),
		comment(9, "# fwc:ignore FW1980,FW1981"),
		comment(11, "# fwc:ignore FW1981 FW1980 nothing of b here"),
		comment(14, "# fwc:ignore FW1999 registered elsewhere, not run: left alone"),
		comment(15, "# fwc:ignore FW1234 no such code"),
		comment(16, "# fwc:ignore"),
		comment(17, "# fwc:ignored is not a suppression"),
		comment(18, "# just a comment"),
	)
	ds := analysis.Run(p, []*analysis.Analyzer{a, b}, analysis.Options{})
	got := summaries(ds)
	want := "" +
		"4 FW1981 warning b at 4\n" +
		"5 FW1992 warning unused suppression of FW1980\n" +
		"7 FW1980 warning a at 7\n" +
		"9 FW1991 warning suppression without a reason\n" +
		"11 FW1992 warning unused suppression of FW1981\n" +
		"15 FW1993 warning suppression of unknown code FW1234\n" +
		"16 FW1993 warning suppression names no code\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	ds = analysis.Run(p, []*analysis.Analyzer{a, b}, analysis.Options{NoSuppress: true})
	if n := len(ds); n != 7 {
		t.Errorf("NoSuppress: got %d diagnostics, want all 7:\n%s", n, summaries(ds))
	}
}

func TestParseSuppression(t *testing.T) {
	for _, tc := range []struct {
		text   string
		ok     bool
		codes  string
		reason string
	}{
		{"# fwc:ignore FW1203 reason here", true, "FW1203", "reason here"},
		{"#fwc:ignore fw1203,FW1401 r", true, "FW1203 FW1401", "r"},
		{"# fwc:ignore FW1203 FW1401", true, "FW1203 FW1401", ""},
		{"# fwc:ignore FW1203 why # want x", true, "FW1203", "why"},
		{"# fwc:ignore FW1203 # want x", true, "FW1203", ""},
		{"# fwc:ignore FW12 not a code", true, "", "FW12 not a code"},
		{"# fwc:ignoreFW1203 x", false, "", ""},
		{"# ignore FW1203 x", false, "", ""},
	} {
		s, ok := analysis.ParseSuppression(&ast.Comment{Text: tc.text})
		if ok != tc.ok {
			t.Errorf("%q: ok = %v", tc.text, ok)
			continue
		}
		if !ok {
			continue
		}
		if got := strings.Join(s.Codes, " "); got != tc.codes || s.Reason != tc.reason {
			t.Errorf("%q: codes %q reason %q, want %q %q", tc.text, got, s.Reason, tc.codes, tc.reason)
		}
	}
}

func TestSeverityAndDisable(t *testing.T) {
	a := reporter("a", "FW1980", 1)
	b := reporter("b", "FW1981", 2)
	c := reporter("c", "FW1982", 3)
	ds := analysis.Run(program(), []*analysis.Analyzer{a, b, c}, analysis.Options{
		Severity: map[string]diag.Severity{"FW1980": diag.Error, "FW1981": diag.Info},
		Disable:  map[string]bool{"FW1982": true},
	})
	want := "1 FW1980 error a at 1\n2 FW1981 info b at 2\n"
	if got := summaries(ds); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFrameworkCodesRegistered(t *testing.T) {
	for _, c := range []string{analysis.CodeNoReason, analysis.CodeUnused, analysis.CodeUnknownCode, analysis.CodeAnalyzerError} {
		if d, ok := diag.Lookup(c); !ok || d.Doc == "" || d.Title == "" {
			t.Errorf("%s not registered with title and doc", c)
		}
	}
}
