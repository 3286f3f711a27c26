package equiv

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strings"

	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// witness picks one packet of c that a reader recognises and a test can
// send: tcp or udp before other protocols, a first packet (ct state new,
// tcp flag syn), an unprivileged source port, addresses outside 0.0.0.0/8,
// 127.0.0.0/8 and multicast, interfaces the policies name.
func witness(s *sem.Space, c *sem.Cube, h policy.Hook, ifaces []string) sem.Point {
	pt := sem.Point{V6: s.V6}
	for d := range sem.NDim {
		pt.F[d] = c[d].Min()
	}
	prefer := func(d sem.Dim, vs ...uint64) {
		for _, v := range vs {
			if c[d].Has(sem.U64(v)) {
				pt.F[d] = sem.U64(v)
				return
			}
		}
	}
	prefer(sem.Proto, 17, 6, 1, 58)
	prefer(sem.CtState, 3)
	// A syn; else an ack, a syn-ack, a fin-ack, a reset: `fwc trace`
	// reads flags by name, so a packet with none is not chosen when the
	// class has another.
	prefer(sem.TCPFlags, 0x02, 0x10, 0x12, 0x11, 0x04)
	if pt.F[sem.TCPFlags].Lo == 0 {
		if rest := c[sem.TCPFlags].Minus(sem.Single(sem.U128{})); !rest.Empty() {
			pt.F[sem.TCPFlags] = rest.Min()
		}
	}
	if s.V6 {
		prefer(sem.ICMP, 128<<8)
	} else {
		prefer(sem.ICMP, 8<<8)
	}
	pt.F[sem.SPort] = atLeast(c[sem.SPort], 40000, 1024, 1)
	pt.F[sem.DPort] = atLeast(c[sem.DPort], 1)
	pt.F[sem.SAddr] = address(c[sem.SAddr], s.V6)
	pt.F[sem.DAddr] = address(c[sem.DAddr], s.V6)
	pt.F[sem.IIf] = iface(c[sem.IIf], ifaces)
	pt.F[sem.OIf] = iface(c[sem.OIf], ifaces)
	return pt
}

// atLeast returns the first value of set at or above one of floors, tried
// in order, or the set's least value.
func atLeast(set sem.Intervals, floors ...uint64) sem.U128 {
	for _, f := range floors {
		for _, iv := range set {
			if iv.Hi.Lo >= f {
				return sem.U64(max(iv.Lo.Lo, f))
			}
		}
	}
	return set.Min()
}

func address(set sem.Intervals, v6 bool) sem.U128 {
	bad := func(v sem.U128) bool {
		a := v.Addr(v6)
		return a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() || !v6 && a.As4()[0] == 0 ||
			v6 && (a.IsLinkLocalUnicast() || v.Hi == 0)
	}
	for _, iv := range set {
		for _, v := range []sem.U128{iv.Lo.Inc(), iv.Lo} {
			if iv.Lo.Less(v) && iv.Hi.Less(v) || v.Less(iv.Lo) {
				continue
			}
			if !bad(v) {
				return v
			}
		}
	}
	var try []string
	if v6 {
		try = []string{"2001:db8::1", "fd00::1", "2001:db8:ffff::1"}
	} else {
		try = []string{"192.0.2.1", "198.51.100.1", "203.0.113.1", "10.0.0.1", "1.1.1.1"}
	}
	for _, t := range try {
		v := keyOf(netip.MustParseAddr(t))
		if set.Has(v) {
			return v
		}
	}
	return set.Min()
}

func iface(set sem.Intervals, names []string) sem.U128 {
	for _, n := range append(names, "eth0", "eth1", "eth2", "eth9", "lo") {
		if v := ifaceKey(n); set.Has(v) {
			return v
		}
	}
	return set.Min()
}

func keyOf(a netip.Addr) sem.U128 {
	p := sem.Packet{Src: a, Dst: a}
	return p.Point().F[sem.SAddr]
}

func ifaceKey(name string) sem.U128 {
	p := sem.Packet{Src: netip.IPv4Unspecified(), Dst: netip.IPv4Unspecified(), InIface: name}
	return p.Point().F[sem.IIf]
}

// Words writes the packet at pt as it meets hook h in fwc's match words,
// the way `fwc trace` reads a packet: "iif eth0 to self saddr 192.0.2.1
// daddr 198.51.100.1 udp sport 40000 dport 53 ct state new".
func Words(pt sem.Point, h policy.Hook) string {
	p := pt.Packet()
	var w []string
	add := func(f string, a ...any) { w = append(w, fmt.Sprintf(f, a...)) }
	switch h {
	case policy.Input:
		add("iif %s to self", p.InIface)
	case policy.Output:
		add("from self oif %s", p.OutIface)
	case policy.Prerouting:
		add("iif %s", p.InIface)
	case policy.Forward:
		add("iif %s oif %s", p.InIface, p.OutIface)
	case policy.Postrouting:
		if p.InIface == "" {
			add("from self oif %s", p.OutIface)
		} else {
			add("iif %s oif %s", p.InIface, p.OutIface)
		}
	}
	add("saddr %s daddr %s", p.Src, p.Dst)
	switch {
	case p.Proto.HasPorts():
		add("%s sport %d dport %d", protoWord(p.Proto), p.SrcPort, p.DstPort)
	case p.Proto == policy.ProtoICMP || p.Proto == policy.ProtoICMPv6:
		add("%s type %d code %d", protoWord(p.Proto), p.ICMPType, p.ICMPCode)
	default:
		add("proto %d", p.Proto)
	}
	if p.Proto == policy.ProtoTCP && p.TCPFlags != 0x02 {
		add("tcp flags %s", flagWords(p.TCPFlags))
	}
	add("ct state %s", ctStateWord(p.CtState))
	if p.CtStatus != 0 {
		add("ct status %s", statusWords(p.CtStatus))
	}
	if p.Mark != 0 {
		add("mark 0x%x", p.Mark)
	}
	if p.CtMark != 0 {
		add("ct mark 0x%x", p.CtMark)
	}
	return strings.Join(w, " ")
}

func protoWord(p policy.Proto) string {
	switch p {
	case policy.ProtoICMPv6:
		return "icmpv6"
	case policy.ProtoTCP, policy.ProtoUDP, policy.ProtoICMP, policy.ProtoSCTP, policy.ProtoUDPLite:
		return p.Name()
	}
	return fmt.Sprintf("proto %d", p)
}

var flagNames = []string{"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"}

func flagWords(f uint8) string {
	if f == 0 {
		return "none"
	}
	var out []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, "|")
}

func ctStateWord(bit uint32) string {
	names := []string{"invalid", "established", "related", "new", "untracked"}
	return names[bits.TrailingZeros32(bit)]
}

var statusNames = []string{"expected", "seen-reply", "assured", "confirmed", "snat", "dnat", "dying"}

func statusWords(s uint32) string {
	var out []string
	for i, n := range statusNames {
		if s&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}
