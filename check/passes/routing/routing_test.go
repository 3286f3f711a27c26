package routing_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	. "github.com/fwcproject/fwc/check/passes/internal/ptest"
	"github.com/fwcproject/fwc/check/passes/routing"
	"github.com/fwcproject/fwc/check/policy"
)

func TestRouting(t *testing.T) {
	b := New()
	ua := b.Route("uplink_a", 1, 0xffffffff, 10, 1) // set by route NAME
	b.Route("uplink_b", 2, 0xffffffff, 20, 1)       // set by a plain mark
	b.Route("unused", 3, 0xffffffff, 30, 1, `FW1801 "route unused: no rule sets its mark 0x3"`)
	b.Route("dup", 1, 0xffffffff, 50, 1, `FW1804 "routes uplink_a and dup bind the same mark 0x1"`)
	b.Route("wide", 0x10, 0xf0, 60, 1)
	b.Route("narrow", 0x30, 0x30, 70, 1) // 0x30 under 0xf0 is not 0x10: disjoint
	b.Route("low", 0x1, 0x0f, 75, 1, `FW1805 "routes uplink_a and low overlap: mark 0x1 is bound by both"`, `FW1805 "routes dup and low overlap"`)
	b.Route("bit8", 0x100, 0x100, 80, 1)
	b.Route("bitA", 0x10000, 0x10000, 91, 1)
	b.Route("bitB", 0x20000, 0x20000, 92, 1, `FW1805 "routes bitA and bitB overlap: mark 0x30000"`)
	b.Route("viaconn", 0x5000, 0xf000, 100, 1) // set through connmark restore
	m := b.Table("mangle")
	pre := b.Base(m, policy.Prerouting, "")
	b.Rule(pre, Iif("eth0"), TCP(), Dport(80), RouteMark(ua))
	b.Rule(pre, Iif("eth0"), UDP(), Dport(53), SetMark(2))
	b.Rule(pre, TCP(), Dport(443), &policy.SetMark{Value: 0x10, Mask: 0xf0})
	b.Rule(pre, TCP(), Dport(444), &policy.SetMark{Value: 0x30, Mask: 0x30})
	b.Rule(pre, TCP(), Dport(445), &policy.SetMark{Value: 0x100, Mask: 0x100})
	b.Rule(pre, TCP(), Dport(446), &policy.SetMark{Ct: true, Value: 0x5000, Mask: 0xf000})
	b.Rule(pre, &policy.Connmark{Restore: true, Mask: 0xffffffff})
	b.Rule(pre, TCP(), Dport(447), SetMark(0x4000)) // matched below: used
	b.Rule(pre, TCP(), Dport(449), SetMark(0x30000))
	b.Rule(pre, TCP(), Dport(450), SetMark(0x1))
	b.Rule(pre, TCP(), Dport(448), &policy.SetMark{Value: 0x7, Mask: 0xff}, W(`FW1802 "mark 0x7 is set but no route binds it and no rule matches it"`))
	nat := b.Table("nat")
	post := b.Base(nat, policy.Postrouting, "")
	b.Rule(post, &policy.MarkCond{Value: 0x4000, Mask: 0x4000}, &policy.NAT{Kind: policy.Masquerade})
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, routing.Analyzer)
}

func TestNoRoutesNoUnboundMarks(t *testing.T) {
	b := New()
	pre := b.Base(b.Table("mangle"), policy.Prerouting, "")
	b.Rule(pre, SetMark(7)) // no routes at all: marks are someone else's business
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, routing.Analyzer)
}
