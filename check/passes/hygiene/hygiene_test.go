package hygiene_test

import (
	"net/netip"
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/hygiene"
	. "github.com/fwcproject/fwc/check/passes/internal/ptest"
	"github.com/fwcproject/fwc/check/policy"
)

// good adds the rules of a healthy host, through a user chain for ssh.
func good(b *Builder, in *policy.Chain) {
	b.Rule(in, Iif("lo"), Accept())
	b.Rule(in, Ct(policy.CtEstablished|policy.CtRelated), Accept())
	b.Rule(in, Ct(policy.CtInvalid), Drop())
	b.Rule(in, Proto(policy.ProtoICMPv6), ICMPv6(135, 136), Accept())
	admin := b.Chain(in.Table, "admin")
	b.Rule(in, TCP(), Jump(admin))
	b.Rule(admin, &policy.AddrCond{Dir: policy.Src, Items: []policy.AddrItem{{Prefix: netip.MustParsePrefix("10.0.0.0/8")}}}, Dport(22), Ct(policy.CtNew), Accept())
}

func TestHealthyHost(t *testing.T) {
	b := New()
	in := b.Base(b.Table("filter"), policy.Input, "drop")
	good(b, in)
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, hygiene.Analyzer)
}

func TestBareDropPolicy(t *testing.T) {
	b := New()
	in := b.Base(b.Table("filter"), policy.Input, "drop",
		`FW1301 "filter input chain drops by default but does not accept ct state established,related"`,
		`FW1302 "does not accept icmpv6 nd-neighbor-solicit, nd-neighbor-advert"`,
		`FW1303 "accepts no new ssh .tcp/22. connection: lock-out"`,
		`FW1304 "does not accept loopback traffic"`)
	b.Rule(in, TCP(), Dport(80, 443), Accept())
	b.Rule(in, Iif("eth0"), UDP(), Dport(53), Accept())
	// Traffic from lo is dropped by an explicit rule: not an accept.
	b.Rule(in, Iif("lo"), Drop())
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, hygiene.Analyzer)
}

func TestPartialAndNegated(t *testing.T) {
	b := New()
	in := b.Base(b.Table("filter"), policy.Input, "drop",
		`FW1301 "does not accept ct state related"`,
		`FW1302 "does not accept icmpv6 nd-neighbor-advert"`,
		`FW1303 "lock-out"`)
	b.Rule(in, &policy.AddrCond{Dir: policy.Src, Items: []policy.AddrItem{{Prefix: netip.MustParsePrefix("127.0.0.0/8")}}}, Accept())
	b.Rule(in, Ct(policy.CtEstablished), Accept())
	b.Rule(in, ICMPv6(135), Accept())
	// Not tcp/22: the negation excludes it.
	b.Rule(in, TCP(), &policy.PortCond{Dir: policy.Dst, Neg: true, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}}}, Accept())
	// ssh only established: not new connections.
	b.Rule(in, TCP(), Dport(22), Ct(policy.CtEstablished), Accept())
	// ssh only over lo does not help a remote admin.
	b.Rule(in, Iif("lo"), TCP(), Dport(22), Accept())
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, hygiene.Analyzer)
}

func TestNotJudged(t *testing.T) {
	b := New()
	f := b.Table("filter")
	// Accept policy: nothing to judge.
	in := b.Base(f, policy.Input, "accept")
	b.Rule(in, TCP(), Dport(23), Drop())
	// Forward and output are not the host's input.
	b.Base(f, policy.Forward, "drop")
	b.Base(f, policy.Output, "drop")
	// An unconditional accept before the drop accepts everything.
	sec := b.Base(b.Table("security"), policy.Input, "drop")
	b.Rule(sec, Accept())
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, hygiene.Analyzer)
}

func TestDropRuleAndBackends(t *testing.T) {
	b := New()
	in := b.Base(b.Table("filter"), policy.Input, "accept")
	b.Rule(in, Iif("lo"), Accept())
	b.Rule(in, Ct(policy.CtEstablished|policy.CtRelated), Accept())
	b.Rule(in, TCP(), Dport(22), Accept())
	// A zone policy lowered to a final unconditional drop rule.
	b.Rule(in, policy.FromPolicy, Reject(), W(`FW1302 "filter input chain drops by default but does not accept icmpv6"`))
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, hygiene.Analyzer)
	// iptables alone carries no IPv6: no FW1302.
	b = New()
	in = b.Base(b.Table("filter"), policy.Input, "drop")
	b.Rule(in, Iif("lo"), Accept())
	b.Rule(in, Ct(policy.CtEstablished|policy.CtRelated), Accept())
	b.Rule(in, TCP(), Dport(22), Accept())
	analysistest.RunProgram(t, b.Prog, analysis.Options{Backends: []string{"iptables"}}, hygiene.Analyzer)
}
