// Package routing checks the consistency of policy routing: routes (a
// firewall mark bound to a routing table, installed as `ip rule fwmark
// MARK/MASK table T`) against the rules that set and match marks.
//
// It models packet marks as 32-bit values under masks: a route binds the
// marks m with m & Mask == Mark & Mask (the kernel's fwmark rule test), a
// `mark set V/M` rule writes V under M, `route NAME` writes the route's
// mark, and a connection mark can reach the packet mark through
// `connmark restore`. It looks at every rule of the policy whatever hook it
// is in (the placement pass judges hooks), and does not follow values
// through arithmetic other than masks.
//
//   - FW1801: a route whose mark no rule sets: its table is never used.
//   - FW1802 (info, only when routes exist): a packet mark that is set but
//     that no route binds and no rule matches.
//   - FW1804: two routes binding the same mark.
//   - FW1805: two routes whose marks overlap: their masks share bits and
//     the marks agree on them, so some mark value is bound by both; the ip
//     rule with the lower priority takes it. Routes on disjoint mask bits
//     (bit fields) are flagged only when a rule sets a mark both bind.
//
// A route without routes, a route mark with bits outside its mask and a
// route binding mark 0 are errors of the front end (FW0122, FW0110).
package routing

import (
	"fmt"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

const (
	CodeNeverSet  = "FW1801"
	CodeUnbound   = "FW1802"
	CodeDuplicate = "FW1804"
	CodeOverlap   = "FW1805"
)

var Analyzer = &analysis.Analyzer{
	Name:  "routing",
	Title: "policy routing consistency",
	Doc:   "Reports routes whose mark is never set, marks no route binds, empty routes, and routes whose marks collide.",
	Codes: []diag.Doc{
		{Code: CodeNeverSet, Title: "route's mark is never set", Severity: diag.Warning, Doc: `
A route binds a firewall mark to a routing table, but no rule sets that mark
(with "route NAME", a "mark set" whose value the route binds, or a connection
mark restored into the packet), so no packet is ever routed by this table.
Add a rule with "route NAME" where the traffic should be steered (in
prerouting or output), or remove the route.`},
		{Code: CodeUnbound, Title: "mark set but neither routed nor matched", Severity: diag.Info, Doc: `
This rule sets a packet mark that no route binds and no rule of the policy
matches. Marks are also read by things outside the policy (tc, other ip
rules), so this is only informational; if the mark was meant for one of the
policy's routes, its value or mask differs from the route's.`},
		{Code: CodeDuplicate, Title: "two routes bind one mark", Severity: diag.Error, Doc: `
Two routes bind the same mark and mask. Only the ip rule with the lower
priority ever matches; the other route's table is never used.`},
		{Code: CodeOverlap, Title: "route marks overlap", Severity: diag.Warning, Doc: `
Some mark values are bound by both routes: where both masks have a bit, the
two marks agree. A packet with such a mark goes to whichever ip rule has the
lower priority. Use disjoint bits or masks.`},
	},
	Run: run,
}

func init() { analysis.Register(Analyzer) }

type setter struct {
	rule *policy.Rule
	m    *policy.SetMark
}

func binds(rt *policy.Route, value, mask uint32) bool {
	return mask&rt.Mask == rt.Mask && value&rt.Mask == rt.Mark&rt.Mask
}

// overlap reports whether some mark is bound by both routes and could
// really occur: the masks share bits and the marks agree on them (ignoring
// routes binding mark 0, which the front end refuses), or, for routes on disjoint
// bits, some rule sets a mark that both bind.
func overlap(a, b *policy.Route, sets []setter) bool {
	if a.Mark&a.Mask == 0 || b.Mark&b.Mask == 0 || (a.Mark^b.Mark)&a.Mask&b.Mask != 0 {
		return false
	}
	if a.Mask&b.Mask != 0 {
		return true
	}
	for _, s := range sets {
		if binds(a, s.m.Value, s.m.Mask) && binds(b, s.m.Value, s.m.Mask) {
			return true
		}
	}
	return false
}

func routeAt(rt *policy.Route) diag.Range {
	if rt.Decl == nil {
		return diag.Range{}
	}
	return analysis.Span(&rt.Decl.Name)
}

func run(pass *analysis.Pass) (any, error) {
	p := pass.Program
	if p == nil {
		return nil, nil
	}
	var sets, ctSets []setter
	var conds []*policy.MarkCond
	restore, save, markSet := false, false, false
	for _, t := range p.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				for _, a := range r.Actions {
					switch a := a.(type) {
					case *policy.SetMark:
						if a.Ct {
							ctSets = append(ctSets, setter{r, a})
						} else {
							sets = append(sets, setter{r, a})
						}
					case *policy.Connmark:
						restore = restore || a.Restore
						save = save || !a.Restore
					}
				}
				for _, x := range r.Conds {
					switch x := x.(type) {
					case *policy.MarkCond:
						if !x.Ct {
							conds = append(conds, x)
						}
					case *policy.ConcatCond:
						for _, k := range x.Keys {
							markSet = markSet || k == policy.KeyMark
						}
					}
				}
			}
		}
	}
	for _, s := range p.Sets {
		for _, ty := range s.Type {
			markSet = markSet || ty == policy.MarkT
		}
	}

	for i, rt := range p.Routes {
		set := false
		for _, s := range sets {
			set = set || s.m.Route == rt || binds(rt, s.m.Value, s.m.Mask)
		}
		if restore {
			for _, s := range ctSets {
				set = set || binds(rt, s.m.Value, s.m.Mask)
			}
		}
		if !set && !p.Incomplete() { // else the setter may have failed to check
			d := pass.Reportf(CodeNeverSet, routeAt(rt), "route %s: no rule sets its mark 0x%x", rt.Name, rt.Mark)
			d.Detail = fmt.Sprintf("Add a rule with \"route %s\" in prerouting or output to steer traffic to table %d.", rt.Name, rt.Table)
		}
		for _, prev := range p.Routes[:i] {
			rel := []diag.Related{{Message: "route " + prev.Name + " declared here", Range: routeAt(prev)}}
			switch {
			case prev.Mask == rt.Mask && prev.Mark&prev.Mask == rt.Mark&rt.Mask:
				d := pass.Reportf(CodeDuplicate, routeAt(rt), "routes %s and %s bind the same mark 0x%x", prev.Name, rt.Name, rt.Mark&rt.Mask)
				d.Related = rel
			case overlap(prev, rt, sets):
				both := prev.Mark&prev.Mask | rt.Mark&rt.Mask
				d := pass.Reportf(CodeOverlap, routeAt(rt), "routes %s and %s overlap: mark 0x%x is bound by both", prev.Name, rt.Name, both)
				d.Related = rel
			}
		}
	}

	if len(p.Routes) == 0 || save || markSet || p.Incomplete() {
		return nil, nil
	}
	for _, s := range sets {
		if s.m.Route != nil {
			continue
		}
		used := false
		for _, rt := range p.Routes {
			used = used || binds(rt, s.m.Value, s.m.Mask)
		}
		for _, c := range conds {
			if c.Route != nil {
				used = used || binds(c.Route, s.m.Value, s.m.Mask)
			} else {
				shared := s.m.Mask & c.Mask
				used = used || shared != 0 && (s.m.Value^c.Value)&shared == 0
			}
		}
		if !used {
			d := pass.Reportf(CodeUnbound, analysis.At(s.m, s.rule), "mark 0x%x is set but no route binds it and no rule matches it", s.m.Value)
			d.Detail = "If it is meant for one of the routes, its value or mask differs from the route's."
		}
	}
	return nil, nil
}
