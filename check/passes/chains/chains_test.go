package chains_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/chains"
	. "github.com/fwcproject/fwc/check/passes/internal/ptest"
	"github.com/fwcproject/fwc/check/policy"
)

func TestChains(t *testing.T) {
	b := New()
	f := b.Table("filter")
	in := b.Base(f, policy.Input, "drop")
	web := b.Chain(f, "web")   // reached from input: not flagged
	deep := b.Chain(f, "deep") // reached through web by goto: not flagged
	orphan := b.Chain(f, `orphan`, `FW1501 "chain orphan is never reached"`)
	child := b.Chain(f, "child", `FW1501 "chain child is never reached"`) // only the orphan jumps here
	a := b.Chain(f, "a")
	bb := b.Chain(f, "b")
	self := b.Chain(f, "self")
	cond := b.Chain(f, "cond")
	b.Rule(in, TCP(), Dport(80), Jump(web))
	b.Rule(web, Goto(deep))
	b.Rule(deep, Accept())
	b.Rule(orphan, Jump(child))
	b.Rule(child, Accept())
	b.Rule(in, Jump(a))
	b.Rule(a, TCP(), Jump(bb), W(`FW1502 "jump loop: a -> b -> a"`))
	b.Rule(bb, UDP(), Goto(a))
	b.Rule(in, Jump(self))
	b.Rule(self, Jump(self), W(`FW1503 "rule jumps back into its own chain self unconditionally"`))
	b.Rule(in, Jump(cond))
	b.Rule(cond, TCP(), Goto(cond), W(`FW1502 "jump loop: cond -> cond"`))
	// nat has its own graph: a chain called only from another table's
	// chain does not exist; a base chain is never "unreachable".
	n := b.Table("nat")
	b.Base(n, policy.Postrouting, "")
	ds := analysistest.RunProgram(t, b.Prog, analysis.Options{}, chains.Analyzer)
	for _, d := range ds {
		if d.Code == chains.CodeLoop && len(d.Related) == 0 && d.Summary == "jump loop: a -> b -> a" {
			t.Errorf("loop without related positions")
		}
	}
}
