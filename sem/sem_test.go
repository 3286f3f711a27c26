package sem_test

import (
	"net/netip"
	"testing"

	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

func ssh() sem.Packet {
	return sem.Packet{Src: netip.MustParseAddr("10.1.2.3"), Dst: netip.MustParseAddr("10.0.0.1"),
		Proto: policy.ProtoTCP, SrcPort: 50000, DstPort: 22, InIface: "eth0",
		CtState: policy.CtEstablished, TCPFlags: policy.ACK}
}

// TestHolds: membership of a packet's point in a condition's region is
// the concrete meaning, in both directions, with negation, unknown fields
// and the conditions sem does not model.
func TestHolds(t *testing.T) {
	untracked := ssh()
	untracked.CtState = policy.CtUntracked
	noIface := ssh()
	noIface.Unknown = noIface.Unknown.With(sem.IIf)
	v6 := ssh()
	v6.Src, v6.Dst = netip.MustParseAddr("2001:db8::7"), netip.MustParseAddr("2001:db8::1")
	marked := ssh()
	marked.Mark = 0x12
	office := policy.AddrItem{Prefix: netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		name string
		c    policy.Cond
		p    sem.Packet
		want sem.Tri
	}{
		{"saddr in", &policy.AddrCond{Items: []policy.AddrItem{office}}, ssh(), sem.Yes},
		{"saddr not in", &policy.AddrCond{Neg: true, Items: []policy.AddrItem{office}}, ssh(), sem.No},
		{"IPv4 address on IPv6", &policy.AddrCond{Items: []policy.AddrItem{office}}, v6, sem.No},
		{"negated IPv4 address on IPv6", &policy.AddrCond{Neg: true, Items: []policy.AddrItem{office}}, v6, sem.Yes},
		{"dport", &policy.PortCond{Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: 20, Hi: 22}}}, ssh(), sem.Yes},
		{"sport", &policy.PortCond{Ranges: []policy.PortRange{{Lo: 20, Hi: 22}}}, ssh(), sem.No},
		{"iif wildcard", &policy.IfaceCond{Ifaces: []policy.Iface{{Name: "eth", Wildcard: true}}}, ssh(), sem.Yes},
		{"oif of an arriving packet", &policy.IfaceCond{Dir: policy.Dst, Ifaces: []policy.Iface{{Name: "eth0"}}}, ssh(), sem.No},
		{"oif != of an arriving packet", &policy.IfaceCond{Dir: policy.Dst, Neg: true, Ifaces: []policy.Iface{{Name: "eth0"}}}, ssh(), sem.Yes},
		{"unknown iif", &policy.IfaceCond{Ifaces: []policy.Iface{{Name: "eth0"}}}, noIface, sem.Unknown},
		{"icmp on tcp", &policy.ICMPCond{Types: []policy.ICMPType{{Type: 8, Code: -1}}}, ssh(), sem.No},
		{"tcp flags", &policy.TCPFlagsCond{Flags: policy.ACK, Mask: policy.ACK | policy.SYN}, ssh(), sem.Yes},
		{"ct state", &policy.CtStateCond{Bits: policy.CtEstablished | policy.CtRelated}, ssh(), sem.Yes},
		{"ct state untracked", &policy.CtStateCond{Bits: policy.CtUntracked}, untracked, sem.Yes},
		{"ct mark on untracked", &policy.MarkCond{Ct: true, Value: 1, Mask: 0xffffffff}, untracked, sem.No},
		{"ct mark != on untracked", &policy.MarkCond{Ct: true, Neg: true, Value: 1, Mask: 0xffffffff}, untracked, sem.No},
		{"ct status != on untracked", &policy.CtStatusCond{Neg: true, Bits: policy.StatusDNAT}, untracked, sem.No},
		{"ct status != on tracked", &policy.CtStatusCond{Neg: true, Bits: policy.StatusDNAT}, ssh(), sem.Yes},
		{"mark under mask", &policy.MarkCond{Value: 0x10, Mask: 0xf0}, marked, sem.Yes},
		{"mark exact", &policy.MarkCond{Value: 0x10, Mask: 0xffffffff}, marked, sem.No},
		{"rate limit", &policy.LimitCond{Rate: policy.Rate{Count: 5}}, ssh(), sem.Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sem.Holds(tc.c, tc.p.Point()); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPointRoundTrip: a packet's point gives the packet back.
func TestPointRoundTrip(t *testing.T) {
	for _, p := range []sem.Packet{ssh(), {Src: netip.MustParseAddr("2001:db8::7"), Dst: netip.MustParseAddr("2001:db8::1"),
		Proto: policy.ProtoICMPv6, ICMPType: 128, OutIface: "wg0", CtState: policy.CtNew, Mark: 0x80000001, CtMark: 7}} {
		if got := p.Point().Packet(); got != p {
			t.Errorf("%+v: got %+v", p, got)
		}
	}
}
