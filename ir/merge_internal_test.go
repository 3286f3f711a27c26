package ir

import (
	"github.com/fwcproject/fwc/ast"
	"net/netip"
	"testing"

	"github.com/fwcproject/fwc/policy"
)

// TestMatchEqual: matchEqual's fast paths agree with same (field by field
// by reflection, ignoring where the source wrote a condition) on every
// pair of a sample of matches that differ in one field each.
func TestMatchEqual(t *testing.T) {
	host := func(s string) policy.AddrItem {
		return policy.AddrItem{Prefix: netip.PrefixFrom(netip.MustParseAddr(s), 32)}
	}
	set, set2 := &policy.Set{Name: "a"}, &policy.Set{Name: "b"}
	ms := []policy.Cond{
		&policy.AddrCond{Dir: policy.Src, Items: []policy.AddrItem{host("10.0.0.1")}},
		&policy.AddrCond{Dir: policy.Src, Items: []policy.AddrItem{host("10.0.0.1")}},
		&policy.AddrCond{Dir: policy.Dst, Items: []policy.AddrItem{host("10.0.0.1")}},
		&policy.AddrCond{Dir: policy.Src, Neg: true, Items: []policy.AddrItem{host("10.0.0.1")}},
		&policy.AddrCond{Dir: policy.Src, Items: []policy.AddrItem{host("10.0.0.2")}},
		&policy.AddrCond{Dir: policy.Src, Items: []policy.AddrItem{{Lo: netip.MustParseAddr("10.0.0.1"), Hi: netip.MustParseAddr("10.0.0.9")}}},
		&policy.AddrCond{Dir: policy.Src, Set: set},
		&policy.AddrCond{Dir: policy.Src, Set: set2},
		&policy.AddrCond{Dir: policy.Src, Set: &policy.Set{Name: "c"}},
		&policy.PortCond{Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}}},
		&policy.PortCond{Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}}},
		&policy.PortCond{At: policy.At{Node: &ast.Rule{}}, Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}}},
		&policy.PortCond{Dir: policy.Src, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}}},
		&policy.PortCond{Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: 22, Hi: 23}}},
		&policy.PortCond{Dir: policy.Dst, Neg: true, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}}},
		&policy.IfaceCond{Dir: policy.Src, Ifaces: []policy.Iface{{Name: "eth0"}}},
		&policy.IfaceCond{Dir: policy.Src, Ifaces: []policy.Iface{{Name: "eth0"}}},
		&policy.IfaceCond{Dir: policy.Src, Ifaces: []policy.Iface{{Name: "eth0", Wildcard: true}}},
		&policy.IfaceCond{Dir: policy.Dst, Ifaces: []policy.Iface{{Name: "eth0"}}},
		&policy.ProtoCond{Protos: []policy.Proto{6}},
		&policy.ProtoCond{Protos: []policy.Proto{6}},
		&policy.ProtoCond{Protos: []policy.Proto{6, 17}},
		&policy.ProtoCond{Neg: true, Protos: []policy.Proto{6}},
		&policy.CtStateCond{Bits: 1},
		&policy.CtStateCond{Bits: 1},
	}
	for i, a := range ms {
		for j, b := range ms {
			if got, want := matchEqual(a, b), same(a, b); got != want {
				t.Errorf("matches %d and %d: matchEqual %v, same %v", i, j, got, want)
			}
		}
	}
}
