package nft_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// anonRules is a ruleset of a named set called name and n rules with an
// anonymous set each (two ports, two interfaces), the first also looking
// up the named set.
func anonRules(name string, n int) *ir.Ruleset {
	s := &ir.Set{Name: name, Type: []policy.SetType{policy.IPv4Addr}, Family: ir.IPv4,
		Elements: []policy.SetElem{{Parts: []policy.SetValue{{Addr: policy.AddrItem{Prefix: netip.MustParsePrefix("192.0.2.1/32")}}}}}}
	t := &ir.Table{Name: "filter"}
	c := &ir.Chain{Table: t, Name: "input", Hook: policy.Input, Type: ir.TypeFilter, Policy: policy.Accept}
	t.Chains = []*ir.Chain{c}
	for i := range n {
		p := uint16(1000 + 2*i)
		r := &ir.Rule{
			Family: ir.IPv4,
			Matches: []policy.Cond{
				&policy.IfaceCond{Dir: policy.Src, Ifaces: []policy.Iface{{Name: "eth0"}, {Name: "eth1"}}},
				&policy.ProtoCond{Protos: []policy.Proto{policy.ProtoTCP}},
				&policy.PortCond{Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: p, Hi: p}, {Lo: p + 1, Hi: p + 1}}},
			},
			Actions: []policy.Action{&policy.Verdict{Kind: policy.Accept}},
		}
		if i == 0 {
			r.Matches = append([]policy.Cond{&policy.AddrCond{Dir: policy.Src, Set: &policy.Set{Name: s.Name, Type: s.Type, Family: policy.IPv4, Elements: s.Elements}}}, r.Matches...)
		}
		c.Rules = append(c.Rules, r)
	}
	return &ir.Ruleset{Tables: []*ir.Table{t}, Sets: []*ir.Set{s}}
}

// setMsgAttrs returns, for each new-set message, its name and ID, and for
// each set-element message, its set name ("" when absent) and set ID.
func setMsgAttrs(t *testing.T, rs *ir.Ruleset) (sets, elems map[uint32]string) {
	t.Helper()
	msgs, err := nft.Messages(rs)
	if err != nil {
		t.Fatal(err)
	}
	sets, elems = map[uint32]string{}, map[uint32]string{}
	for _, m := range msgs {
		typ := uint16(m.Header.Type) & 0xff
		if typ != unix.NFT_MSG_NEWSET && typ != unix.NFT_MSG_NEWSETELEM {
			continue
		}
		idAttr := uint16(unix.NFTA_SET_ID)
		if typ == unix.NFT_MSG_NEWSETELEM {
			idAttr = unix.NFTA_SET_ELEM_LIST_SET_ID
		}
		name, id := "", uint32(0)
		for d := m.Data[4:]; len(d) >= 4; {
			l := int(binary.NativeEndian.Uint16(d))
			switch binary.NativeEndian.Uint16(d[2:]) &^ unix.NLA_F_NESTED {
			case unix.NFTA_SET_NAME:
				name = string(d[4 : l-1])
			case idAttr:
				id = binary.BigEndian.Uint32(d[4:])
			}
			d = d[min((l+3)&^3, len(d)):]
		}
		if typ == unix.NFT_MSG_NEWSET {
			sets[id] = name
		} else {
			elems[id] = name
		}
	}
	return sets, elems
}

// TestAnonSetNames: Messages names anonymous sets as the kernel would in
// the fresh table (__set0, …), which spares the kernel a scan of every set
// per new set, unless a named set could collide; it sends their elements
// by set ID only. Either way nft lists what nft -f loads.
func TestAnonSetNames(t *testing.T) {
	for _, c := range []struct {
		named, anon0 string
	}{
		{"blocked", "__set0"},
		{"__set0", "__set%d"},
	} {
		t.Run(c.named, func(t *testing.T) {
			t.Parallel()
			rs := anonRules(c.named, 3)
			sets, elems := setMsgAttrs(t, rs)
			if len(sets) < 3 {
				t.Fatalf("%d sets, want 1 named and several anonymous: %v", len(sets), sets)
			}
			want := map[string]bool{c.named: true}
			for id, name := range sets {
				if name == c.named {
					if elems[id] != name {
						t.Errorf("elements of named set %s sent to %q", name, elems[id])
					}
					continue
				}
				want[name] = true
				if got, ok := elems[id]; !ok || got != "" {
					t.Errorf("elements of anonymous set %d (%s) sent to %q (present %v)", id, name, got, ok)
				}
			}
			if !want[c.anon0] {
				t.Errorf("anonymous sets %v, want one named %s", sets, c.anon0)
			}
			testnetns.Require(t)
			differential(t, rs)
		})
	}
}
