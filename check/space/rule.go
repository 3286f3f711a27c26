package space

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strings"

	"github.com/fwcproject/fwc/policy"
)

// ifaceKey encodes an interface name as a 128-bit number: the name's bytes,
// big-endian, padded with zero bytes to 16. Lexicographic order is kept, so
// the names with a given prefix form one interval (see ifacePrefix). Kernel
// names are at most 15 bytes; longer ones are cut.
func ifaceKey(name string) u128 {
	var b [16]byte
	copy(b[:], name)
	return u128{beUint64(b[:8]), beUint64(b[8:])}
}

func ifacePrefix(p string) iv {
	var lo, hi [16]byte
	copy(lo[:], p)
	for i := range hi {
		hi[i] = 0xff
	}
	copy(hi[:], p)
	return iv{u128{beUint64(lo[:8]), beUint64(lo[8:])}, u128{beUint64(hi[:8]), beUint64(hi[8:])}}
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

func ifaceName(v u128) string {
	var b [16]byte
	for i := range 8 {
		b[i] = byte(v.Hi >> (56 - 8*i))
		b[8+i] = byte(v.Lo >> (56 - 8*i))
	}
	return strings.TrimRight(string(b[:]), "\x00")
}

// markKey: marks are compared bit-reversed, so that the usual masks, which
// select low bits (0x1, 0xff, 0xff00), give few intervals: (x & m) == v is
// one interval when m's set bits are the low ones, 2^k intervals when k
// clear bits lie below m's highest set bit.
func markKey(v uint32) u128 { return u64(uint64(bits.Reverse32(v))) }

func unreverse(v u128) uint32 { return bits.Reverse32(uint32(v.Lo)) }

// maxMarkIntervals bounds the intervals a mark condition may expand to; a
// wider pattern is not modelled (the rule becomes "may not match").
const maxMarkIntervals = 4096

func markSet(value, mask uint32) (ivs, bool) {
	rm, rv := bits.Reverse32(mask), bits.Reverse32(value&mask)
	if rm == 0 {
		return span(u128{}, u64(0xffffffff)), true
	}
	low := bits.TrailingZeros32(rm) // free block at the bottom
	var free []int                  // free bits above it
	for i := low; i < 32; i++ {
		if rm&(1<<i) == 0 {
			free = append(free, i)
		}
	}
	if len(free) > 12 || 1<<len(free) > maxMarkIntervals {
		return nil, false
	}
	out := make([]iv, 0, 1<<len(free))
	for k := range 1 << len(free) {
		lo := uint64(rv)
		for j, b := range free {
			if k&(1<<j) != 0 {
				lo |= 1 << b
			}
		}
		out = append(out, iv{u64(lo), u64(lo | (1<<low - 1))})
	}
	return normalize(out), true
}

func addrRange(a policy.AddrItem, v6 bool) (iv, bool) {
	if a.Is4() == v6 {
		return iv{}, false
	}
	var lo, hi netip.Addr
	if a.Prefix.IsValid() {
		p := a.Prefix.Masked()
		lo = p.Addr()
		hi = lastAddr(p)
	} else {
		lo, hi = a.Lo, a.Hi
	}
	return iv{addrKey(lo), addrKey(hi)}, true
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func addrKey(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u64(uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3]))
	}
	b := a.As16()
	return u128{beUint64(b[:8]), beUint64(b[8:])}
}

// Verdict kinds of a rule for this analysis.
type actKind int

const (
	actNone    actKind = iota // only non-terminal actions: never decides
	actVerdict                // accept, drop, reject, return, nat...
	actJump
	actGoto
)

// ruleInfo is a rule lowered into one Space.
type ruleInfo struct {
	r     *policy.Rule
	pos   int // index in its chain
	chain *policy.Chain
	// region holds every packet the rule can match; when exact is false it
	// is an over-approximation (conditions the analysis cannot model are
	// left out), and the rule never counts as deciding a packet.
	region Region
	exact  bool
	// loose is region with mark conditions left out, used after an earlier
	// rule may have rewritten the marks.
	loose    Region
	usesMark bool
	// indexed is what the chain index holds: loose, cut for a jump or goto
	// to the packets its target may act on.
	indexed   Region
	kind      actKind
	verdict   string // "accept", "drop", "reject", "return", "goto x", "dnat 10.0.0.1:80", ...
	target    *policy.Chain
	effects   bool // a non-terminal action runs (log, counter, mark...)
	setsMark  bool
	unmodeled string // what made it inexact, for messages
}

// Conflict says why a rule matches no packet of a family although it
// exists in that family: its conditions on one field allow no common value
// (saddr 10.0.0.0/8 saddr 192.168.0.0/16, iif eth0 iif != eth*).
type Conflict struct {
	// Field is the packet field ("saddr", "dport", "iif", ...).
	Field string
	// Cond is the condition after which no value of Field was left.
	Cond policy.Cond
	// Other is the rule's last condition on Field before Cond; there is
	// always one (a single condition that matches nothing, such as a
	// lookup in an empty set, is not a Conflict: a set may be filled at
	// run time).
	Other policy.Cond
}

// Contradiction returns why r can match no packet, or nil: r exists in at
// least one family and in every family it exists in, two or more of its
// conditions contradict each other. The IPv4 conflict is returned when
// there is one. A rule absent from both families (conditions of different
// families) is the front end's error, not a Contradiction.
func Contradiction(r *policy.Rule) *Conflict {
	if !sharesField(r) {
		return nil // cheap and common: no two conditions on one field
	}
	var first *Conflict
	for _, v6 := range []bool{false, true} {
		_, ok, conf := spaces[boolIndex(v6)].lowerRule(r)
		switch {
		case ok || conf == nil:
			return nil // matches packets, or its emptiness is not two conditions'
		case conf == absent:
			continue
		case first == nil:
			first = conf
		}
	}
	return first
}

// sharesField reports whether two conditions of r may restrict the same
// field, the only way its conditions can contradict each other (zone rules
// add conditions of their own, so they count too).
func sharesField(r *policy.Rule) bool {
	var seen [NDim]bool
	mark := func(d Dim) bool {
		if seen[d] {
			return true
		}
		seen[d] = true
		return false
	}
	pick := func(dir policy.Dir, src, dst Dim) Dim {
		if dir == policy.Dst {
			return dst
		}
		return src
	}
	for _, cond := range r.Conds {
		var hit bool
		switch k := cond.(type) {
		case *policy.AddrCond:
			hit = mark(pick(k.Dir, SAddr, DAddr))
		case *policy.PortCond:
			hit = mark(pick(k.Dir, SPort, DPort))
		case *policy.IfaceCond:
			hit = mark(pick(k.Dir, IIf, OIf))
		case *policy.ProtoCond:
			hit = mark(Proto)
		case *policy.ICMPCond:
			hit = mark(ICMP) || mark(Proto)
		case *policy.TCPFlagsCond:
			hit = mark(TCPFlags) || mark(Proto)
		case *policy.CtStateCond:
			hit = mark(CtState)
		case *policy.CtStatusCond:
			hit = mark(CtStatus)
		case *policy.MarkCond:
			d := Mark
			if k.Ct {
				d = CtMark
			}
			hit = mark(d)
		}
		if hit {
			return true
		}
	}
	return false
}

// absent is lowerRule's conf for a rule that does not exist in the family.
var absent = &Conflict{}

var spaces = [2]*Space{NewSpace(false), NewSpace(true)}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lowerRule builds the ruleInfo of r in s; ok is false when the rule does
// not exist in this family or its conditions contradict each other, and
// then conf is absent for a rule of the other family, the conditions that
// contradict, or nil when the emptiness is not traced to two conditions.
func (s *Space) lowerRule(r *policy.Rule) (ri *ruleInfo, ok bool, conf *Conflict) {
	fam := policy.IPv4
	if s.V6 {
		fam = policy.IPv6
	}
	if r.Family != 0 && r.Family&fam == 0 {
		return nil, false, absent
	}
	ri = &ruleInfo{r: r, exact: true}
	s.actions(ri)
	c := s.full
	loose := s.full
	var concat []Region
	var by [NDim]policy.Cond // the last condition that restricted each field so far
	var cur policy.Cond
	restrict := func(d Dim, set ivs, neg bool) {
		if neg {
			set = s.full[d].minus(set)
		}
		was := c[d].empty()
		c[d] = c[d].intersect(set)
		if d != Mark && d != CtMark {
			loose[d] = loose[d].intersect(set)
		}
		if !was && c[d].empty() && conf == nil && by[d] != nil && by[d] != cur && !emptySet(cur) {
			conf = &Conflict{Field: d.String(), Cond: cur, Other: by[d]}
		}
		by[d] = cur
	}
	inexact := func(why string) {
		ri.exact = false
		if ri.unmodeled == "" {
			ri.unmodeled = why
		}
	}
	for _, cond := range r.Conds {
		cur = cond
		switch k := cond.(type) {
		case *policy.AddrCond:
			d := SAddr
			if k.Dir == policy.Dst {
				d = DAddr
			}
			var set []iv
			if k.Set != nil {
				if k.Set.Family&fam == 0 {
					return nil, false, absent
				}
				if dynamic(k.Set) {
					inexact("set @" + k.Set.Name + " can change at run time")
					continue
				}
				for _, e := range k.Set.Elements {
					if x, ok := addrRange(e.Parts[0].Addr, s.V6); ok {
						set = append(set, x)
					}
				}
			} else {
				for _, a := range k.Items {
					if x, ok := addrRange(a, s.V6); ok {
						set = append(set, x)
					}
				}
				if len(set) == 0 && !k.Neg {
					return nil, false, absent
				}
			}
			restrict(d, normalize(set), k.Neg)
		case *policy.ProtoCond:
			set := make([]iv, 0, len(k.Protos))
			for _, p := range k.Protos {
				set = append(set, iv{u64(uint64(p)), u64(uint64(p))})
			}
			restrict(Proto, normalize(set), k.Neg)
		case *policy.PortCond:
			d := SPort
			if k.Dir == policy.Dst {
				d = DPort
			}
			var set []iv
			if k.Set != nil {
				if dynamic(k.Set) {
					inexact("set @" + k.Set.Name + " can change at run time")
					continue
				}
				for _, e := range k.Set.Elements {
					set = append(set, iv{u64(uint64(e.Parts[0].Port)), u64(uint64(e.Parts[0].Port))})
				}
			} else {
				for _, p := range k.Ranges {
					set = append(set, iv{u64(uint64(p.Lo)), u64(uint64(p.Hi))})
				}
			}
			restrict(d, normalize(set), k.Neg)
		case *policy.IfaceCond:
			d := IIf
			if k.Dir == policy.Dst {
				d = OIf
			}
			var set []iv
			add := func(name string, wild bool) {
				if wild || strings.HasSuffix(name, "*") {
					set = append(set, ifacePrefix(strings.TrimSuffix(name, "*")))
				} else {
					set = append(set, iv{ifaceKey(name), ifaceKey(name)})
				}
			}
			if k.Set != nil {
				if dynamic(k.Set) {
					inexact("set @" + k.Set.Name + " can change at run time")
					continue
				}
				for _, e := range k.Set.Elements {
					add(e.Parts[0].Iface, false)
				}
			} else {
				for _, i := range k.Ifaces {
					add(i.Name, i.Wildcard)
				}
			}
			restrict(d, normalize(set), k.Neg)
		case *policy.ICMPCond:
			if k.V6 != s.V6 {
				return nil, false, absent
			}
			p := uint64(policy.ProtoICMP)
			if k.V6 {
				p = uint64(policy.ProtoICMPv6)
			}
			restrict(Proto, point(u64(p)), false)
			set := make([]iv, 0, len(k.Types))
			for _, t := range k.Types {
				base := uint64(t.Type) << 8
				if t.Code < 0 {
					set = append(set, iv{u64(base), u64(base | 0xff)})
				} else {
					set = append(set, iv{u64(base | uint64(t.Code)), u64(base | uint64(t.Code))})
				}
			}
			restrict(ICMP, normalize(set), k.Neg)
		case *policy.TCPFlagsCond:
			restrict(Proto, point(u64(uint64(policy.ProtoTCP))), false)
			var set []iv
			for x := range 256 {
				if (uint8(x)&k.Mask == k.Flags) != k.Neg {
					set = append(set, iv{u64(uint64(x)), u64(uint64(x))})
				}
			}
			restrict(TCPFlags, normalize(set), false)
		case *policy.CtStateCond:
			var set []iv
			for i := range 5 {
				if k.Bits&(1<<i) != 0 {
					set = append(set, iv{u64(uint64(i)), u64(uint64(i))})
				}
			}
			restrict(CtState, normalize(set), k.Neg)
		case *policy.CtStatusCond:
			var set []iv
			for x := range 128 {
				if uint32(x)&k.Bits != 0 {
					set = append(set, iv{u64(uint64(x)), u64(uint64(x))})
				}
			}
			restrict(CtStatus, normalize(set), k.Neg)
		case *policy.MarkCond:
			ri.usesMark = true
			d := Mark
			if k.Ct {
				d = CtMark
			}
			if k.Set != nil {
				// `mark @s`: the whole mark is one of the elements.
				if dynamic(k.Set) {
					inexact("set @" + k.Set.Name + " can change at run time")
					continue
				}
				var set []iv
				for _, e := range k.Set.Elements {
					one, _ := markSet(e.Parts[0].Mark, 0xffffffff)
					set = append(set, one...)
				}
				restrict(d, normalize(set), k.Neg)
				continue
			}
			set, ok := markSet(k.Value, k.Mask)
			if !ok {
				inexact(fmt.Sprintf("mark mask 0x%x is too scattered to model", k.Mask))
				continue
			}
			restrict(d, set, k.Neg)
		case *policy.ConcatCond:
			if k.Set == nil || dynamic(k.Set) {
				inexact("a concatenated set can change at run time")
				continue
			}
			reg, ok, usesMark := s.concat(k)
			if !ok {
				return nil, false, absent
			}
			ri.usesMark = ri.usesMark || usesMark
			concat = append(concat, reg)
		case *policy.LimitCond:
			inexact("it has a rate limit")
		case *policy.MeterCond:
			inexact("it has a meter")
		case *policy.ConnlimitCond:
			inexact("it has a connection limit")
		case *policy.TimeCond:
			inexact("it matches on time")
		case *policy.ProbCond:
			inexact("it matches with a probability")
		case *policy.StringCond:
			inexact("it matches payload strings")
		default:
			inexact(fmt.Sprintf("%T is not modelled", cond))
		}
	}
	for d := range NDim {
		if c[d].empty() {
			return nil, false, conf
		}
	}
	ri.region = Region{c}
	ri.loose = Region{loose}
	for _, reg := range concat {
		ri.region = ri.region.Intersect(reg)
		ri.loose = ri.loose.Intersect(reg) // marks inside concatenations stay; rare
	}
	if ri.region.Empty() {
		return nil, false, nil // a concatenation: not traced to two conditions
	}
	if !ri.usesMark {
		ri.loose = ri.region
	}
	ri.indexed = ri.loose
	return ri, true, nil
}

// emptySet reports whether c looks up a named set without elements: it
// matches nothing now, but may be filled at run time.
func emptySet(c policy.Cond) bool {
	var set *policy.Set
	switch k := c.(type) {
	case *policy.AddrCond:
		set = k.Set
	case *policy.PortCond:
		set = k.Set
	case *policy.IfaceCond:
		set = k.Set
	}
	return set != nil && len(set.Elements) == 0
}

func dynamic(set *policy.Set) bool {
	if set.Timeout > 0 {
		return true
	}
	for _, e := range set.Elements {
		if e.Timeout > 0 {
			return true
		}
	}
	return false
}

// concat lowers a lookup in a set of concatenations: one cube per element.
func (s *Space) concat(k *policy.ConcatCond) (Region, bool, bool) {
	var reg Region
	usesMark := false
	for _, e := range k.Set.Elements {
		c := s.full
		ok := true
		for i, key := range k.Keys {
			if i >= len(e.Parts) {
				break
			}
			v := e.Parts[i]
			var d Dim
			var set ivs
			switch key {
			case policy.KeySaddr, policy.KeyDaddr:
				d = SAddr
				if key == policy.KeyDaddr {
					d = DAddr
				}
				x, good := addrRange(v.Addr, s.V6)
				if !good {
					ok = false
				}
				set = ivs{x}
			case policy.KeySport, policy.KeyDport:
				d = SPort
				if key == policy.KeyDport {
					d = DPort
				}
				set = point(u64(uint64(v.Port)))
			case policy.KeyIif, policy.KeyOif:
				d = IIf
				if key == policy.KeyOif {
					d = OIf
				}
				set = point(ifaceKey(v.Iface))
			case policy.KeyMark:
				d = Mark
				usesMark = true
				set = point(markKey(v.Mark))
			}
			if !ok {
				break
			}
			c[d] = c[d].intersect(set)
		}
		if ok {
			reg = append(reg, c)
		}
	}
	if k.Neg {
		full := s.full
		reg = s.subtractAll(full, cubePtrs(reg), nil)
	}
	return reg, true, usesMark
}

func cubePtrs(r Region) []*Cube {
	out := make([]*Cube, len(r))
	for i := range r {
		out[i] = &r[i]
	}
	return out
}

// actions classifies what the rule does.
func (s *Space) actions(ri *ruleInfo) {
	for _, a := range ri.r.Actions {
		switch a := a.(type) {
		case *policy.Verdict:
			ri.kind = actVerdict
			ri.verdict = a.Kind.String()
			if a.Kind == policy.Reject && a.With != "" {
				ri.verdict += " with " + a.With
			}
		case *policy.Jump:
			ri.kind, ri.target = actJump, a.Target
			ri.verdict = "jump " + a.Target.Name
			if a.Goto {
				ri.kind = actGoto
				ri.verdict = "goto " + a.Target.Name
			}
		case *policy.NAT:
			ri.kind = actVerdict
			ri.verdict = natString(a)
		case *policy.Balance:
			ri.kind = actVerdict
			ri.verdict = "balance " + a.Name
		case *policy.SetMark, *policy.Connmark:
			ri.effects, ri.setsMark = true, true
		default:
			ri.effects = true
		}
		if ri.kind != actNone {
			return
		}
	}
}

func natString(n *policy.NAT) string {
	s := n.Kind.String()
	if n.AddrLo.IsValid() {
		s += " to " + n.AddrLo.String()
		if n.AddrHi != n.AddrLo && n.AddrHi.IsValid() {
			s += "-" + n.AddrHi.String()
		}
	}
	if n.PortLo != 0 {
		s += fmt.Sprintf(":%d", n.PortLo)
		if n.PortHi != n.PortLo {
			s += fmt.Sprintf("-%d", n.PortHi)
		}
	}
	return s
}
