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

var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name: "routing",
	Codes: []diag.Doc{
		{Code: CodeNeverSet, Severity: diag.Warning},
		{Code: CodeUnbound, Severity: diag.Info},
		{Code: CodeDuplicate, Severity: diag.Error},
		{Code: CodeOverlap, Severity: diag.Warning},
	},
	Run: run,
})

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
