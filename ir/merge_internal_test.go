package ir

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/fwcproject/fwc/policy"
)

// TestMatchEqual: matchEqual agrees with reflect.DeepEqual on every pair of
// a sample of matches that differ in one field each.
func TestMatchEqual(t *testing.T) {
	host := func(s string) policy.AddrItem {
		return policy.AddrItem{Prefix: netip.PrefixFrom(netip.MustParseAddr(s), 32)}
	}
	set, set2 := &Set{Name: "a"}, &Set{Name: "a"}
	ms := []Match{
		&Addr{Dir: policy.Src, Items: []policy.AddrItem{host("10.0.0.1")}},
		&Addr{Dir: policy.Src, Items: []policy.AddrItem{host("10.0.0.1")}},
		&Addr{Dir: policy.Dst, Items: []policy.AddrItem{host("10.0.0.1")}},
		&Addr{Dir: policy.Src, Neg: true, Items: []policy.AddrItem{host("10.0.0.1")}},
		&Addr{Dir: policy.Src, Items: []policy.AddrItem{host("10.0.0.2")}},
		&Addr{Dir: policy.Src, Items: []policy.AddrItem{{Lo: netip.MustParseAddr("10.0.0.1"), Hi: netip.MustParseAddr("10.0.0.9")}}},
		&Addr{Dir: policy.Src, Set: set},
		&Addr{Dir: policy.Src, Set: set2},
		&Addr{Dir: policy.Src, Set: &Set{Name: "b"}},
		&Port{Proto: 6, Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}}},
		&Port{Proto: 6, Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}}},
		&Port{Proto: 17, Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}}},
		&Port{Proto: 6, Dir: policy.Src, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}}},
		&Port{Proto: 6, Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: 22, Hi: 23}}},
		&Port{Proto: 6, Dir: policy.Dst, Neg: true, Ranges: []policy.PortRange{{Lo: 22, Hi: 22}}},
		&Iface{Dir: policy.Src, Ifaces: []policy.Iface{{Name: "eth0"}}},
		&Iface{Dir: policy.Src, Ifaces: []policy.Iface{{Name: "eth0"}}},
		&Iface{Dir: policy.Src, Ifaces: []policy.Iface{{Name: "eth0", Wildcard: true}}},
		&Iface{Dir: policy.Dst, Ifaces: []policy.Iface{{Name: "eth0"}}},
		&Proto{Protos: []policy.Proto{6}},
		&Proto{Protos: []policy.Proto{6}},
		&Proto{Protos: []policy.Proto{6, 17}},
		&Proto{Neg: true, Protos: []policy.Proto{6}},
		&CtState{Bits: 1},
		&CtState{Bits: 1},
	}
	for i, a := range ms {
		for j, b := range ms {
			if got, want := matchEqual(a, b), reflect.DeepEqual(a, b); got != want {
				t.Errorf("matches %d and %d: matchEqual %v, DeepEqual %v", i, j, got, want)
			}
		}
	}
}
