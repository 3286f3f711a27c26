// Package redundant reports rules that can be removed without changing
// what the policy does.
//
// It uses the same exact model of packets as the shadow pass (see package
// shadow for the fields, and for the rules that "may not match" and so never
// cover another): every base chain in both families, every user chain in the
// context of each jump that reaches it.
//
// # Codes
//
// FW1201 (warning) a rule whose packets are all matched by earlier rules
// with the same verdict (together, not only one by one): it never fires,
// and deleting it changes nothing. Rules with another verdict may take some
// of its packets first (an exception before a broad rule); they apply to
// the rule's packets either way, and moving the rule above them would
// override them, so such a rule is redundant, not shadowed. The related
// positions list the same-verdict rules that cover it.
//
// FW1202 (warning) a rule whose verdict is the chain's policy (for a user
// chain: return, which is what falling off its end does) and whose packets,
// were the rule removed, would meet no later rule that treats them
// differently: no later rule with another verdict, a jump, a non-terminal
// action such as log or counter, or a rule that may not match. Removing it
// changes nothing. A rule with its own side effects (log, counter, mark) is
// never reported, and neither are zone-level rules and zone policies: the
// chains zones compile into, and their policies, are not the author's to
// see, so "the chain does this anyway" would be a riddle there.
//
// A rule covered by an unconditional verdict in its own chain is left to
// the verdictflow pass (FW1601).
//
// Both are warnings: the policy does what it says, but a rule that does
// nothing misleads the next reader into thinking it matters.
package redundant

import (
	"fmt"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/dead"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// Codes of this pass.
const (
	CodeCovered = "FW1201"
	CodePolicy  = "FW1202"
)

// Analyzer is the redundant pass.
var Analyzer = &analysis.Analyzer{
	Name:  "redundant",
	Title: "redundant rules",
	Doc: `Reports rules covered by earlier rules with the same verdict, and rules that
only repeat the chain's policy.`,
	Requires: []*analysis.Analyzer{space.Analyzer},
	Codes: []diag.Doc{
		{Code: CodeCovered, Title: "redundant rule", Severity: diag.Warning, Doc: `
Earlier rules with the same verdict match every packet this rule matches,
so it never fires and deleting it changes nothing. The notes list those
rules; the rule may be covered by several of them together, or through the
elements of a named set. Rules with another verdict may decide some of its
packets before them (an exception written before a broad rule); they do so
with or without this rule, and moving this rule above them would override
them, which is why the finding is "redundant" and not "shadowed". Rules with a rate limit, meter, time, probability
or string match, and lookups in sets with a timeout, never count as
covering.`},
		{Code: CodePolicy, Title: "rule repeats the chain policy", Severity: diag.Warning, Doc: `
The rule's verdict is the chain's policy (for a user chain: return, what
falling off its end does), and no later rule would treat its packets
differently if it were removed: they would reach the policy anyway.
Deleting the rule changes nothing. It is reported only when the rule has no
side effect of its own and no later rule that may see its packets has
another verdict, a jump, a log or counter, or a condition the analysis
cannot decide.`},
	},
	Run: run,
}

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	res := pass.ResultOf[space.Analyzer].(*space.Result)
	for _, g := range dead.Group(res) {
		f := g[0]
		at := analysis.RuleRange(f.Rule)
		if dead.AllDead(g) {
			if !dead.Redundant(g) || dead.AfterUnconditional(g) {
				continue // shadow's, or verdictflow's FW1601
			}
			if dead.AllSame(g) {
				covers := dead.Covers(g)
				d := pass.Reportf(CodeCovered, at, "rule is redundant: earlier rules with the same verdict decide all its packets")
				d.Detail = fmt.Sprintf("Every packet this rule matches is already decided (%s); deleting it changes nothing.",
					dead.VerdictList(covers))
				d.Related = dead.Related(covers, "covered by this rule")
				continue
			}
			// Rules with another verdict take some packets first, but the
			// rules with this verdict cover it by themselves: the rule
			// repeats them. Moving it up would override the others.
			covers := dead.SameCovers(g)
			d := pass.Reportf(CodeCovered, at, "rule is redundant: earlier rules with the same verdict cover all its packets")
			d.Detail = fmt.Sprintf("Earlier rules with this rule's verdict (%s) match every packet it matches, so deleting it changes nothing. "+
				"Rules with another verdict (%s) take some of these packets first, and still would without this rule; "+
				"moving this rule above them would override them.",
				dead.VerdictList(covers), dead.VerdictList(others(g, f.Verdict)))
			d.Related = dead.Related(covers, "covered by this rule")
			continue
		}
		if allPolicy(g) && f.Rule.Origin == policy.FromChain && !f.Chain.Table.Incomplete() {
			d := pass.Reportf(CodePolicy, at, "rule is redundant: its verdict %s is what the chain does anyway", f.Verdict)
			d.Detail = "No later rule treats this rule's packets differently, so without it they reach the same verdict at the end of the chain."
		}
	}
	return nil, nil
}

func allPolicy(g []*space.Facts) bool {
	for _, f := range g {
		if f.Dead() || !f.PolicyRedundant() {
			return false
		}
	}
	return true
}

// others lists the rules with another verdict than v that decide packets
// of the group first, each once.
func others(g []*space.Facts, v string) []space.Cover {
	var out []space.Cover
	seen := map[*policy.Rule]bool{}
	for _, f := range g {
		for _, c := range f.Covers {
			if c.Verdict != v && !seen[c.Rule] {
				seen[c.Rule] = true
				out = append(out, c)
			}
		}
	}
	return out
}
