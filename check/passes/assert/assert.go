package assert

import (
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

const (
	CodeFails      = "FW1090"
	CodeUndecided  = "FW1091"
	CodeInexact    = "FW1092"
	CodeManagement = "FW1093"
)

var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name: "assert",
	Codes: []diag.Doc{
		{Code: CodeFails, Severity: diag.Error},
		{Code: CodeUndecided, Severity: diag.Warning},
		{Code: CodeInexact, Severity: diag.Error},
		{Code: CodeManagement, Severity: diag.Error},
	},
	Run: run,
})

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	p := pass.Program
	if p == nil || len(p.Asserts) == 0 || p.Incomplete() {
		// An incomplete program lacks rules that failed to check: a proof
		// over it would be a proof of something else.
		return nil, nil
	}
	net := space.NetFromProgram(p)
	for _, a := range p.Asserts {
		at := a.Decl.Range
		if a.Management && (a.NAT != nil || a.Verdict != policy.Accept) {
			pass.Reportf(CodeManagement, a.Decl.ManagementRange, "a management assert claims that connections get through: it needs accept, not %s", a.Decl.Verdict.Name)
			continue
		}
		claims, inexact := space.AssertClaims(a)
		if inexact != "" {
			pass.Reportf(CodeInexact, at, "an assert must name its packets exactly, and %s", inexact)
			continue
		}
		for _, c := range claims {
			if pr := space.Prove(net, c); !pr.Holds {
				report(pass, a, pr)
				break // one finding per assert
			}
		}
	}
	return nil, nil
}

// report reports a proof that did not hold.
func report(pass *analysis.Pass, a *policy.Assert, pr *space.Proof) {
	at := a.Decl.Range
	c := pr.Claim
	want, got := "accepted", "dropped"
	switch {
	case c.NAT != nil:
		want, got = "translated by "+a.Decl.Verdict.Name, "accepted without "+a.Decl.Verdict.Name
	case !c.Accept:
		want, got = "not accepted", "accepted"
	}
	var d *diag.Diagnostic
	switch {
	case pr.Witness == nil:
		pass.Reportf(CodeUndecided, at, "assert not proven: %s", pr.Undecided)
		return
	case pr.Undecided != "":
		d = pass.Reportf(CodeUndecided, at, "assert not proven: %s may be %s (%s), depending on what the proof cannot know: %s",
			space.Words(*pr.Witness, c.Path), got, pr.Outcome.Why, pr.Undecided)
	default:
		d = pass.Reportf(CodeFails, at, "assert does not hold: %s is %s by %s",
			space.Words(*pr.Witness, c.Path), got, pr.Outcome.Why)
		d.Detail = "The assert claims that " + c.What + " it names are " + want + "; this one, sent as written, is " + got + ". Fix the policy, or narrow the assert."
	}
	if r := pr.Outcome.Rule; r != nil && r.Rule != nil {
		if rg := analysis.RuleRange(r.Rule); !rg.IsZero() {
			d.Related = append(d.Related, diag.Related{Message: "decided here", Range: rg})
		}
	}
}
