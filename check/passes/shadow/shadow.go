// Package shadow reports rules that can never match because earlier rules
// with another verdict already decide every packet they match.
//
// # What it models
//
// The check follows packets exactly over the fields rules match: source and
// destination address (IPv4 and IPv6 separately), protocol, ports,
// interfaces (names and "eth*" prefixes), packet and connection mark
// (value/mask), ct state, ct status, icmp type and code, and tcp flags.
// Named sets count by their elements. Every base chain is walked in both
// families from all packets of its hook; a user chain is walked once for
// each jump that reaches it, with only the packets that jump passes. A rule
// is reported when it can match no packet in any of those walks, because the
// packets it would match are all decided (accepted, dropped, rejected,
// returned, translated, or sent on by goto) by earlier rules — by their union,
// not only one of them — or, inside a user chain, already excluded by the
// conditions of the jumps into the chain.
//
// # What it assumes
//
// A rule whose match the analysis cannot decide for certain "may not
// match": rate limits, meters, connection limits, time, probability,
// payload strings, and lookups in sets with a timeout (which can change at
// run time). Such a rule never counts as covering a later one, so the check
// reports no rule it cannot prove dead. Its own coverage is still judged: if
// earlier rules decide every packet it could match, it is reported. After an
// action that may rewrite the packet or connection mark, later mark
// conditions are treated the same way. Non-terminal actions (log, counter,
// mark) never cover; a jump covers only the packets the called chain
// decides.
//
// # Codes
//
// FW1101 (warning) a rule whose packets are all decided earlier, at least
// partly with another verdict: what the rule says never happens. The
// related positions list the earlier rules that decide its packets. When
// the earlier rules with the rule's own verdict cover it by themselves
// (whether or not rules with another verdict take some packets first), the
// redundant pass reports the rule instead (FW1201): it only repeats them.
//
// FW1103 (error, the Contradictions analyzer) a rule whose own conditions
// exclude each other, such as two different source networks.
//
// A rule after an unconditional verdict in its own chain is left to the
// verdictflow pass (FW1601), which reports it as never reached.
//
// FW1102 (warning) a rule in a user chain that no packet entering the chain
// can match, because every jump into the chain excludes it.
//
// These are warnings, not errors, although each finding is proven (no
// heuristics): the ruleset is still valid and the kernel does exactly what
// is written, so a shadowed rule must not stop "fwc apply" in an emergency.
// CI runs "fwc check --strict", which fails on warnings, and
// "--severity FW1101=error" makes it an error everywhere.
package shadow

import (
	"fmt"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/dead"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/diag"
)

// Codes of this pass.
const (
	CodeShadowed = "FW1101"
	CodeExcluded = "FW1102"
)

// Analyzer is the shadow pass.
var Analyzer = &analysis.Analyzer{
	Name:  "shadow",
	Title: "shadowed rules",
	Doc: `Reports rules that never match because earlier rules with another verdict
decide all their packets (together, not only one by one), or because the
jumps into their chain exclude them.`,
	Requires: []*analysis.Analyzer{space.Analyzer},
	Codes: []diag.Doc{
		{Code: CodeShadowed, Title: "shadowed rule", Severity: diag.Warning, Doc: `
Earlier rules decide every packet this rule matches, some of them with
another verdict, and the earlier rules with this rule's own verdict do not
cover it by themselves (when they do, the rule is reported as redundant,
FW1201). The rule never fires. The notes list the earlier rules that take
its packets; the rule may be covered by several of them together, or by
the elements of a named set.

If the rule's verdict is meant for those packets, the rules with another
verdict are too broad: narrow them, or move this rule above them, which
changes what happens to the packets they share with it (check that this is
the intent). If it is not, delete the rule: deleting a rule that never
fires changes nothing.

Rules with a rate limit, meter, connection limit, time, probability or
string match, and lookups in sets with a timeout, "may not match" and never
count as covering another rule.`},
		{Code: CodeExcluded, Title: "rule excluded by the jumps into its chain", Severity: diag.Warning, Doc: `
The rule is in a user chain, and every jump or goto into the chain has
conditions that exclude all packets the rule matches (for example the jump
matches "iif eth0" and the rule "iif eth1"), so the rule never fires. The
note points at a jump into the chain.`},
	},
	Run: run,
}

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	res := pass.ResultOf[space.Analyzer].(*space.Result)
	for _, g := range dead.Group(res) {
		f := g[0]
		if !dead.AllDead(g) || dead.Redundant(g) || dead.AfterUnconditional(g) {
			continue // live, the redundant pass's, or verdictflow's FW1601
		}
		covers := dead.Covers(g)
		at := analysis.RuleRange(f.Rule)
		if excluded(g) {
			d := pass.Reportf(CodeExcluded, at, "rule can never match: the jumps into its chain exclude its packets")
			d.Detail = "No packet that enters the chain matches this rule, so it never fires."
			d.Related = dead.Related(covers, "chain entered by this rule")
			continue
		}
		d := pass.Reportf(CodeShadowed, at, "rule is shadowed: earlier rules decide all its packets")
		d.Detail = fmt.Sprintf("Every packet this rule matches is decided earlier (%s), so its %s never happens.",
			dead.VerdictList(covers), what(f))
		d.Related = dead.Related(covers, "covered by this rule")
	}
	return nil, nil
}

func what(f *space.Facts) string {
	if f.Verdict == "" {
		return "action"
	}
	return f.Verdict
}

// excluded reports whether the rule is dead only because of the jumps
// into its chain.
func excluded(g []*space.Facts) bool {
	for _, f := range g {
		if f.ByEntry != f.DeadIn {
			return false
		}
	}
	return true
}
