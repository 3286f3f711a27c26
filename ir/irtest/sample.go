// Package irtest builds checked programs by hand for the backend tests,
// covering the scenarios of docs/scenarios.md until the parser and checker can
// build them from source.
package irtest

import (
	"net/netip"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// Builder makes rules with increasing source lines in File.
type Builder struct {
	File string
	line int
}

// R makes a rule of conds followed by actions.
func (b *Builder) R(conds []policy.Cond, acts ...policy.Action) *policy.Rule {
	b.line++
	src := &ast.Rule{Range: diag.Range{Filename: b.File, Start: diag.Pos{Line: b.line, Column: 1}}}
	return &policy.Rule{Src: src, Family: policy.Both, Conds: conds, Actions: acts}
}

// C lists conditions.
func C(cs ...policy.Cond) []policy.Cond { return cs }

// Net parses addresses, prefixes and lo-hi ranges.
func Net(ss ...string) []policy.AddrItem {
	var out []policy.AddrItem
	for _, s := range ss {
		if lo, hi, ok := cut(s, '-'); ok {
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

func cut(s string, c byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// Saddr and Daddr match addresses.
func Saddr(ss ...string) *policy.AddrCond {
	return &policy.AddrCond{Dir: policy.Src, Items: Net(ss...)}
}
func Daddr(ss ...string) *policy.AddrCond {
	return &policy.AddrCond{Dir: policy.Dst, Items: Net(ss...)}
}

// NotSaddr is saddr != ...
func NotSaddr(ss ...string) *policy.AddrCond {
	c := Saddr(ss...)
	c.Neg = true
	return c
}

// Proto matches protocols.
func Proto(ps ...policy.Proto) *policy.ProtoCond { return &policy.ProtoCond{Protos: ps} }

// TCP is proto tcp.
var TCP = Proto(policy.ProtoTCP)

// UDP is proto udp.
var UDP = Proto(policy.ProtoUDP)

// Dport matches destination ports (single ports).
func Dport(ps ...uint16) *policy.PortCond {
	c := &policy.PortCond{Dir: policy.Dst}
	for _, p := range ps {
		c.Ranges = append(c.Ranges, policy.PortRange{Lo: p, Hi: p})
	}
	return c
}

// Iif and Oif match interfaces; a trailing * is a wildcard.
func Iif(ns ...string) *policy.IfaceCond {
	return &policy.IfaceCond{Dir: policy.Src, Ifaces: ifaces(ns)}
}
func Oif(ns ...string) *policy.IfaceCond {
	return &policy.IfaceCond{Dir: policy.Dst, Ifaces: ifaces(ns)}
}

func ifaces(ns []string) []policy.Iface {
	var out []policy.Iface
	for _, n := range ns {
		if len(n) > 0 && n[len(n)-1] == '*' {
			out = append(out, policy.Iface{Name: n[:len(n)-1], Wildcard: true})
		} else {
			out = append(out, policy.Iface{Name: n})
		}
	}
	return out
}

// Ct matches conntrack states.
func Ct(bits uint32) *policy.CtStateCond { return &policy.CtStateCond{Bits: bits} }

// Verdicts.
var (
	Accept = &policy.Verdict{Kind: policy.Accept}
	Drop   = &policy.Verdict{Kind: policy.Drop}
	Return = &policy.Verdict{Kind: policy.Return}
)

// Reject with a language reject type ("" for the default).
func Reject(with string) *policy.Verdict { return &policy.Verdict{Kind: policy.Reject, With: with} }

// Log with a prefix at warning level.
func Log(prefix string) *policy.Log { return &policy.Log{Prefix: prefix, Level: 4} }

func base(t *policy.Table, hook policy.Hook, prio int, pol policy.VerdictKind) *policy.Chain {
	c := &policy.Chain{Table: t, Name: string(hook), Hook: hook, Priority: prio, Policy: &policy.Verdict{Kind: pol}}
	t.Chains = append(t.Chains, c)
	return c
}

func user(t *policy.Table, name string) *policy.Chain {
	c := &policy.Chain{Table: t, Name: name}
	t.Chains = append(t.Chains, c)
	return c
}

// Host is a dual-stack host and router policy that exercises every
// construct both backends can express (S1-S9, S11-S14).
func Host() *policy.Program {
	b := &Builder{File: "host.fw"}
	p := &policy.Program{}
	day := 24 * time.Hour

	white := &policy.Set{Name: "whitelist", Type: []policy.SetType{policy.IPv4Net}, Family: policy.IPv4,
		Timeout: 3 * day, Elements: []policy.SetElem{
			{Parts: []policy.SetValue{{Addr: Net("10.0.0.0/8")[0]}}},
			{Parts: []policy.SetValue{{Addr: Net("1.2.3.4")[0]}}, Timeout: time.Hour},
		}}
	bl6 := &policy.Set{Name: "blocked6", Type: []policy.SetType{policy.IPv6Net}, Family: policy.IPv6,
		Elements: []policy.SetElem{{Parts: []policy.SetValue{{Addr: Net("2001:db8:bad::/48")[0]}}}}}
	svc := &policy.Set{Name: "svc", Type: []policy.SetType{policy.IPv4Addr, policy.PortType}, Family: policy.IPv4,
		Elements: []policy.SetElem{{Parts: []policy.SetValue{{Addr: Net("10.0.0.1")[0]}, {Port: 80}}}}}
	ports := &policy.Set{Name: "admin_ports", Type: []policy.SetType{policy.PortType}, Family: policy.Both,
		Elements: []policy.SetElem{{Parts: []policy.SetValue{{Port: 8443}}}, {Parts: []policy.SetValue{{Port: 9090}}}}}
	p.Sets = []*policy.Set{white, bl6, svc, ports}

	raw := &policy.Table{Name: "raw"}
	rawPre := base(raw, policy.Prerouting, -300, policy.Accept)
	rawPre.Rules = append(rawPre.Rules,
		b.R(C(Proto(policy.ProtoICMP)), &policy.Trace{}),
		b.R(C(UDP, Dport(53)), &policy.Notrack{}),
	)

	mangle := &policy.Table{Name: "mangle"}
	mPre := base(mangle, policy.Prerouting, -150, policy.Accept)
	mPre.Rules = append(mPre.Rules,
		b.R(C(), &policy.Connmark{Restore: true, Mask: 0xffffffff}),
		b.R(C(Iif("eth0"), TCP, Dport(80)), &policy.SetMark{Value: 1, Mask: 0xffffffff}),
		b.R(C(Iif("eth0"), UDP, Dport(53)), &policy.SetMark{Value: 2, Mask: 0xffffffff}),
		b.R(C(&policy.MarkCond{Value: 0, Mask: 0xffffffff}, Saddr("10.8.0.0/24")), &policy.SetMark{Value: 0x4000, Mask: 0x4000},
			&policy.Connmark{Mask: 0xffffffff}, Accept),
		b.R(C(TCP, Dport(22)), &policy.SetTOS{Value: 0x10}),
		b.R(C(Iif("wan*")), &policy.SetTTL{Value: 64}),
	)
	mOut := base(mangle, policy.Output, -150, policy.Accept)
	mOut.Rules = append(mOut.Rules, b.R(C(UDP, Dport(53)), &policy.SetMark{Value: 2, Mask: 0xff}))

	nat := &policy.Table{Name: "nat"}
	nPre := base(nat, policy.Prerouting, -100, policy.Accept)
	nPre.Rules = append(nPre.Rules,
		b.R(C(Iif("eth0"), TCP, Dport(80)), &policy.NAT{Kind: policy.DNAT, AddrLo: netip.MustParseAddr("192.168.1.200"), PortLo: 8080}),
		b.R(C(TCP, Dport(8022)), &policy.NAT{Kind: policy.Redirect, PortLo: 22}),
		b.R(C(Daddr("10.109.146.68"), TCP, Dport(8080)), &policy.SetMark{Value: 0x4000, Mask: 0x4000},
			&policy.Balance{Name: "web", Endpoints: []netip.AddrPort{
				netip.MustParseAddrPort("10.244.0.14:80"), netip.MustParseAddrPort("10.244.1.33:80"), netip.MustParseAddrPort("10.244.2.23:80")}}),
		b.R(C(Daddr("fd00:1::80"), TCP, Dport(80)), &policy.NAT{Kind: policy.DNAT, AddrLo: netip.MustParseAddr("fd00:2::80"), PortLo: 8080}),
	)
	nOut := base(nat, policy.Output, -100, policy.Accept)
	nOut.Rules = append(nOut.Rules, b.R(C(Daddr("172.16.0.102")), &policy.NAT{Kind: policy.DNAT, AddrLo: netip.MustParseAddr("47.100.29.16")}))
	nPost := base(nat, policy.Postrouting, 100, policy.Accept)
	nPost.Rules = append(nPost.Rules,
		b.R(C(&policy.MarkCond{Value: 0x4000, Mask: 0x4000}), &policy.NAT{Kind: policy.Masquerade, RandomFully: true}),
		b.R(C(Saddr("10.8.0.0/24"), Oif("eth0")), &policy.NAT{Kind: policy.SNAT,
			AddrLo: netip.MustParseAddr("192.168.5.3"), AddrHi: netip.MustParseAddr("192.168.5.5")}),
		b.R(C(Oif("eth0")), &policy.NAT{Kind: policy.SNAT, AddrLo: netip.MustParseAddr("1.2.3.4")}),
		b.R(C(Oif("eth1")), &policy.NAT{Kind: policy.Masquerade}),
	)

	filter := &policy.Table{Name: "filter"}
	in := base(filter, policy.Input, 0, policy.Drop)
	fwd := base(filter, policy.Forward, 0, policy.Drop)
	out := base(filter, policy.Output, 0, policy.Accept)
	web := user(filter, "in_web")
	scan := user(filter, "anti_scan")
	web.Rules = append(web.Rules,
		b.R(C(TCP, Dport(80)), Accept),
		b.R(C(TCP, Dport(443)), Accept),
		b.R(C(NotSaddr("10.0.0.0/8", "172.16.0.0/12", "fd00::/8")), Log("not-internal: "), Return),
		b.R(C(&policy.IfaceCond{Dir: policy.Src, Neg: true, Ifaces: ifaces([]string{"eth0", "eth1"})}), Drop),
		b.R(C(TCP, &policy.PortCond{Dir: policy.Dst, Neg: true, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}, {Lo: 80, Hi: 80}, {Lo: 443, Hi: 443}}}), Drop),
	)
	scan.Rules = append(scan.Rules,
		b.R(C(TCP, &policy.TCPFlagsCond{Flags: policy.FIN | policy.PSH | policy.URG, Mask: 0x3f}), Drop),
		b.R(C(TCP, &policy.TCPFlagsCond{Flags: policy.SYN | policy.FIN, Mask: policy.SYN | policy.FIN}), Drop),
		b.R(C(TCP, Ct(policy.CtNew), &policy.TCPFlagsCond{Neg: true, Flags: policy.SYN, Mask: policy.FIN | policy.SYN | policy.RST | policy.ACK}), Drop),
	)
	many := &policy.PortCond{Dir: policy.Dst}
	for p := uint16(5000); p < 5020; p++ {
		many.Ranges = append(many.Ranges, policy.PortRange{Lo: p, Hi: p})
	}
	many.Ranges = append(many.Ranges, policy.PortRange{Lo: 6000, Hi: 6100})
	in.Rules = append(in.Rules,
		b.R(C(Iif("lo")), Accept),
		b.R(C(Ct(policy.CtEstablished|policy.CtRelated)), Accept),
		b.R(C(Ct(policy.CtInvalid), &policy.LimitCond{Rate: policy.Rate{Count: 1, Unit: time.Second}}),
			&policy.Log{Prefix: "invalid: ", Level: 7}),
		b.R(C(Ct(policy.CtInvalid)), Drop),
		b.R(C(), &policy.Jump{Target: scan}),
		b.R(C(Saddr("59.45.175.10")), Accept),
		b.R(C(Saddr("59.45.175.0/24")), Drop),
		b.R(C(Saddr("192.168.1.127-192.168.1.146")), Drop),
		b.R(C(Saddr("192.168.1.111", "192.168.1.118")), Accept),
		b.R(C(Saddr("10.1.1.1")), Accept),
		b.R(C(Saddr("10.1.1.2")), Drop),
		b.R(C(Saddr("10.1.1.3")), &policy.Jump{Target: web}),
		b.R(C(&policy.ICMPCond{Types: []policy.ICMPType{{Type: 8, Code: -1, Name: "echo-request"}}},
			&policy.LimitCond{Rate: policy.Rate{Count: 10, Unit: time.Minute}, Burst: 3}), Accept),
		b.R(C(&policy.ICMPCond{Types: []policy.ICMPType{{Type: 8, Code: 0}}}), Reject("")),
		b.R(C(&policy.ICMPCond{V6: true, Types: []policy.ICMPType{{Type: 135, Code: -1, Name: "nd-neighbor-solicit"}}}), Accept),
		b.R(C(&policy.ICMPCond{V6: true, Types: []policy.ICMPType{{Type: 136, Code: -1, Name: "nd-neighbor-advert"}}}), Accept),
		b.R(C(TCP, Dport(22), Ct(policy.CtNew), &policy.MeterCond{Name: "ssh", Per: policy.Src, MaskLen: -1, Over: true,
			Rate: policy.Rate{Count: 4, Unit: time.Minute}, Burst: 4}), Drop),
		b.R(C(TCP, Dport(22), &policy.ConnlimitCond{Over: true, Count: 2, MaskLen: 24}), Reject("tcp-reset")),
		b.R(C(TCP, Dport(22)), Accept),
		b.R(C(TCP, Dport(80), &policy.TimeCond{HasHour: true, HourFrom: 9 * time.Hour, HourTo: 19 * time.Hour, Days: 1<<5 | 1<<6}), Reject("")),
		b.R(C(TCP, Dport(81), &policy.TimeCond{HasDate: true, DateFrom: time.Date(2017, 12, 24, 0, 0, 0, 0, time.UTC),
			DateTo: time.Date(2017, 12, 27, 0, 0, 0, 0, time.UTC)}), Reject("")),
		b.R(C(TCP, Dport(80)), &policy.Jump{Target: web}),
		b.R(C(TCP, Dport(443)), &policy.Jump{Target: web}),
		b.R(C(TCP, many), Accept),
		b.R(C(Iif("eth0", "eth1"), TCP, Dport(8080)), Accept),
		b.R(C(&policy.AddrCond{Dir: policy.Src, Set: white}, TCP, Dport(1234)), Accept),
		b.R(C(&policy.AddrCond{Dir: policy.Src, Set: bl6}), Drop),
		b.R(C(TCP, &policy.ConcatCond{Keys: []policy.Key{policy.KeySaddr, policy.KeyDport}, Set: svc}), Accept),
		b.R(C(TCP, &policy.PortCond{Dir: policy.Dst, Set: ports}), Accept),
		b.R(C(&policy.ProbCond{P: 0.25}), &policy.Log{Prefix: "sample: ", Level: 6}, &policy.Counter{}),
		b.R(C(TCP, &policy.TCPFlagsCond{Flags: policy.RST, Mask: policy.RST},
			&policy.PortCond{Dir: policy.Src, Neg: true, Ranges: []policy.PortRange{{Lo: 3406, Hi: 3406}}}),
			&policy.Log{Prefix: "[plantegg] ", Level: 7, TCPSequence: true, TCPOptions: true, IPOptions: true}),
		b.R(C(), Log("in-drop: "), Reject("icmp-host-prohibited")),
	)
	fwd.Rules = append(fwd.Rules,
		b.R(C(Ct(policy.CtEstablished|policy.CtRelated)), Accept),
		b.R(C(Iif("eth1"), Oif("eth0")), Accept),
		b.R(C(&policy.CtStatusCond{Bits: policy.StatusDNAT}), Accept),
	)
	out.Rules = append(out.Rules, b.R(C(Oif("lo")), Accept))

	p.Tables = []*policy.Table{raw, mangle, nat, filter}
	return p
}

// StringMatch is S10: a payload string match nft cannot express.
func StringMatch() *policy.Program {
	b := &Builder{File: "string.fw"}
	filter := &policy.Table{Name: "filter"}
	in := base(filter, policy.Input, 0, policy.Accept)
	in.Rules = append(in.Rules, b.R(C(TCP, Dport(80), &policy.StringCond{Text: "OOXX", Algo: "bm"}), Reject("")))
	return &policy.Program{Tables: []*policy.Table{filter}}
}

// Generated is a filter policy of n input rules of mixed shapes (addresses
// of both families, ports, interfaces, states, logs, verdicts), as a large
// generated policy would have.
func Generated(n int) *policy.Program {
	b := &Builder{File: "gen.fw"}
	filter := &policy.Table{Name: "filter"}
	in := base(filter, policy.Input, 0, policy.Drop)
	for i := 0; i < n; i++ {
		a4 := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
		a6 := netip.AddrFrom16([16]byte{0xfd, 0, 14: byte(i >> 8), 15: byte(i)}).String()
		port := uint16(1024 + i%50000)
		switch i % 5 {
		case 0:
			in.Rules = append(in.Rules, b.R(C(Saddr(a4, a6), TCP, Dport(port)), Accept))
		case 1:
			in.Rules = append(in.Rules, b.R(C(Iif("eth"+string(rune('0'+i%10))), UDP, Dport(port, port+1)), Drop))
		case 2:
			in.Rules = append(in.Rules, b.R(C(Ct(policy.CtNew), TCP, Dport(port)), Log("new: "), Accept))
		case 3:
			in.Rules = append(in.Rules, b.R(C(NotSaddr(a4+"/32", "192.168.0.0/16")), Reject("icmp-port-unreachable")))
		case 4:
			in.Rules = append(in.Rules, b.R(C(Daddr(a4)), Drop))
		}
	}
	return &policy.Program{Tables: []*policy.Table{filter}}
}

// PerAddress is a filter policy of n rules, one per source address, as
// blocklists written rule by rule are: every other address is dropped,
// the rest accepted.
func PerAddress(n int) *policy.Program {
	b := &Builder{File: "block.fw"}
	filter := &policy.Table{Name: "filter"}
	in := base(filter, policy.Input, 0, policy.Accept)
	for i := 0; i < n; i++ {
		a := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}).String()
		v := policy.Action(Drop)
		if i%2 == 1 {
			v = Accept
		}
		in.Rules = append(in.Rules, b.R(C(Saddr(a)), v))
	}
	return &policy.Program{Tables: []*policy.Table{filter}}
}
