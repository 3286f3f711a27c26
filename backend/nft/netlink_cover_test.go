package nft_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// coverage is an ir.Ruleset made by hand with the constructs and variants
// the examples and the irfixture host policy do not reach (negated ranges, times of
// day across midnight, interval concatenations, icmp codes, NAT ranges,
// verdict maps on ports, interfaces and protocols, ...), so that the
// differential test sees every way Build encodes a match or action.
func coverage() *ir.Ruleset {
	line := 0
	// portProto records the protocol a port match is written for; rule
	// gives a rule without a protocol match that protocol's match, which
	// the port match reads (ir.Rule.PortProto).
	portProto := map[*policy.PortCond]policy.Proto{}
	rule := func(f ir.Family, ms []policy.Cond, as ...policy.Action) *ir.Rule {
		line++
		hasProto := slices.ContainsFunc(ms, func(m policy.Cond) bool { _, ok := m.(*policy.ProtoCond); return ok })
		for _, m := range ms {
			if pc, ok := m.(*policy.PortCond); ok && portProto[pc] != 0 && !hasProto {
				ms = append([]policy.Cond{&policy.ProtoCond{Protos: []policy.Proto{portProto[pc]}}}, ms...)
				break
			}
		}
		return &ir.Rule{Family: f, Matches: ms, Actions: as, Pos: []ir.Pos{{File: "cover.fw", Line: line}}}
	}
	ms := func(m ...policy.Cond) []policy.Cond { return m }
	addr := func(d policy.Dir, neg bool, ss ...string) *policy.AddrCond {
		return &policy.AddrCond{Dir: d, Neg: neg, Items: addrItems(ss...)}
	}
	port := func(p policy.Proto, neg bool, rs ...policy.PortRange) *policy.PortCond {
		pc := &policy.PortCond{Dir: policy.Dst, Neg: neg, Ranges: rs}
		portProto[pc] = p
		return pc
	}
	pr := func(lo, hi uint16) policy.PortRange { return policy.PortRange{Lo: lo, Hi: hi} }
	tcp := &policy.ProtoCond{Protos: []policy.Proto{policy.ProtoTCP}}
	accept := &policy.Verdict{Kind: policy.Accept}
	drop := &policy.Verdict{Kind: policy.Drop}
	reject := func(with string) *policy.Verdict { return &policy.Verdict{Kind: policy.Reject, With: with} }
	// pset is the policy's set a condition names, declared by s.
	pset := func(s *ir.Set) *policy.Set {
		return &policy.Set{Name: s.Name, Type: s.Type, Family: policy.Family(s.Family), Timeout: s.Timeout, Elements: s.Elements}
	}
	elem := func(vs ...policy.SetValue) policy.SetElem { return policy.SetElem{Parts: vs} }
	av := func(s string) policy.SetValue { return policy.SetValue{Addr: addrItems(s)[0]} }

	marks := &ir.Set{Name: "marks", Type: []policy.SetType{policy.MarkT}, Family: ir.Both,
		Elements: []policy.SetElem{elem(policy.SetValue{Mark: 1}), elem(policy.SetValue{Mark: 0x4000})}}
	ifs := &ir.Set{Name: "uplinks", Type: []policy.SetType{policy.IfaceT}, Family: ir.Both,
		Elements: []policy.SetElem{elem(policy.SetValue{Iface: "eth1"}), elem(policy.SetValue{Iface: "eth2"})}}
	ports := &ir.Set{Name: "ports", Type: []policy.SetType{policy.PortType}, Family: ir.Both,
		Elements: []policy.SetElem{elem(policy.SetValue{Port: 22}), elem(policy.SetValue{Port: 8080})}}
	nets6 := &ir.Set{Name: "nets6", Type: []policy.SetType{policy.IPv6Net}, Family: ir.IPv6, Interval: true, Timeout: time.Hour,
		Elements: []policy.SetElem{
			{Parts: []policy.SetValue{av("2001:db8::/32")}, Timeout: 2 * time.Hour},
			{Parts: []policy.SetValue{av("fd00::1-fd00::9")}},
			elem(av("::1")),
		}}
	pairs := &ir.Set{Name: "pairs", Type: []policy.SetType{policy.IfaceT, policy.MarkT}, Family: ir.Both,
		Elements: []policy.SetElem{elem(policy.SetValue{Iface: "eth0"}, policy.SetValue{Mark: 7})}}
	svc6 := &ir.Set{Name: "svc6", Type: []policy.SetType{policy.IPv6Net, policy.PortType}, Family: ir.IPv6, Interval: true,
		Elements: []policy.SetElem{elem(av("2001:db8:1::/48"), policy.SetValue{Port: 443}), elem(av("fd00::5"), policy.SetValue{Port: 80})}}
	sets := []*ir.Set{marks, ifs, ports, nets6, pairs, svc6}

	filter := &ir.Table{Name: "filter"}
	in := &ir.Chain{Table: filter, Name: "input", Hook: policy.Input, Type: ir.TypeFilter, Priority: 0, Policy: policy.Drop}
	other := &ir.Chain{Table: filter, Name: "other"}
	filter.Chains = []*ir.Chain{in, other}
	other.Rules = []*ir.Rule{rule(ir.Both, nil, &policy.Log{Level: 7}, &policy.Verdict{Kind: policy.Return})}
	in.Rules = []*ir.Rule{
		rule(ir.IPv4, ms(addr(policy.Src, false, "10.0.0.0/12")), accept),
		rule(ir.IPv4, ms(addr(policy.Src, true, "10.0.0.0/12")), accept),
		rule(ir.IPv4, ms(addr(policy.Dst, false, "1.1.1.1-1.1.1.5")), drop),
		rule(ir.IPv4, ms(addr(policy.Dst, true, "1.1.1.1-1.1.1.5")), drop),
		rule(ir.IPv6, ms(addr(policy.Src, true, "fd00::/7", "2001:db8::1-2001:db8::7", "::1")), drop),
		rule(ir.IPv4, ms(addr(policy.Src, false, "0.0.0.0/0")), &policy.Counter{}),
		rule(ir.Both, ms(tcp, port(policy.ProtoTCP, false, pr(6000, 6100))), accept),
		rule(ir.Both, ms(tcp, port(policy.ProtoTCP, true, pr(6000, 6100))), drop),
		rule(ir.Both, ms(port(policy.ProtoUDP, true, pr(53, 53), pr(67, 68))), drop),
		rule(ir.Both, ms(port(0, false, pr(53, 53))), accept),
		rule(ir.Both, ms(&policy.IfaceCond{Dir: policy.Src, Neg: true, Ifaces: []policy.Iface{{Name: "wan", Wildcard: true}}}), drop),
		rule(ir.Both, ms(&policy.IfaceCond{Dir: policy.Src, Ifaces: []policy.Iface{{Name: "eth", Wildcard: true}, {Name: "ppp0"}}}), accept),
		rule(ir.Both, ms(&policy.ProtoCond{Neg: true, Protos: []policy.Proto{policy.ProtoTCP, policy.ProtoUDP}}), drop),
		rule(ir.Both, ms(&policy.ProtoCond{Neg: true, Protos: []policy.Proto{policy.ProtoSCTP}}), &policy.Counter{}),
		rule(ir.IPv4, ms(&policy.ICMPCond{Neg: true, Types: []policy.ICMPType{{Type: 8, Code: -1, Name: "echo-request"}, {Type: 0, Code: -1, Name: "echo-reply"}}}), drop),
		rule(ir.IPv4, ms(&policy.ICMPCond{Types: []policy.ICMPType{{Type: 3, Code: 3}, {Type: 3, Code: 1}}}), accept),
		rule(ir.IPv4, ms(&policy.ICMPCond{Neg: true, Types: []policy.ICMPType{{Type: 3, Code: 4}}}), accept),
		rule(ir.IPv6, ms(&policy.ICMPCond{V6: true, Types: []policy.ICMPType{{Type: 1, Code: 4}}}), accept),
		rule(ir.Both, ms(&policy.TCPFlagsCond{Flags: policy.SYN, Mask: policy.SYN | policy.ACK}), accept),
		rule(ir.Both, ms(&policy.CtStateCond{Neg: true, Bits: policy.CtUntracked | policy.CtNew}), drop),
		rule(ir.Both, ms(&policy.CtStateCond{Neg: true, Bits: policy.CtNew}), &policy.Counter{}),
		rule(ir.Both, ms(&policy.CtStatusCond{Bits: policy.StatusDying | policy.StatusSNAT}), drop),
		rule(ir.Both, ms(&policy.CtStatusCond{Neg: true, Bits: policy.StatusAssured}), &policy.Counter{}),
		rule(ir.Both, ms(&policy.MarkCond{Neg: true, Value: 0x10, Mask: 0xf0}), accept),
		rule(ir.Both, ms(&policy.MarkCond{Ct: true, Value: 0x5, Mask: 0xffffffff}), accept),
		rule(ir.Both, ms(&policy.LimitCond{Over: true, Rate: policy.Rate{Count: 100, Unit: time.Hour}, Burst: 20}), drop),
		rule(ir.Both, ms(&policy.LimitCond{Rate: policy.Rate{Count: 3, Unit: 24 * time.Hour}}), accept),
		rule(ir.Both, ms(&policy.TimeCond{HasHour: true, HourFrom: 22 * time.Hour, HourTo: 6*time.Hour + 30*time.Minute}), drop),
		rule(ir.Both, ms(&policy.TimeCond{Neg: true, HasHour: true, HourFrom: 8 * time.Hour, HourTo: 17*time.Hour + 15*time.Second}), drop),
		rule(ir.Both, ms(&policy.TimeCond{Days: 1 << 2}), drop),
		rule(ir.Both, ms(&policy.TimeCond{Neg: true, Days: 1<<0 | 1<<4}), drop),
		rule(ir.Both, ms(&policy.TimeCond{Neg: true, HasDate: true, DateFrom: time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC), DateTo: time.Date(2026, 12, 27, 12, 30, 0, 0, time.UTC)}), drop),
		rule(ir.Both, ms(&policy.ProbCond{P: 0.25}), &policy.Log{IPOptions: true}),
		rule(ir.Both, ms(&policy.MarkCond{Value: 1, Mask: 0xffffffff}), &policy.Log{TCPSequence: true}, &ir.Jump{Goto: true, Target: other}),
		rule(ir.Both, ms(&policy.ConcatCond{Keys: []policy.Key{policy.KeyIif, policy.KeyMark}, Set: pset(pairs)}), accept),
		rule(ir.IPv6, ms(tcp, &policy.ConcatCond{Neg: true, Keys: []policy.Key{policy.KeyDaddr, policy.KeyDport}, Set: pset(svc6)}), drop),
		rule(ir.Both, ms(&policy.ProtoCond{Protos: []policy.Proto{policy.ProtoUDP}}, &policy.IfaceCond{Dir: policy.Dst, Set: pset(ifs)}, &policy.PortCond{Dir: policy.Src, Neg: true, Set: pset(ports)}), accept),
		rule(ir.IPv6, ms(&policy.AddrCond{Dir: policy.Dst, Neg: true, Set: pset(nets6)}), accept),
		rule(ir.Both, ms(&policy.ConcatCond{Keys: []policy.Key{policy.KeyMark}, Set: pset(marks)}), accept),
		// Adjacent rules Merge turns into verdict maps on a port, an
		// interface and a protocol.
		rule(ir.Both, ms(port(policy.ProtoUDP, false, pr(1000, 1000))), accept),
		rule(ir.Both, ms(port(policy.ProtoUDP, false, pr(1001, 1001))), drop),
		rule(ir.Both, ms(port(policy.ProtoUDP, false, pr(1002, 1002))), &ir.Jump{Target: other}),
		rule(ir.Both, ms(&policy.IfaceCond{Dir: policy.Src, Ifaces: []policy.Iface{{Name: "veth0"}}}), accept),
		rule(ir.Both, ms(&policy.IfaceCond{Dir: policy.Src, Ifaces: []policy.Iface{{Name: "veth1"}}}), &ir.Jump{Goto: true, Target: other}),
		rule(ir.Both, ms(&policy.ProtoCond{Protos: []policy.Proto{policy.ProtoSCTP}}), drop),
		rule(ir.Both, ms(&policy.ProtoCond{Protos: []policy.Proto{policy.ProtoUDPLite}}), accept),
		rule(ir.IPv6, ms(tcp, port(policy.ProtoTCP, false, pr(7, 7))), reject("")),
		rule(ir.IPv6, ms(tcp, port(policy.ProtoTCP, false, pr(9, 9))), reject("net-unreachable")),
		rule(ir.IPv4, ms(tcp, port(policy.ProtoTCP, false, pr(11, 11))), reject("net-prohibited")),
		rule(ir.Both, ms(tcp, port(policy.ProtoTCP, false, pr(13, 13))), reject("host-unreachable")),
		rule(ir.Both, nil, reject("tcp-reset")),
	}

	raw := &ir.Table{Name: "raw"}
	rawPre := &ir.Chain{Table: raw, Name: "prerouting", Hook: policy.Prerouting, Type: ir.TypeFilter, Priority: -300, Policy: policy.Accept}
	raw.Chains = []*ir.Chain{rawPre}
	rawPre.Rules = []*ir.Rule{
		rule(ir.Both, ms(port(policy.ProtoUDP, false, pr(123, 123))), &policy.Notrack{}, &policy.Trace{}),
	}

	mangle := &ir.Table{Name: "mangle"}
	manPre := &ir.Chain{Table: mangle, Name: "prerouting", Hook: policy.Prerouting, Type: ir.TypeFilter, Priority: -150, Policy: policy.Accept}
	manOut := &ir.Chain{Table: mangle, Name: "output", Hook: policy.Output, Type: ir.TypeRoute, Priority: -150, Policy: policy.Accept}
	mangle.Chains = []*ir.Chain{manPre, manOut}
	manPre.Rules = []*ir.Rule{
		rule(ir.Both, nil, &policy.SetMark{Ct: true, Value: 0x100, Mask: 0xff00}),
		rule(ir.Both, nil, &policy.SetMark{Value: 0x3, Mask: 0x3}),
		rule(ir.Both, nil, &policy.Connmark{Mask: 0xffffffff}),
		rule(ir.IPv4, nil, &policy.SetTOS{Value: 0xb8}),
		rule(ir.IPv6, nil, &policy.SetTOS{Value: 0xb8}),
		rule(ir.IPv4, ms(addr(policy.Dst, false, "192.0.2.1")), &policy.SetTTL{Value: 1}),
	}
	manOut.Rules = []*ir.Rule{rule(ir.Both, nil, &policy.SetMark{Value: 0x2a, Mask: 0xffffffff})}

	nat := &ir.Table{Name: "nat"}
	natPre := &ir.Chain{Table: nat, Name: "prerouting", Hook: policy.Prerouting, Type: ir.TypeNAT, Priority: -100, Policy: policy.Accept}
	natPost := &ir.Chain{Table: nat, Name: "postrouting", Hook: policy.Postrouting, Type: ir.TypeNAT, Priority: 100, Policy: policy.Accept}
	nat.Chains = []*ir.Chain{natPre, natPost}
	a := netip.MustParseAddr
	natPre.Rules = []*ir.Rule{
		rule(ir.Both, ms(tcp, port(policy.ProtoTCP, false, pr(2222, 2222))), &policy.NAT{Kind: policy.Redirect, PortLo: 22, PortHi: 25, Random: true}),
		rule(ir.Both, ms(tcp, port(policy.ProtoTCP, false, pr(2223, 2223))), &policy.NAT{Kind: policy.Redirect}),
		rule(ir.IPv4, ms(tcp, port(policy.ProtoTCP, false, pr(80, 80))), &policy.NAT{Kind: policy.DNAT, AddrLo: a("10.0.0.1"), AddrHi: a("10.0.0.4"), PortLo: 8080, PortHi: 8090, Persistent: true}),
		rule(ir.IPv6, ms(tcp, port(policy.ProtoTCP, false, pr(80, 80))), &policy.NAT{Kind: policy.DNAT, AddrLo: a("fd00::80"), AddrHi: a("fd00::80"), PortLo: 8080, PortHi: 8080}),
		rule(ir.IPv6, ms(addr(policy.Dst, false, "fd00:1::1"), tcp, port(policy.ProtoTCP, false, pr(443, 443))),
			&policy.Balance{Name: "web6", Endpoints: []netip.AddrPort{netip.MustParseAddrPort("[fd00:2::1]:8443"), netip.MustParseAddrPort("[fd00:2::2]:8443")}}),
	}
	natPost.Rules = []*ir.Rule{
		rule(ir.IPv6, ms(addr(policy.Src, false, "fd00::/64")), &policy.NAT{Kind: policy.SNAT, AddrLo: a("2001:db8::1"), AddrHi: a("2001:db8::5")}),
		rule(ir.IPv4, ms(addr(policy.Src, false, "10.0.0.0/8")), &policy.NAT{Kind: policy.SNAT, AddrLo: a("192.0.2.1"), AddrHi: a("192.0.2.1"), RandomFully: true}),
		rule(ir.Both, ms(&policy.IfaceCond{Dir: policy.Dst, Ifaces: []policy.Iface{{Name: "ppp0"}}}), &policy.NAT{Kind: policy.Masquerade, Random: true, Persistent: true}),
	}
	return &ir.Ruleset{Tables: []*ir.Table{raw, mangle, nat, filter}, Sets: sets}
}

func TestBuildCoverage(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	differential(t, coverage())
}

// addrItems parses addresses, prefixes and lo-hi ranges.
func addrItems(ss ...string) []policy.AddrItem {
	var out []policy.AddrItem
	for _, s := range ss {
		if lo, hi, ok := strings.Cut(s, "-"); ok {
			out = append(out, policy.AddrItem{Lo: netip.MustParseAddr(lo), Hi: netip.MustParseAddr(hi)})
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, policy.AddrItem{Prefix: p})
			continue
		}
		a := netip.MustParseAddr(s)
		out = append(out, policy.AddrItem{Prefix: netip.PrefixFrom(a, a.BitLen())})
	}
	return out
}
