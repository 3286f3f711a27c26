package space

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// Witness returns one concrete packet of a non-empty cube of s, choosing
// in each field a value a reader recognises and a test can send: a
// documentation address or the first usable one of a network, an
// ephemeral source port, destination port 80, tcp, "eth0"-like interface names, ct state new,
// marks 0, the tcp flags of the packet's ct state.
func Witness(s *Space, c *Cube) sem.Packet {
	var pt sem.Point
	pt.V6 = s.V6
	pick := func(d Dim, prefer ...u128) u128 {
		for _, v := range prefer {
			if c[d].Has(v) {
				return v
			}
		}
		// The first value of the set, or the next one when the first is a
		// network's own address (x.x.x.0) and the next is in the set too.
		v := c[d].Min()
		if (d == SAddr || d == DAddr) && v.Lo&0xff == 0 && c[d].Has(v.Inc()) {
			v = v.Inc()
		}
		return v
	}
	addr := func(a string) u128 {
		p := sem.Packet{Src: netip.MustParseAddr(a), Dst: netip.MustParseAddr(a)}
		return p.Point().F[SAddr]
	}
	iface := func(names ...string) []u128 {
		var out []u128
		for _, n := range names {
			p := sem.Packet{Src: netip.IPv4Unspecified(), Dst: netip.IPv4Unspecified(), InIface: n}
			out = append(out, p.Point().F[IIf])
		}
		return out
	}
	if s.V6 {
		pt.F[SAddr] = pick(SAddr, addr("2001:db8::1"))
		pt.F[DAddr] = pick(DAddr, addr("2001:db8:1::1"))
	} else {
		pt.F[SAddr] = pick(SAddr, addr("192.0.2.1"))
		pt.F[DAddr] = pick(DAddr, addr("198.51.100.1"))
	}
	pt.F[Proto] = pick(Proto, sem.U64(6), sem.U64(17), sem.U64(1), sem.U64(58))
	pt.F[SPort] = pick(SPort, sem.U64(40000))
	pt.F[DPort] = pick(DPort, sem.U64(80))
	names := iface("eth0", "eth1", "eth2", "wan0", "lan0")
	pt.F[IIf] = pick(IIf, append([]u128{{}}, names...)...)
	pt.F[OIf] = pick(OIf, append([]u128{{}}, names...)...)
	pt.F[CtState] = pick(CtState, sem.U64(3), sem.U64(1))
	pt.F[CtStatus] = pick(CtStatus, sem.U64(0))
	echo := sem.U64(8 << 8)
	if s.V6 {
		echo = sem.U64(128 << 8)
	}
	pt.F[ICMP] = pick(ICMP, echo)
	syn, ack := sem.U64(uint64(policy.SYN)), sem.U64(uint64(policy.ACK))
	if pt.F[CtState] == sem.U64(3) {
		pt.F[TCPFlags] = pick(TCPFlags, syn, ack)
	} else {
		pt.F[TCPFlags] = pick(TCPFlags, ack, syn)
	}
	pt.F[Mark] = pick(Mark, sem.U128{})
	pt.F[CtMark] = pick(CtMark, sem.U128{})
	return pt.Packet()
}

// Words writes p in the words of fwc's rules, with the way it crosses the
// host first: "to self tcp saddr 192.0.2.1 sport 40000 daddr 10.0.0.1
// dport 22 iif eth0 ct state new". Fields with their usual value (no
// interface on the side the path has none, marks 0, ct status 0 on a new
// connection, the tcp flags of the state) are left out.
func Words(p sem.Packet, path sem.Path) string {
	parts := []string{path.String()}
	add := func(f string, args ...any) { parts = append(parts, fmt.Sprintf(f, args...)) }
	switch p.Proto {
	case policy.ProtoTCP:
		add("tcp")
	case policy.ProtoUDP:
		add("udp")
	case policy.ProtoICMP:
		add("icmp")
	case policy.ProtoICMPv6:
		add("icmpv6")
	default:
		add("proto %d", p.Proto)
	}
	add("saddr %s", p.Src)
	if p.Proto.HasPorts() {
		add("sport %d", p.SrcPort)
	}
	add("daddr %s", p.Dst)
	if p.Proto.HasPorts() {
		add("dport %d", p.DstPort)
	}
	if p.Proto == policy.ProtoICMP || p.Proto == policy.ProtoICMPv6 {
		add("type %d code %d", p.ICMPType, p.ICMPCode)
	}
	if p.InIface != "" {
		add("iif %s", p.InIface)
	}
	if p.OutIface != "" {
		add("oif %s", p.OutIface)
	}
	state := ""
	for i, n := range []string{"invalid", "established", "related", "new", "untracked"} {
		if p.CtState == 1<<i {
			state = n
		}
	}
	add("ct state %s", state)
	if p.CtStatus != 0 {
		add("ct status 0x%x", p.CtStatus)
	}
	if p.Proto == policy.ProtoTCP {
		usual := policy.ACK
		if p.CtState == policy.CtNew {
			usual = policy.SYN
		}
		if p.TCPFlags != usual {
			add("tcp flags 0x%02x", p.TCPFlags)
		}
	}
	if p.Mark != 0 {
		add("mark 0x%x", p.Mark)
	}
	if p.CtMark != 0 {
		add("ct mark 0x%x", p.CtMark)
	}
	return strings.Join(parts, " ")
}
