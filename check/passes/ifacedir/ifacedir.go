package ifacedir

import (
	"fmt"
	"strings"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/graph"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

const (
	CodeIif          = "FW1401"
	CodeOif          = "FW1402"
	CodeNegatedMixed = "FW1403"
	CodeFieldHook    = "FW1404"
)

var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name:     "ifacedir",
	Requires: []*analysis.Analyzer{graph.Analyzer},
	Codes: []diag.Doc{
		{Code: CodeIif, Severity: diag.Error},
		{Code: CodeOif, Severity: diag.Error},
		{Code: CodeNegatedMixed, Severity: diag.Warning},
		{Code: CodeFieldHook, Severity: diag.Error},
	},
	Run: run,
})

func init() { analysis.Register(Analyzer) }

var (
	hasIif = graph.Of(policy.Prerouting, policy.Input, policy.Forward)
	hasOif = graph.Of(policy.Forward, policy.Output, policy.Postrouting)
)

type use struct {
	dir policy.Dir
	neg bool
	at  any
}

// uses appends the interface uses of r to out.
func uses(out []use, r *policy.Rule) []use {
	for _, c := range r.Conds {
		switch c := c.(type) {
		case *policy.IfaceCond:
			out = append(out, use{c.Dir, c.Neg, c})
		case *policy.ConcatCond:
			for _, k := range c.Keys {
				switch k {
				case policy.KeyIif:
					out = append(out, use{policy.Src, c.Neg, c})
				case policy.KeyOif:
					out = append(out, use{policy.Dst, c.Neg, c})
				}
			}
		}
	}
	return out
}

func run(pass *analysis.Pass) (any, error) {
	g := pass.ResultOf[graph.Analyzer].(*graph.Graph)
	if pass.Program == nil {
		return nil, nil
	}
	for _, t := range pass.Program.Tables {
		for _, c := range t.Chains {
			hooks := g.Hooks[c]
			if hooks == 0 || !c.IsBase() && t.Incomplete() {
				// A user chain of a table with a rule that failed to check
				// may be reached by that rule's jump from other hooks.
				continue
			}
			var buf []use
			for _, r := range c.Rules {
				fieldHooks(pass, c, r, hooks)
				buf = uses(buf[:0], r)
				for _, u := range buf {
					check(pass, g, c, r, u, hooks)
				}
			}
		}
	}
	return nil, nil
}

func check(pass *analysis.Pass, g *graph.Graph, c *policy.Chain, r *policy.Rule, u use, hooks graph.HookSet) {
	word, has, what := "iif", hasIif, "an input interface"
	code := CodeIif
	if u.dir == policy.Dst {
		word, has, what, code = "oif", hasOif, "an output interface yet", CodeOif
	}
	bad := hooks &^ has
	if bad == 0 {
		return
	}
	if bad != hooks {
		if !u.neg {
			return
		}
		d := pass.Reportf(CodeNegatedMixed, analysis.At(u.at, r), "negated %s in chain %s, which %s reaches without %s",
			word, c.Name, hookList(bad), strings.TrimSuffix(what, " yet"))
		d.Detail = fmt.Sprintf("On the %s path packets have no %s: both backends compare an empty name, so the negation holds for every packet there and the rule acts on all of them.", hookList(bad), strings.TrimSuffix(what, " yet"))
		d.Related = paths(g, c, bad)
		return
	}
	where := "in chain " + c.Name
	if c.IsBase() {
		where = "in the " + string(c.Hook) + " hook"
	}
	none := strings.TrimSuffix(strings.TrimPrefix(what, "an "), " yet")
	if u.neg {
		d := pass.Reportf(code, analysis.At(u.at, r), "negated %s %s matches every packet: packets there have no %s", word, where, none)
		d.Detail = fmt.Sprintf("With no %s, both backends compare an empty name, so a negated %s holds for every packet and the rule acts on all of them (iptables refuses it outright in a built-in chain).", none, word)
		if !c.IsBase() {
			d.Related = paths(g, c, hooks)
		}
		return
	}
	d := pass.Reportf(code, analysis.At(u.at, r), "%s %s: packets there have no %s", word, where, none)
	if c.IsBase() {
		d.Detail = fmt.Sprintf("In the %s hook packets have no %s, so this condition never holds as intended.", c.Hook, strings.TrimPrefix(what, "an "))
	} else {
		d.Detail = fmt.Sprintf("Chain %s is reached only from %s, where packets have no %s, so this condition never holds as intended.", c.Name, hookList(hooks), strings.TrimPrefix(what, "an "))
		d.Related = paths(g, c, hooks)
	}
}

func hookList(s graph.HookSet) string {
	var names []string
	for _, h := range s.Hooks() {
		names = append(names, string(h))
	}
	return strings.Join(names, " and ")
}

// paths explains how c is reached from the base chains of hooks: the first
// jump of a shortest path from each.
func paths(g *graph.Graph, c *policy.Chain, hooks graph.HookSet) []diag.Related {
	var rel []diag.Related
	for _, b := range g.Bases[c] {
		if !hooks.Has(b.Hook) {
			continue
		}
		for _, e := range g.Path(b, c) {
			rel = append(rel, diag.Related{
				Message: fmt.Sprintf("reached from %s: %s jumps to %s", b.Hook, e.From.Name, e.To.Name),
				Range:   analysis.RuleRange(e.Rule),
			})
		}
	}
	return rel
}

// fieldHooks reports the simple fields of r that no hook reaching c has.
func fieldHooks(pass *analysis.Pass, c *policy.Chain, r *policy.Rule, hooks graph.HookSet) {
	for _, x := range r.Conds {
		fc, ok := x.(*policy.FieldCond)
		if !ok || fc.Field.Hooks == nil {
			continue
		}
		if hooks&graph.Of(fc.Field.Hooks...) != 0 {
			continue
		}
		where := "in chain " + c.Name + ", which only " + hookList(hooks) + " reach"
		if c.IsBase() {
			where = "in the " + string(c.Hook) + " hook"
		}
		d := pass.Reportf(CodeFieldHook, analysis.At(fc, r), "%s %s: packets there have no %s", fc.Key(), where, fc.Field.Summary)
		var names []string
		for _, h := range fc.Field.Hooks {
			names = append(names, string(h))
		}
		d.Detail = fmt.Sprintf("%s is known only in %s.", fc.Key(), strings.Join(names, " and "))
	}
}
