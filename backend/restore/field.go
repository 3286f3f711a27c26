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
	// rangeSep separates a range's ends (default ":"; owner's is "-").
	rangeSep string
	// expand: the option takes no ranges, so a range is written as each of
	// its values (for small fields such as dscp's 64).
	expand bool
	// numeric: write values as numbers even where fwc has names for them.
	numeric bool
	// noNeg: the option cannot be negated; a negated match is written as
	// the other values of the (enum) field.
	noNeg bool
	// lt and gt are the options for below and above (ttl's --ttl-lt),
	// where the module has no ranges: LO-HI becomes above LO-1 and
	// below HI+1, as two matches; max is the field's largest value.
	lt, gt string
	max    uint64
}

// iptFields: one row per simple field and sub-keyword (policy.FieldCond.Key).
var iptFields = map[string]iptField{
	"addrtype src": {module: "addrtype", option: "--src-type", list: true, upper: true},
	"addrtype dst": {module: "addrtype", option: "--dst-type", list: true, upper: true},
	"pkttype":      {module: "pkttype", option: "--pkt-type", names: map[uint64]string{0: "unicast", 3: "otherhost"}},
	"ttl":          {module: "ttl", option: "--ttl-eq", lt: "--ttl-lt", gt: "--ttl-gt", max: 255, family: ir.IPv4},
	"hoplimit":     {module: "hl", option: "--hl-eq", lt: "--hl-lt", gt: "--hl-gt", max: 255, family: ir.IPv6},
	"ct direction": {module: "conntrack", option: "--ctdir", upper: true, noNeg: true},
	"dscp":         {module: "dscp", option: "--dscp", numeric: true, expand: true},
	"ct helper":    {module: "helper", option: "--helper"},
	"owner uid":    {module: "owner", option: "--uid-owner", rangeSep: "-"},
	"owner gid":    {module: "owner", option: "--gid-owner", rangeSep: "-"},
	"length":       {module: "length", option: "--length"},
}

func (f iptField) value(fd *policy.Field, n uint64) string {
	s, ok := f.names[n]
	if !ok && fd.Kind == policy.FieldEnum && !f.numeric {
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

func (w *writer) field(r *ir.Rule, m *policy.FieldCond) condText {
	f, ok := iptFields[m.Key()]
	if !ok || f.family != 0 && f.family != w.fam {
		w.errorf(r, "%s (limits.IPTablesRefuses lets it through)", m.Key())
		return condText{}
	}
	if m.Neg && f.noNeg {
		if m = complement(m); len(m.Values) == 0 {
			return condText{args: never} // none of all values
		}
	}
	if f.expand {
		m = expand(m)
	}
	var vs []string
	for _, s := range m.Strings {
		vs = append(vs, Quote(s))
	}
	for _, iv := range m.Values {
		s := f.value(m.Field, iv.Lo)
		if iv.Hi != iv.Lo {
			sep := f.rangeSep
			if sep == "" {
				sep = ":"
			}
			s += sep + f.value(m.Field, iv.Hi)
		}
		vs = append(vs, s)
	}
	head := "-m " + f.module + " "
	if f.lt != "" {
		return f.bounds(m)
	}
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

// bounds writes each value as an equality, or a range as the comparisons
// above LO-1 and below HI+1 (left out at the ends of the field); several
// values are alternatives, negated ones exclusions.
func (f iptField) bounds(m *policy.FieldCond) condText {
	head := "-m " + f.module + " "
	var alts []string
	for _, iv := range m.Values {
		var parts []string
		switch {
		case iv.Lo == iv.Hi:
			parts = append(parts, head+f.option+" "+strconv.FormatUint(iv.Lo, 10))
		default:
			if iv.Lo > 0 {
				parts = append(parts, head+f.gt+" "+strconv.FormatUint(iv.Lo-1, 10))
			}
			if iv.Hi < f.max {
				parts = append(parts, head+f.lt+" "+strconv.FormatUint(iv.Hi+1, 10))
			}
		}
		if len(parts) == 0 {
			parts = append(parts, "") // the whole field: always holds
		}
		alts = append(alts, strings.TrimSpace(strings.Join(parts, " ")))
	}
	switch {
	case m.Neg && len(alts) == 1 && !strings.Contains(alts[0], " -m "):
		if alts[0] == "" {
			return condText{args: never}
		}
		// one comparison: its own negation
		return condText{args: strings.Replace(alts[0], head, head+"! ", 1)}
	case m.Neg:
		return condText{excl: alts}
	case len(alts) == 1:
		return condText{args: alts[0]}
	}
	return condText{alts: alts}
}

// complement returns the positive match of the enum values m does not list.
func complement(m *policy.FieldCond) *policy.FieldCond {
	c := *m
	c.Neg, c.Values = false, nil
	seen := map[uint64]bool{}
	for _, n := range m.Field.Names {
		if seen[n] {
			continue
		}
		seen[n] = true
		listed := slices.ContainsFunc(m.Values, func(iv policy.Interval) bool { return iv.Lo <= n && n <= iv.Hi })
		if !listed {
			c.Values = append(c.Values, policy.Interval{Lo: n, Hi: n})
		}
	}
	slices.SortFunc(c.Values, func(a, b policy.Interval) int { return int(a.Lo) - int(b.Lo) })
	return &c
}

// expand returns m with each range replaced by its values.
func expand(m *policy.FieldCond) *policy.FieldCond {
	c := *m
	c.Values = nil
	for _, iv := range m.Values {
		for n := iv.Lo; n <= iv.Hi; n++ {
			c.Values = append(c.Values, policy.Interval{Lo: n, Hi: n})
		}
	}
	return &c
}
