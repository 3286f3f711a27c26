package placement

import (
	"fmt"
	"strings"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/graph"
	"github.com/fwcproject/fwc/check/passes/internal/match"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

const (
	CodeTableHook    = "FW1701"
	CodeDNAT         = "FW1702"
	CodeSNAT         = "FW1703"
	CodeNATTable     = "FW1704"
	CodeRouteLate    = "FW1705"
	CodeMarkLate     = "FW1706"
	CodeCtAfterNotrk = "FW1707"
	CodeNotrackTable = "FW1708"
)

var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name:     "placement",
	Requires: []*analysis.Analyzer{graph.Analyzer},
	Codes: []diag.Doc{
		{Code: CodeTableHook, Severity: diag.Error},
		{Code: CodeDNAT, Severity: diag.Error},
		{Code: CodeSNAT, Severity: diag.Error},
		{Code: CodeNATTable, Severity: diag.Error},
		{Code: CodeRouteLate, Severity: diag.Error},
		{Code: CodeMarkLate, Severity: diag.Warning},
		{Code: CodeCtAfterNotrk, Severity: diag.Warning},
		{Code: CodeNotrackTable, Severity: diag.Error},
	},
	Run: run,
})

func init() { analysis.Register(Analyzer) }

var tableHooks = map[string]graph.HookSet{
	"raw":      graph.Of(policy.Prerouting, policy.Output),
	"mangle":   graph.Of(policy.Prerouting, policy.Input, policy.Forward, policy.Output, policy.Postrouting),
	"nat":      graph.Of(policy.Prerouting, policy.Input, policy.Output, policy.Postrouting),
	"filter":   graph.Of(policy.Input, policy.Forward, policy.Output),
	"security": graph.Of(policy.Input, policy.Forward, policy.Output),
}

var (
	dnatHooks     = graph.Of(policy.Prerouting, policy.Output)
	snatHooks     = graph.Of(policy.Postrouting, policy.Input)
	routedAlready = graph.Of(policy.Input, policy.Forward, policy.Postrouting)
)

func hookList(s graph.HookSet) string {
	var names []string
	for _, h := range s.Hooks() {
		names = append(names, string(h))
	}
	return strings.Join(names, " and ")
}

func run(pass *analysis.Pass) (any, error) {
	g := pass.ResultOf[graph.Analyzer].(*graph.Graph)
	p := pass.Program
	if p == nil {
		return nil, nil
	}
	for _, t := range p.Tables {
		for _, c := range t.Chains {
			if c.IsBase() {
				if hs, known := tableHooks[t.Name]; known && !hs.Has(c.Hook) {
					d := pass.Reportf(CodeTableHook, chainAt(c), "the %s table has no %s hook", t.Name, c.Hook)
					d.Detail = fmt.Sprintf("The %s table attaches to %s only.", t.Name, hookList(hs))
				}
			}
			hooks := g.Hooks[c]
			for _, r := range c.Rules {
				actions(pass, g, c, r, hooks)
			}
		}
	}
	ctAfterNotrack(pass, g)
	return nil, nil
}

func chainAt(c *policy.Chain) diag.Range {
	if r := analysis.ChainRange(c); !r.IsZero() {
		return r
	}
	if len(c.Rules) > 0 {
		return analysis.RuleRange(c.Rules[0])
	}
	return diag.Range{}
}

// where names the chain for messages.
func where(c *policy.Chain) string {
	if c.IsBase() {
		return fmt.Sprintf("the %s %s chain", c.Table.Name, c.Hook)
	}
	return fmt.Sprintf("chain %s", c.Name)
}

func actions(pass *analysis.Pass, g *graph.Graph, c *policy.Chain, r *policy.Rule, hooks graph.HookSet) {
	for _, a := range r.Actions {
		switch a := a.(type) {
		case *policy.NAT, *policy.Balance:
			name, allowed, code := "", dnatHooks, CodeDNAT
			if n, ok := a.(*policy.NAT); ok {
				name = n.Kind.String()
				if n.Kind == policy.SNAT || n.Kind == policy.Masquerade {
					allowed, code = snatHooks, CodeSNAT
				}
			} else {
				name = "balance"
			}
			if c.Table.Name != "nat" {
				pass.Reportf(CodeNATTable, analysis.At(a, r), "%s in the %s table: address translation runs only in the nat table", name, c.Table.Name)
				continue
			}
			if bad := hooks &^ allowed; bad != 0 {
				d := pass.Reportf(code, analysis.At(a, r), "%s in %s, which %s reaches: %s happens only in %s",
					name, where(c), hookList(bad), name, hookList(allowed))
				if c.IsBase() {
					d.Summary = fmt.Sprintf("%s in the %s hook: %s happens only in %s", name, c.Hook, name, hookList(allowed))
				}
				d.Related = paths(g, c, bad)
			}
		case *policy.Notrack:
			if c.Table.Name != "raw" {
				pass.Reportf(CodeNotrackTable, analysis.At(a, r), "notrack in the %s table: the connection is already tracked there", c.Table.Name)
			}
		case *policy.SetMark:
			if a.Ct || hooks == 0 || hooks&^routedAlready != 0 {
				continue
			}
			if a.Route != nil {
				d := pass.Reportf(CodeRouteLate, analysis.At(a, r), "route %s set in %s, after the routing decision", a.Route.Name, hookList(hooks))
				d.Detail = fmt.Sprintf("In %s the packet has already been routed; the mark of route %s cannot steer it. Set it in prerouting or output.", hookList(hooks), a.Route.Name)
				continue
			}
			for _, rt := range pass.Program.Routes {
				if a.Mask&rt.Mask == rt.Mask && a.Value&rt.Mask == rt.Mark&rt.Mask {
					d := pass.Reportf(CodeMarkLate, analysis.At(a, r), "mark 0x%x of route %s set in %s, after the routing decision", rt.Mark, rt.Name, hookList(hooks))
					d.Related = []diag.Related{{Message: "route " + rt.Name + " binds the mark", Range: analysis.Span(rt.Decl)}}
					break
				}
			}
		}
	}
}

func paths(g *graph.Graph, c *policy.Chain, hooks graph.HookSet) []diag.Related {
	if c.IsBase() {
		return nil
	}
	var rel []diag.Related
	for _, b := range g.Bases[c] {
		if !hooks.Has(b.Hook) {
			continue
		}
		if path := g.Path(b, c); len(path) > 0 {
			rel = append(rel, diag.Related{Message: fmt.Sprintf("reached from %s here", b.Hook), Range: analysis.RuleRange(path[0].Rule)})
		}
	}
	return rel
}

type notrack struct {
	rule  *policy.Rule
	bases []*policy.Chain
}

// after reports whether a packet passes base chain b after base chain a.
func after(a, b *policy.Chain) bool {
	switch {
	case a.Hook == b.Hook:
		return b.Priority > a.Priority
	case a.Hook == policy.Prerouting:
		return b.Hook == policy.Input || b.Hook == policy.Forward || b.Hook == policy.Postrouting
	case a.Hook == policy.Output:
		return b.Hook == policy.Postrouting
	case a.Hook == policy.Forward:
		return b.Hook == policy.Postrouting
	}
	return false
}

func ctAfterNotrack(pass *analysis.Pass, g *graph.Graph) {
	var nts []notrack
	for _, t := range pass.Program.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				for _, a := range r.Actions {
					if _, ok := a.(*policy.Notrack); ok && t.Name == "raw" && len(g.Bases[c]) > 0 {
						nts = append(nts, notrack{r, g.Bases[c]})
					}
				}
			}
		}
	}
	if len(nts) == 0 {
		return
	}
	for _, t := range pass.Program.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				var ct *policy.CtStateCond
				var rest []policy.Cond
				for _, x := range r.Conds {
					if s, ok := x.(*policy.CtStateCond); ok && !s.Neg && s.Bits&policy.CtUntracked == 0 {
						ct = s
					} else {
						rest = append(rest, x)
					}
				}
				if ct == nil {
					continue
				}
				for _, nt := range nts {
					if r.Family&^nt.rule.Family != 0 || !match.Implies(rest, nt.rule.Conds) || !anyAfter(nt.bases, g.Bases[c]) {
						continue
					}
					d := pass.Reportf(CodeCtAfterNotrk, analysis.At(ct, r), "ct state never matches: an earlier notrack exempts these packets from connection tracking")
					d.Detail = "Untracked packets have ct state \"untracked\": never new, established, related or invalid."
					d.Related = []diag.Related{{Message: "notrack here", Range: analysis.RuleRange(nt.rule)}}
					break
				}
			}
		}
	}
}

func anyAfter(as, bs []*policy.Chain) bool {
	for _, a := range as {
		for _, b := range bs {
			if after(a, b) {
				return true
			}
		}
	}
	return false
}
