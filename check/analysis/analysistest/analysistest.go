// Package analysistest runs lint passes over test policies and compares
// their diagnostics with expectations written in the policies themselves,
// in the style of golang.org/x/tools/go/analysis/analysistest.
//
// A comment `# want "regexp"` on a line expects a diagnostic on that line
// whose summary matches the regexp; a want may name the code too,
// `# want FW1401 "regexp"`, and a line may carry several:
// `# want FW1501 "unreachable" FW1502 "loop"`. Regexps are Go string
// literals (double-quoted or back-quoted). Every diagnostic must be wanted
// and every want must be met: an unexpected diagnostic fails the test, and so
// does an unmatched want. That rule makes pass tests honest in both
// directions, so testdata should hold the cases that must NOT be flagged next
// to those that must.
//
// analysistest is for tests only; package check must not import it.
package analysistest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
)

// Want is one expectation.
type Want struct {
	File string
	Line int
	Code string // "" for any
	Re   *regexp.Regexp
	met  bool
}

func (w *Want) String() string {
	if w.Code != "" {
		return fmt.Sprintf("%s:%d: %s %q", w.File, w.Line, w.Code, w.Re)
	}
	return fmt.Sprintf("%s:%d: %q", w.File, w.Line, w.Re)
}

// Wants parses the `# want` comments of files. Malformed wants are
// returned as errors.
func Wants(files []*ast.File) ([]*Want, []error) {
	var out []*Want
	var errs []error
	for _, f := range files {
		if f == nil {
			continue
		}
		for _, c := range f.Comments {
			i := strings.Index(c.Text, "# want ")
			if i < 0 {
				continue
			}
			ws, err := parseWants(c.Text[i+len("# want "):])
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: bad want comment: %v", c.Filename, c.Start.Line, err))
			}
			for _, w := range ws {
				w.File, w.Line = c.Filename, c.Start.Line
				out = append(out, w)
			}
		}
	}
	return out, errs
}

func parseWants(s string) ([]*Want, error) {
	var out []*Want
	code := ""
	for {
		s = strings.TrimSpace(s)
		if s == "" {
			break
		}
		if s[0] != '"' && s[0] != '`' {
			word, rest, _ := strings.Cut(s, " ")
			if code != "" || !strings.HasPrefix(strings.ToUpper(word), "FW") {
				return out, fmt.Errorf("want a code or a quoted regexp at %q", s)
			}
			code, s = strings.ToUpper(word), rest
			continue
		}
		lit, err := strconv.QuotedPrefix(s)
		if err != nil {
			return out, err
		}
		text, _ := strconv.Unquote(lit)
		re, err := regexp.Compile(text)
		if err != nil {
			return out, err
		}
		out = append(out, &Want{Code: code, Re: re})
		code = ""
		s = s[len(lit):]
	}
	if code != "" {
		return out, fmt.Errorf("code %s without a regexp", code)
	}
	if len(out) == 0 {
		return out, fmt.Errorf("no regexp")
	}
	return out, nil
}

// Compare checks ds against the wants of files and reports every
// unexpected diagnostic and every unmet want as a test error.
func Compare(t testing.TB, files []*ast.File, ds diag.Diagnostics) {
	t.Helper()
	wants, errs := Wants(files)
	for _, err := range errs {
		t.Error(err)
	}
	for _, d := range ds {
		ok := false
		for _, w := range wants {
			if w.met || w.File != d.Subject.Filename || w.Line != d.Subject.Start.Line {
				continue
			}
			if (w.Code == "" || w.Code == d.Code) && w.Re.MatchString(d.Summary) {
				w.met, ok = true, true
				break
			}
		}
		if !ok {
			t.Errorf("%s: unexpected diagnostic: %s: %s [%s]", d.Subject, d.Severity, d.Summary, d.Code)
		}
	}
	for _, w := range wants {
		if !w.met {
			t.Errorf("%s: no diagnostic matched the want", w)
		}
	}
}

// RunProgram runs analyzers over an already checked program with
// analysis.Run and compares the diagnostics with the wants in prog.Files.
// It returns the diagnostics for further checks.
func RunProgram(t testing.TB, prog *policy.Program, opts analysis.Options, analyzers ...*analysis.Analyzer) diag.Diagnostics {
	t.Helper()
	ds := analysis.Run(prog, analyzers, opts)
	Compare(t, prog.Files, ds)
	return ds
}

// Run loads every *.fw file under dir (following includes; a file another
// one includes is not a root of its own), checks each policy with
// check.Check running only analyzers, as fwc check runs all of them (lints
// too when the front end reported errors: a rule that failed to check is
// left out), and compares all diagnostics, the front end's included, with
// the files' wants. It returns the diagnostics of all policies.
func Run(t testing.TB, dir string, analyzers ...*analysis.Analyzer) diag.Diagnostics {
	t.Helper()
	return RunOptions(t, dir, analysis.Options{}, analyzers...)
}

// RunOptions is Run with options (backends, severities) for analysis.Run;
// Options.Backends is handed to check.Check too.
func RunOptions(t testing.TB, dir string, opts analysis.Options, analyzers ...*analysis.Analyzer) diag.Diagnostics {
	t.Helper()
	loaded, ds := lang.Load([]string{dir})
	if len(loaded.Units) == 0 {
		t.Fatalf("no policy under %s", dir)
	}
	var files []*ast.File
	for _, u := range loaded.Units {
		_, cds := check.Check(u.Files, check.Options{Backends: opts.Backends, Severity: opts.Severity,
			Disable: opts.Disable, Passes: analyzers})
		ds = append(ds, cds...)
		files = append(files, u.Files...)
	}
	ds = ds.Sort()
	Compare(t, dedup(files), ds)
	return ds
}

// dedup drops second copies of a file included by several roots.
func dedup(files []*ast.File) []*ast.File {
	seen := map[*ast.File]bool{}
	var out []*ast.File
	for _, f := range files {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
