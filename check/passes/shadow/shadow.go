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
// every covering rule has the same verdict, the redundant pass reports the
// rule instead (FW1201).
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
	"strings"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/policy"
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
Earlier rules decide every packet this rule matches, at least some of them
with another verdict, so the rule never fires. The notes list the earlier
rules that take its packets; the rule may be covered by several of them
together, or by the elements of a named set. Move the rule above the rules
that cover it, narrow those rules, or delete it.

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
	for _, g := range Group(res) {
		f := g[0]
		if !AllDead(g) || AllSame(g) || AfterUnconditional(g) {
			continue
		}
		covers := Covers(g)
		at := analysis.RuleRange(f.Rule)
		if excluded(g) {
			d := pass.Reportf(CodeExcluded, at, "rule can never match: the jumps into its chain exclude its packets")
			d.Detail = "No packet that enters the chain matches this rule, so it never fires."
			d.Related = Related(covers, "chain entered by this rule")
			continue
		}
		d := pass.Reportf(CodeShadowed, at, "rule is shadowed: earlier rules decide all its packets")
		d.Detail = fmt.Sprintf("Every packet this rule matches is decided earlier (%s), so its %s never happens.",
			VerdictList(covers), what(f))
		d.Related = Related(covers, "covered by this rule")
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

// Group collects the facts of the rules expanded from one source rule
// (a service with two protocols, a zone rule in several chains), in program
// order; rules without a source are left out.
func Group(res *space.Result) [][]*space.Facts {
	idx := map[any]int{}
	var out [][]*space.Facts
	for _, f := range res.All() {
		if f.Rule.Src == nil {
			continue
		}
		k := any(f.Rule.Src)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], f)
	}
	return out
}

// AllDead reports whether every expansion of a source rule is dead.
func AllDead(g []*space.Facts) bool {
	for _, f := range g {
		if !f.Dead() {
			return false
		}
	}
	return true
}

// AfterUnconditional reports whether a rule without conditions in the
// rule's own chain covers it: the verdictflow pass reports those rules as
// never reached (FW1601), and one finding is enough.
func AfterUnconditional(g []*space.Facts) bool {
	for _, f := range g {
		for _, c := range f.Covers {
			if c.Chain == f.Chain && len(c.Rule.Conds) == 0 && c.Rule != f.Rule {
				return true
			}
		}
	}
	return false
}

// AllSame reports whether every expansion is covered only by rules with
// its own verdict.
func AllSame(g []*space.Facts) bool {
	for _, f := range g {
		if !f.SameVerdict {
			return false
		}
	}
	return true
}

// Covers merges the (minimized) covering rules of a group, each once.
func Covers(g []*space.Facts) []space.Cover {
	var out []space.Cover
	seen := map[*policy.Rule]bool{}
	for _, f := range g {
		cs := f.MinCovers
		if cs == nil {
			cs = f.Covers
		}
		for _, c := range cs {
			if !seen[c.Rule] {
				seen[c.Rule] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// maxRelated bounds the notes of one finding.
const maxRelated = 8

// Related turns covering rules into notes: "covered by this rule (accept)".
func Related(cs []space.Cover, msg string) []diag.Related {
	var out []diag.Related
	for i, c := range cs {
		if i == maxRelated {
			out[len(out)-1].Message += fmt.Sprintf(" (and %d more)", len(cs)-maxRelated)
			break
		}
		m := msg
		if c.Verdict != "" {
			m += " (" + c.Verdict + ")"
		}
		out = append(out, diag.Related{Message: m, Range: analysis.RuleRange(c.Rule)})
	}
	return out
}

// VerdictList says which verdicts the covering rules give: "accept by 2
// rules, drop by 1 rule".
func VerdictList(cs []space.Cover) string {
	var order []string
	n := map[string]int{}
	for _, c := range cs {
		v := c.Verdict
		if n[v] == 0 {
			order = append(order, v)
		}
		n[v]++
	}
	var parts []string
	for _, v := range order {
		s := "rules"
		if n[v] == 1 {
			s = "rule"
		}
		parts = append(parts, fmt.Sprintf("%s by %d %s", v, n[v], s))
	}
	return strings.Join(parts, ", ")
}
