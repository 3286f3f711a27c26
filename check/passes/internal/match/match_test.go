package match

import (
	"net/netip"
	"testing"

	"github.com/fwcproject/fwc/policy"
)

func item(s string) policy.AddrItem { return policy.AddrItem{Prefix: netip.MustParsePrefix(s)} }

func TestSubsumes(t *testing.T) {
	rng := policy.AddrItem{Lo: netip.MustParseAddr("10.0.0.5"), Hi: netip.MustParseAddr("10.0.0.9")}
	for _, tc := range []struct {
		x, y policy.Cond
		want bool
	}{
		{&policy.ProtoCond{Protos: []policy.Proto{6}}, &policy.ProtoCond{Protos: []policy.Proto{6, 17}}, true},
		{&policy.ProtoCond{Protos: []policy.Proto{6, 17}}, &policy.ProtoCond{Protos: []policy.Proto{6}}, false},
		{&policy.ProtoCond{Protos: []policy.Proto{6}}, &policy.ProtoCond{Neg: true, Protos: []policy.Proto{17}}, false},
		{&policy.PortCond{Ranges: []policy.PortRange{{Lo: 53, Hi: 53}}}, &policy.PortCond{Ranges: []policy.PortRange{{Lo: 1, Hi: 1024}}}, true},
		{&policy.PortCond{Ranges: []policy.PortRange{{Lo: 53, Hi: 53}}}, &policy.PortCond{Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: 1, Hi: 1024}}}, false},
		{&policy.AddrCond{Items: []policy.AddrItem{item("10.1.0.0/16")}}, &policy.AddrCond{Items: []policy.AddrItem{item("10.0.0.0/8")}}, true},
		{&policy.AddrCond{Items: []policy.AddrItem{item("10.0.0.0/8")}}, &policy.AddrCond{Items: []policy.AddrItem{item("10.1.0.0/16")}}, false},
		{&policy.AddrCond{Items: []policy.AddrItem{rng}}, &policy.AddrCond{Items: []policy.AddrItem{item("10.0.0.0/28")}}, true},
		{&policy.AddrCond{Items: []policy.AddrItem{item("fd00::/64")}}, &policy.AddrCond{Items: []policy.AddrItem{item("10.0.0.0/8")}}, false},
		{&policy.IfaceCond{Ifaces: []policy.Iface{{Name: "eth0"}}}, &policy.IfaceCond{Ifaces: []policy.Iface{{Name: "eth", Wildcard: true}}}, true},
		{&policy.IfaceCond{Ifaces: []policy.Iface{{Name: "eth", Wildcard: true}}}, &policy.IfaceCond{Ifaces: []policy.Iface{{Name: "eth0"}}}, false},
		{&policy.CtStateCond{Bits: policy.CtNew}, &policy.CtStateCond{Bits: policy.CtNew | policy.CtEstablished}, true},
		{&policy.ICMPCond{V6: true, Types: []policy.ICMPType{{Type: 135, Code: 0}}}, &policy.ICMPCond{V6: true, Types: []policy.ICMPType{{Type: 135, Code: -1}}}, true},
		{&policy.MarkCond{Value: 1, Mask: 1}, &policy.MarkCond{Value: 1, Mask: 1}, true},
		{&policy.MarkCond{Value: 1, Mask: 1}, &policy.MarkCond{Value: 1, Mask: 3}, false},
	} {
		if got := Subsumes(tc.x, tc.y); got != tc.want {
			t.Errorf("Subsumes(%+v, %+v) = %v", tc.x, tc.y, got)
		}
	}
}

func TestEqualIgnoresPosition(t *testing.T) {
	s := &policy.Set{Name: "s"}
	a := []policy.Cond{&policy.ProtoCond{At: policy.At{Node: nil}, Protos: []policy.Proto{6}}, &policy.AddrCond{Set: s}}
	b := []policy.Cond{&policy.AddrCond{Set: s}, &policy.ProtoCond{Protos: []policy.Proto{6}}}
	if !EqualConds(a, b) {
		t.Errorf("same conditions in another order are not equal")
	}
	if EqualConds(a, []policy.Cond{&policy.AddrCond{Set: &policy.Set{Name: "s"}}, a[0]}) {
		t.Errorf("different sets with one name compare equal")
	}
}
