package ifacedir_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/ifacedir"
	. "github.com/fwcproject/fwc/check/passes/internal/ptest"
	"github.com/fwcproject/fwc/check/policy"
)

func TestIfaceDir(t *testing.T) {
	b := New()
	f := b.Table("filter")
	in := b.Base(f, policy.Input, "drop")
	fwd := b.Base(f, policy.Forward, "drop")
	out := b.Base(f, policy.Output, "accept")
	fromIn := b.Chain(f, "from_in")
	fromFwd := b.Chain(f, "from_fwd")
	shared := b.Chain(f, "shared")
	deep := b.Chain(f, "deep")
	orphan := b.Chain(f, "orphan")

	// Base chains.
	b.Rule(in, Iif("eth0"), Accept())
	b.Rule(in, Oif("eth1"), Accept(), W(`FW1402 "oif in the input hook: packets there have no output interface"`))
	b.Rule(in, NotOif("eth1"), Accept(), W(`FW1402 "oif in the input hook"`))
	b.Rule(out, Iif("eth0"), Accept(), W(`FW1401 "iif in the output hook: packets there have no input interface"`))
	b.Rule(out, Oif("eth0"), Accept())
	b.Rule(fwd, Iif("eth0"), Oif("eth1"), Accept())
	b.Rule(out, &policy.ConcatCond{Keys: []policy.Key{policy.KeyIif, policy.KeySaddr}, Set: &policy.Set{Name: "s"}}, Drop(), W(`FW1401 "iif in the output hook"`))

	// Through user chains: an oif in a chain jumped to from input is
	// flagged, one jumped to only from forward is not.
	b.Rule(in, Jump(fromIn))
	b.Rule(fromIn, TCP(), Goto(deep))
	b.Rule(fromIn, Oif("eth1"), Accept(), W(`FW1402 "oif in chain from_in: packets there have no output interface"`))
	b.Rule(deep, Oif("eth2"), Drop(), W(`FW1402 "oif in chain deep"`))
	b.Rule(fwd, Jump(fromFwd))
	b.Rule(fromFwd, Oif("eth1"), Iif("eth0"), Accept())

	// A chain shared by input and forward: a positive oif is fine (it
	// only matches on the forward path); a negated one differs by backend.
	b.Rule(in, Jump(shared))
	b.Rule(fwd, Jump(shared))
	b.Rule(shared, Oif("eth1"), Accept())
	b.Rule(shared, NotOif("eth1"), Drop(), W(`FW1403 "negated oif in chain shared, which input reaches without an output interface"`))
	b.Rule(shared, Iif("eth0"), Accept())

	// Unreachable: left to the chains pass.
	b.Rule(orphan, Oif("eth1"), Iif("x"), Accept())

	// Output and postrouting reach a chain with iif.
	nat := b.Table("nat")
	post := b.Base(nat, policy.Postrouting, "")
	natOut := b.Base(nat, policy.Output, "")
	masq := b.Chain(nat, "masq")
	b.Rule(post, Jump(masq))
	b.Rule(natOut, Jump(masq))
	b.Rule(masq, Iif("eth0"), &policy.NAT{Kind: policy.Masquerade}, W(`FW1401 "iif in chain masq"`))
	b.Rule(masq, Oif("eth0"), &policy.NAT{Kind: policy.Masquerade})

	ds := analysistest.RunProgram(t, b.Prog, analysis.Options{}, ifacedir.Analyzer)
	for _, d := range ds {
		if d.Summary == "oif in chain deep: packets there have no output interface" && len(d.Related) != 2 {
			t.Errorf("deep: want the two jumps from input as related positions, got %v", d.Related)
		}
	}
}
