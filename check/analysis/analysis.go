package analysis

import (
	"fmt"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// Analyzer is one lint pass, or a provider of shared facts for other passes
// (an analyzer with no Codes whose result others Require).
type Analyzer struct {
	// Name is a short lower-case identifier: "ifacedir".
	Name string
	// Title is a one-line description.
	Title string
	// Doc is the documentation of the pass: what it models, what it
	// assumes. A pass of check/passes takes Title and Doc, and the Title
	// and Doc of its codes (what `fwc explain` prints), from its doc.go
	// with WithDoc.
	Doc string
	// Codes are the diagnostic codes the pass reports, with their default
	// severity. Register them once with Register from the pass's init.
	Codes []diag.Doc
	// Requires lists the analyzers whose results Run reads from
	// Pass.ResultOf. They run first, once per Run however many need them.
	Requires []*Analyzer
	// Run performs the pass. Its result is handed to the analyzers that
	// require this one. An error means the pass could not do its job (a bug,
	// not a finding): Run reports it as a diagnostic and skips the analyzers
	// that depend on it.
	Run func(*Pass) (any, error)
	// Binding marks a pass whose errors say that a later stage will refuse
	// the policy (translate, for a backend asked for): suppression comments
	// and severity overrides do not apply to them, since hiding one would
	// not make the refusal go away. Its warnings behave as any other.
	Binding bool
}

func (a *Analyzer) String() string { return a.Name }

// Code returns the documentation of code among a's Codes, or false.
func (a *Analyzer) Code(code string) (diag.Doc, bool) {
	for _, d := range a.Codes {
		if d.Code == code {
			return d, true
		}
	}
	return diag.Doc{}, false
}

// Register records the codes of each analyzer with diag.Register. Call it
// from the init function of the package that defines the analyzer.
func Register(as ...*Analyzer) {
	for _, a := range as {
		for _, d := range a.Codes {
			diag.Register(d)
		}
	}
}

// A Muter is a pass result that makes some findings of other passes moot:
// Run drops every diagnostic for which a result's Mutes returns true,
// before suppression comments are matched. The verdictflow pass mutes the
// warnings on rules that are never reached, which keep only its FW1601.
type Muter interface {
	Mutes(d *diag.Diagnostic) bool
}

// Pass is what an analyzer's Run is given.
type Pass struct {
	Analyzer *Analyzer
	Program  *policy.Program
	// Backends are the backends the user asked for ("nft", "iptables",
	// "ip6tables"); empty when none was named.
	Backends []string
	// ResultOf holds the results of the analyzers in Analyzer.Requires.
	ResultOf map[*Analyzer]any
	// Report records a diagnostic. Its Code must be one of Analyzer.Codes.
	Report func(d *diag.Diagnostic)
}

// Reportf reports a diagnostic with code, at subject, with the code's
// default severity and a formatted summary. The returned diagnostic may be
// amended (Detail, Related) until the pass returns.
func (p *Pass) Reportf(code string, subject diag.Range, format string, args ...any) *diag.Diagnostic {
	doc, _ := p.Analyzer.Code(code)
	d := &diag.Diagnostic{Severity: doc.Severity, Code: code, Subject: subject, Summary: fmt.Sprintf(format, args...)}
	p.Report(d)
	return d
}

// HasBackend reports whether the user asked for backend name.
func (p *Pass) HasBackend(name string) bool { return slices.Contains(p.Backends, name) }

// Options configure Run.
type Options struct {
	// Backends are copied into every Pass.
	Backends []string
	// Severity overrides the severity of the codes it names.
	Severity map[string]diag.Severity
	// Disable drops every diagnostic with a code it names.
	Disable map[string]bool
	// NoSuppress turns off `# fwc:ignore` comments (and their own
	// diagnostics), to see everything that was suppressed.
	NoSuppress bool
}

// Framework codes: problems with suppression comments, and passes that
// failed. Registered by this package.
const (
	CodeNoReason      = "FW1991"
	CodeUnused        = "FW1992"
	CodeUnknownCode   = "FW1993"
	CodeBinding       = "FW1994"
	CodeAnalyzerError = "FW1999"
)

// Codes are the diagnostic codes of the framework itself.
var Codes = []diag.Doc{
	{Code: CodeNoReason, Title: "suppression without a reason", Severity: diag.Warning, Doc: `
A "# fwc:ignore CODE reason" comment must say why the finding does not
apply, so that the next reader can judge whether it still holds. The
suppression still takes effect; add the reason after the code(s).`},
	{Code: CodeUnused, Title: "unused suppression", Severity: diag.Warning, Doc: `
A "# fwc:ignore CODE reason" comment suppresses diagnostics with CODE on its
own line, and, when it stands on a line of its own, on the line below it.
This one suppressed nothing: the problem it hid has been fixed or moved.
Remove the comment, or move it onto (or just above) the line that is
reported.`},
	{Code: CodeUnknownCode, Title: "suppression of an unknown code", Severity: diag.Warning, Doc: `
A "# fwc:ignore" comment names a code that no lint pass reports. Codes look
like FW1401; "fwc explain" lists them. Suppression comments only apply to
lint findings (codes FW1000-FW1999), not to syntax or type errors.`},
	{Code: CodeBinding, Title: "suppression of a refusal", Severity: diag.Warning, Doc: `
A "# fwc:ignore" comment names a code whose error says that a backend you
asked for (--backend, or fwc translate --to) cannot express the rule. The
error stays: fwc translate would refuse the policy whatever the comment
says. Rewrite the rule, or translate for a backend that can express it;
without --backend the finding is a warning, and the comment may silence it
there (say a policy is for iptables only).`},
	{Code: CodeAnalyzerError, Title: "lint pass failed", Severity: diag.Error, Doc: `
A lint pass failed on this policy instead of finishing its analysis. This is
a bug in fwc: please report it with the policy. The other passes still ran;
the passes that depend on the failed one did not.`},
}

func init() {
	for _, d := range Codes {
		diag.Register(d)
	}
}

// Run runs analyzers, and the analyzers they require, over p, each once and
// after its requirements, and returns their diagnostics with suppression
// comments and severity overrides applied, sorted. A pass that panics or
// returns an error is reported (FW1999); the others still run.
func Run(p *policy.Program, analyzers []*Analyzer, opts Options) diag.Diagnostics {
	order := topo(analyzers)
	results := map[*Analyzer]any{}
	failed := map[*Analyzer]bool{}
	var ds diag.Diagnostics
	for _, a := range order {
		if slices.ContainsFunc(a.Requires, func(r *Analyzer) bool { return failed[r] }) {
			failed[a] = true
			continue
		}
		res, err := runOne(a, p, opts, results, &ds)
		if err != nil {
			failed[a] = true
			ds.Add(diag.Error, CodeAnalyzerError, diag.Range{Filename: firstFile(p)},
				fmt.Sprintf("lint pass %s failed", a.Name), err.Error())
			continue
		}
		results[a] = res
	}
	for _, res := range results {
		if m, ok := res.(Muter); ok {
			ds = slices.DeleteFunc(ds, m.Mutes)
		}
	}
	if !opts.NoSuppress {
		var files []*ast.File
		if p != nil {
			files = p.Files
		}
		ds = Suppress(files, ds, knownCodes(order), bindingCodes(order))
	}
	ds = Configure(ds, opts.Severity, opts.Disable, bindingCodes(order))
	return ds.Sort()
}

func runOne(a *Analyzer, p *policy.Program, opts Options, results map[*Analyzer]any, ds *diag.Diagnostics) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	pass := &Pass{
		Analyzer: a,
		Program:  p,
		Backends: opts.Backends,
		ResultOf: map[*Analyzer]any{},
		Report: func(d *diag.Diagnostic) {
			if _, ok := a.Code(d.Code); !ok && len(a.Codes) > 0 || d.Code == "" {
				d.Detail = strings.TrimSpace(d.Detail + fmt.Sprintf(" (internal: pass %s reported the undeclared code %q.)", a.Name, d.Code))
			}
			*ds = append(*ds, d)
		},
	}
	for _, r := range a.Requires {
		pass.ResultOf[r] = results[r]
	}
	if a.Run == nil {
		return nil, nil
	}
	return a.Run(pass)
}

// topo orders analyzers and their requirements so that each comes after
// what it requires; each appears once. A requirement cycle is a
// programming error and panics (it is a property of the binary, not of the
// input).
func topo(roots []*Analyzer) []*Analyzer {
	var order []*Analyzer
	state := map[*Analyzer]int{} // 1 visiting, 2 done
	var visit func(a *Analyzer)
	visit = func(a *Analyzer) {
		switch state[a] {
		case 1:
			panic("analysis: requirement cycle through " + a.Name)
		case 2:
			return
		}
		state[a] = 1
		for _, r := range a.Requires {
			visit(r)
		}
		state[a] = 2
		order = append(order, a)
	}
	for _, a := range roots {
		visit(a)
	}
	return order
}

func knownCodes(as []*Analyzer) map[string]bool {
	m := map[string]bool{}
	for _, a := range as {
		for _, d := range a.Codes {
			m[d.Code] = true
		}
	}
	return m
}

// bindingCodes are the codes of the Binding analyzers among as.
func bindingCodes(as []*Analyzer) map[string]bool {
	m := map[string]bool{}
	for _, a := range as {
		if a.Binding {
			for _, d := range a.Codes {
				m[d.Code] = true
			}
		}
	}
	return m
}

// Binding reports whether d is an error of a Binding analyzer's code, which
// no suppression or severity override may hide.
func binding(d *diag.Diagnostic, codes map[string]bool) bool {
	return d.Severity == diag.Error && codes[d.Code]
}

func firstFile(p *policy.Program) string {
	if p != nil && len(p.Files) > 0 && p.Files[0] != nil {
		return p.Files[0].Filename
	}
	return ""
}

// Configure applies per-code severity overrides and drops disabled codes,
// except for the errors of the codes in bound (see Analyzer.Binding). It
// changes the diagnostics in place and returns the kept ones.
func Configure(ds diag.Diagnostics, severity map[string]diag.Severity, disable map[string]bool, bound map[string]bool) diag.Diagnostics {
	out := ds[:0:0]
	for _, d := range ds {
		if binding(d, bound) {
			out = append(out, d)
			continue
		}
		if disable[d.Code] {
			continue
		}
		if s, ok := severity[d.Code]; ok {
			d.Severity = s
		}
		out = append(out, d)
	}
	return out
}

// Span is the diagnostic range of an ast node, or the zero range for nil.
func Span(n ast.Node) diag.Range {
	if n == nil {
		return diag.Range{}
	}
	if v := reflect.ValueOf(n); v.Kind() == reflect.Pointer && v.IsNil() {
		return diag.Range{}
	}
	return n.Span()
}

// RuleRange is the source range of a checked rule: the rule, zone-level
// rule, policy or balance it was expanded from.
func RuleRange(r *policy.Rule) diag.Range {
	if r == nil {
		return diag.Range{}
	}
	return Span(r.Src)
}

// ChainRange is the source range of a chain's name, or of the chain when
// it was made by the zone layer (zero range then).
func ChainRange(c *policy.Chain) diag.Range {
	if c == nil || c.Decl == nil {
		return diag.Range{}
	}
	return Span(&c.Decl.Name)
}

// Source returns the source node of a condition or action, or nil for
// generated ones.
func Source(x any) ast.Node {
	if s, ok := x.(interface{ Source() ast.Node }); ok {
		return s.Source()
	}
	return nil
}

// At is the range of condition or action x, or failing that of rule r.
func At(x any, r *policy.Rule) diag.Range {
	if n := Source(x); n != nil {
		return Span(n)
	}
	return RuleRange(r)
}
