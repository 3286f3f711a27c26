package restore

import (
	"slices"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// iptField says how iptables spells one simple field (policy/field.go):
// `-m MODULE [!] OPTION VALUE`.
type iptField struct {
	module, option string
	// list: the option takes several values, comma-separated; otherwise
	// several values become one rule each (or, negated, exclusions).
	list bool
	// upper: value names are written in capitals (addrtype's LOCAL).
	upper bool
	// names are iptables's names of values where they differ from fwc's.
	names map[uint64]string
	// family, if set, is the only family whose tool has the module.
	family ir.Family
	// v6, if set, are the only values ip6tables's module can test.
	v6 []uint64
}

// iptFields: one row per simple field and sub-keyword (policy.FieldCond.Key).
var iptFields = map[string]iptField{
	"addrtype src": {module: "addrtype", option: "--src-type", list: true, upper: true, v6: addrtype6},
	"addrtype dst": {module: "addrtype", option: "--dst-type", list: true, upper: true, v6: addrtype6},
	"pkttype":      {module: "pkttype", option: "--pkt-type", names: map[uint64]string{0: "unicast", 3: "otherhost"}},
	"length":       {module: "length", option: "--length"},
}

// addrtype6: the kernel's addrtype match refuses the other route types
// for IPv6 (broadcast, blackhole, prohibit and later).
var addrtype6 = []uint64{0, 1, 2, 4, 5, 7} // unspec unicast local anycast multicast unreachable

func (f iptField) value(fd *policy.Field, n uint64) string {
	s, ok := f.names[n]
	if !ok && fd.Kind == policy.FieldEnum {
		s = fd.NameOf(n)
	}
	if s == "" {
		s = strconv.FormatUint(n, 10)
	}
	if f.upper {
		s = strings.ToUpper(s)
	}
	return s
}

func (w *writer) field(r *ir.Rule, m *ir.Field) condText {
	f, ok := iptFields[m.Key()]
	if !ok || f.family != 0 && f.family != w.fam {
		w.errorf(r, "%s", m.Key())
		return condText{}
	}
	var vs []string
	for _, iv := range m.Values {
		if f.v6 != nil && w.fam == ir.IPv6 {
			for n := iv.Lo; n <= iv.Hi; n++ {
				if !slices.Contains(f.v6, n) {
					w.errorf(r, "%s %s (its %s match cannot test it for IPv6)", m.Key(), f.value(m.Field, n), f.module)
					return condText{}
				}
			}
		}
		s := f.value(m.Field, iv.Lo)
		if iv.Hi != iv.Lo {
			s += ":" + f.value(m.Field, iv.Hi)
		}
		vs = append(vs, s)
	}
	head := "-m " + f.module + " "
	if f.list {
		return condText{args: head + neg(m.Neg) + f.option + " " + strings.Join(vs, ",")}
	}
	if len(vs) == 1 {
		// The negation goes before the option, not before -m.
		return condText{args: head + neg(m.Neg) + f.option + " " + vs[0]}
	}
	var alts []string
	for _, v := range vs {
		alts = append(alts, head+f.option+" "+v)
	}
	return oneOf(m.Neg, alts)
}
