package placement_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	. "github.com/fwcproject/fwc/check/passes/internal/ptest"
	"github.com/fwcproject/fwc/check/passes/placement"
	"github.com/fwcproject/fwc/check/policy"
)

func TestTableHooks(t *testing.T) {
	b := New()
	b.Base(b.Table("nat"), policy.Forward, "", `FW1701 "the nat table has no forward hook"`)
	b.Base(b.Table("raw"), policy.Input, "", `FW1701 "the raw table has no input hook"`)
	b.Base(b.Table("raw"), policy.Prerouting, "")
	b.Base(b.Table("filter"), policy.Prerouting, "accept", `FW1701 "the filter table has no prerouting hook"`)
	b.Base(b.Table("filter"), policy.Forward, "drop")
	b.Base(b.Table("security"), policy.Postrouting, "", `FW1701 "security table has no postrouting"`)
	for _, h := range []policy.Hook{policy.Prerouting, policy.Input, policy.Forward, policy.Output, policy.Postrouting} {
		b.Base(b.Table("mangle"), h, "")
	}
	b.Base(b.Table("nat"), policy.Input, "")
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, placement.Analyzer)
}

func TestNAT(t *testing.T) {
	b := New()
	nat := b.Table("nat")
	pre := b.Base(nat, policy.Prerouting, "")
	post := b.Base(nat, policy.Postrouting, "")
	out := b.Base(nat, policy.Output, "")
	in := b.Base(nat, policy.Input, "")
	dnat := &policy.NAT{Kind: policy.DNAT}
	snat := &policy.NAT{Kind: policy.SNAT}
	b.Rule(pre, TCP(), Dport(80), dnat)
	b.Rule(out, TCP(), Dport(80), &policy.NAT{Kind: policy.DNAT})
	b.Rule(pre, TCP(), Dport(8022), &policy.NAT{Kind: policy.Redirect})
	b.Rule(post, Oif("eth0"), snat)
	b.Rule(in, &policy.NAT{Kind: policy.SNAT})
	b.Rule(post, Oif("eth0"), &policy.NAT{Kind: policy.Masquerade})
	b.Rule(post, TCP(), &policy.NAT{Kind: policy.DNAT}, W(`FW1702 "dnat in the postrouting hook: dnat happens only in prerouting and output"`))
	b.Rule(pre, &policy.NAT{Kind: policy.Masquerade}, W(`FW1703 "masquerade in the prerouting hook"`))
	b.Rule(in, &policy.NAT{Kind: policy.Redirect}, W(`FW1702 "redirect in the input hook"`))
	b.Rule(out, &policy.Balance{Name: "web"})

	// A user chain reached from prerouting and postrouting: both NATs are
	// refused on one path.
	kube := b.Chain(nat, "kube")
	b.Rule(pre, Jump(kube))
	b.Rule(post, Jump(kube))
	b.Rule(kube, TCP(), &policy.NAT{Kind: policy.DNAT}, W(`FW1702 "dnat in chain kube, which postrouting reaches"`))
	b.Rule(kube, &policy.NAT{Kind: policy.Masquerade}, W(`FW1703 "masquerade in chain kube, which prerouting reaches"`))
	// Only from postrouting: masquerade fine.
	masq := b.Chain(nat, "masq")
	b.Rule(post, Jump(masq))
	b.Rule(masq, &policy.NAT{Kind: policy.Masquerade})

	// NAT outside nat.
	f := b.Table("filter")
	fwd := b.Base(f, policy.Forward, "drop")
	b.Rule(fwd, &policy.NAT{Kind: policy.SNAT}, W(`FW1704 "snat in the filter table"`))
	b.Rule(fwd, &policy.Notrack{}, W(`FW1708 "notrack in the filter table"`))
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, placement.Analyzer)
}

func TestRoutingMarks(t *testing.T) {
	b := New()
	ua := b.Route("uplink_a", 1, 0xffffffff, 10, 1)
	ub := b.Route("uplink_b", 0x200, 0xf00, 20, 1)
	m := b.Table("mangle")
	pre := b.Base(m, policy.Prerouting, "")
	out := b.Base(m, policy.Output, "")
	post := b.Base(m, policy.Postrouting, "")
	in := b.Base(m, policy.Input, "")
	fwd := b.Base(m, policy.Forward, "")
	b.Rule(pre, Iif("eth0"), TCP(), Dport(80), RouteMark(ua))
	b.Rule(out, UDP(), Dport(53), RouteMark(ub))
	b.Rule(post, TCP(), RouteMark(ua), W(`FW1705 "route uplink_a set in postrouting, after the routing decision"`))
	b.Rule(in, SetMark(0x200|0xf), W(`FW1706 "mark 0x200 of route uplink_b set in input"`))
	b.Rule(fwd, SetMark(0x300)) // not a route's mark
	b.Rule(fwd, &policy.SetMark{Ct: true, Value: 1, Mask: 0xffffffff})
	// A chain shared by prerouting and forward still steers prerouting.
	sh := b.Chain(m, "shared")
	b.Rule(pre, Jump(sh))
	b.Rule(fwd, Jump(sh))
	b.Rule(sh, RouteMark(ua))
	late := b.Chain(m, "late")
	b.Rule(fwd, Jump(late))
	b.Rule(late, RouteMark(ub), W(`FW1705 "route uplink_b set in forward"`))
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, placement.Analyzer)
}

func TestCtAfterNotrack(t *testing.T) {
	b := New()
	raw := b.Base(b.Table("raw"), policy.Prerouting, "")
	rawOut := b.Base(b.Table("raw"), policy.Output, "")
	b.Rule(raw, UDP(), Dport(53), &policy.Notrack{})
	b.Rule(rawOut, TCP(), Dport(9100), &policy.Notrack{})
	f := b.Table("filter")
	in := b.Base(f, policy.Input, "drop")
	out := b.Base(f, policy.Output, "accept")
	b.Rule(in, Ct(policy.CtEstablished|policy.CtRelated), Accept()) // generic: fine
	b.Rule(in, UDP(), Dport(53), Ct(policy.CtEstablished), Accept(), W(`FW1707 "ct state never matches: an earlier notrack exempts these packets"`))
	b.Rule(in, UDP(), Dport(53), Iif("eth0"), Ct(policy.CtNew), Accept(), W(`FW1707 "ct state never matches"`))
	b.Rule(in, UDP(), Dport(53), Ct(policy.CtUntracked), Accept()) // asks for untracked: fine
	b.Rule(in, UDP(), Ct(policy.CtNew), Accept())                  // wider than the notrack: fine
	b.Rule(in, TCP(), Dport(53), Ct(policy.CtNew), Accept())       // other protocol: fine
	// output notrack does not reach input; it does reach output and postrouting.
	b.Rule(in, TCP(), Dport(9100), Ct(policy.CtNew), Accept())
	b.Rule(out, TCP(), Dport(9100), Ct(policy.CtNew), Accept(), W(`FW1707 "ct state never matches"`))
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, placement.Analyzer)
}
