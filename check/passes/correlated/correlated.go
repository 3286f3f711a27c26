// Package correlated reports pairs of rules with different verdicts whose
// order decides some packets: each matches packets the other does not, and
// some packets match both, so swapping the rules would change their verdict.
//
// It uses the exact packet model of the shadow pass (see package shadow).
// To stay quiet on the ordinary way of writing a policy, two rules count as
// correlated only when they cross on the fields they both restrict: on those
// fields neither contains the other (for example one has the wider address
// range, the other the wider port range). An exception written before a
// general rule ("drop 10.1.0.0/16" then "accept 10.0.0.0/8 port 22"), and
// rules that only add a guard of their own ("ct state invalid drop" before
// "tcp dport 22 accept") are not reported. Only rules that can decide
// packets count: rules that "may not match" (rate limits, sets with a
// timeout, ...) and rules with no terminal verdict are left out, and the
// overlap must hold a packet that actually reaches the earlier rule.
//
// # Codes
//
// FW1001 (warning) the rule crosses an earlier rule with another verdict.
// The detail gives one packet from the overlap that the earlier rule
// decides; the related position is the earlier rule. It is a warning:
// the order may be intended, but it deserves a second look, and a comment
// with "# fwc:ignore FW1001 reason" records that it is.
package correlated

import (
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/dead"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/diag"
)

// CodeCorrelated is the code of this pass.
const CodeCorrelated = "FW1001"

// Analyzer is the correlated pass.
var Analyzer = &analysis.Analyzer{
	Name:     "correlated",
	Title:    "order-sensitive overlaps",
	Doc:      "Reports rules with different verdicts that partly overlap, crosswise, so that their order decides some packets.",
	Requires: []*analysis.Analyzer{space.Analyzer},
	Codes: []diag.Doc{
		{Code: CodeCorrelated, Title: "rules overlap in an order-sensitive way", Severity: diag.Warning, Doc: `
This rule and an earlier rule with another verdict each match packets the
other does not, and they cross on the fields both restrict (say one has the
wider address range, the other the wider port range). Packets in the
overlap get the earlier rule's verdict; swapping the rules would change it.
The detail shows one such packet. If the order is intended, say so with
"# fwc:ignore FW1001 reason"; otherwise split one of the rules so that
neither depends on the order.`},
	},
	Run: run,
}

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	res := pass.ResultOf[space.Analyzer].(*space.Result)
	for _, g := range dead.Group(res) {
		if dead.AllDead(g) {
			continue
		}
		for _, f := range g {
			c := f.Correlated
			if c == nil || f.Dead() || f.Incomplete {
				continue
			}
			d := pass.Reportf(CodeCorrelated, analysis.RuleRange(f.Rule),
				"rule overlaps an earlier %s rule; their order decides some packets", c.WithVerdict)
			d.Detail = "For example " + c.Example + " matches both and gets the earlier rule's verdict " +
				c.WithVerdict + ", not this rule's " + f.Verdict + "."
			d.Related = []diag.Related{{Message: "overlapping rule (" + c.WithVerdict + ")", Range: analysis.RuleRange(c.With)}}
			break
		}
	}
	return nil, nil
}
