// Package dead holds what the shadow, redundant and correlated passes
// share about the facts of the packet-space analysis (check/space): the
// grouping of the rules expanded from one source rule, the judgements
// over such a group, and the notes naming covering rules. It sits beside
// the passes so that no pass imports another.
package dead

import (
	"fmt"
	"strings"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

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

// Redundant reports whether every expansion is covered by the earlier rules
// with its own verdict alone (space.Facts.SameCover), even if rules with
// another verdict take some of its packets first: deleting the rule changes
// nothing, and moving it up would override those other rules, so it is
// reported as redundant, not shadowed.
func Redundant(g []*space.Facts) bool {
	for _, f := range g {
		if !f.SameCover {
			return false
		}
	}
	return true
}

// SameCovers merges the earlier rules with the group's own verdict that
// cover each expansion, each once.
func SameCovers(g []*space.Facts) []space.Cover {
	var out []space.Cover
	seen := map[*policy.Rule]bool{}
	for _, f := range g {
		for _, c := range f.SameCovers {
			if !seen[c.Rule] {
				seen[c.Rule] = true
				out = append(out, c)
			}
		}
	}
	return out
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
