package sem

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
// names are at most 15 bytes; longer ones are cut. The empty name (no
// interface: the input interface of a packet the host sends) is 0.
func ifaceKey(name string) U128 {
	var b [16]byte
	copy(b[:], name)
	return U128{beUint64(b[:8]), beUint64(b[8:])}
}

func ifacePrefix(p string) Interval {
	var lo, hi [16]byte
	copy(lo[:], p)
	for i := range hi {
		hi[i] = 0xff
	}
	copy(hi[:], p)
	return Interval{U128{beUint64(lo[:8]), beUint64(lo[8:])}, U128{beUint64(hi[:8]), beUint64(hi[8:])}}
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

func ifaceName(v U128) string {
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
func markKey(v uint32) U128 { return U64(uint64(bits.Reverse32(v))) }

func unreverse(v U128) uint32 { return bits.Reverse32(uint32(v.Lo)) }

// MarkKey is the coordinate of mark v in the Mark and CtMark dimensions,
// for walkers that set a mark; MarkOf is its inverse.
func MarkKey(v uint32) U128 { return markKey(v) }

// MarkOf is the mark at coordinate k of the Mark or CtMark dimension.
func MarkOf(k U128) uint32 { return unreverse(k) }

// maxMarkIntervals bounds the intervals a mark condition may expand to; a
// wider pattern is not modelled (the condition becomes inexact).
const maxMarkIntervals = 4096

func markSet(value, mask uint32) (Intervals, bool) {
	rm, rv := bits.Reverse32(mask), bits.Reverse32(value&mask)
	if rm == 0 {
		return Span(U128{}, U64(0xffffffff)), true
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
	out := make([]Interval, 0, 1<<len(free))
	for k := range 1 << len(free) {
		lo := uint64(rv)
		for j, b := range free {
			if k&(1<<j) != 0 {
				lo |= 1 << b
			}
		}
		out = append(out, Interval{U64(lo), U64(lo | (1<<low - 1))})
	}
	return Normalize(out), true
}

func addrRange(a policy.AddrItem, v6 bool) (Interval, bool) {
	if a.Is4() == v6 {
		return Interval{}, false
	}
	var lo, hi netip.Addr
	if a.Prefix.IsValid() {
		p := a.Prefix.Masked()
		lo = p.Addr()
		hi = lastAddr(p)
	} else {
		lo, hi = a.Lo, a.Hi
	}
	return Interval{addrKey(lo), addrKey(hi)}, true
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func addrKey(a netip.Addr) U128 {
	if a.Is4() {
		b := a.As4()
		return U64(uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3]))
	}
	b := a.As16()
	return U128{beUint64(b[:8]), beUint64(b[8:])}
}

// tracked is the ct state dimension's values of a packet that has a
// connection: established, related, new. An invalid or untracked packet
// has none, and the kernel's ct mark and ct status matches then fail,
// negated or not (nft's ct expression breaks the rule; xt_connmark and
// xt_conntrack return false before looking at the inversion).
var tracked = Span(U64(1), U64(3))

// Restriction is one dimension's allowed values, negation already applied.
type Restriction struct {
	Dim Dim
	Set Intervals
}

// Effect is what one condition says about a packet of one family: the
// region it allows is the full space cut by every Restriction, intersected
// with Concat when IsConcat.
type Effect struct {
	// Absent: the condition cannot hold in this family (an address of the
	// other family, icmp on IPv6, a set of the other family's addresses).
	Absent bool
	// Unmodeled, when not "", says why the condition is not modelled (a
	// rate limit, time, a dynamic set, ...): its region is then the full
	// space, an over-approximation, and Restrict and Concat are empty.
	Unmodeled string
	// Restrict[:N] are the dimensions the condition restricts: at most
	// two (icmp and tcp flags also fix the protocol, ct status and ct
	// mark the ct state). An array, not a slice, so that lowering a
	// condition allocates nothing more than its sets: the symbolic walk
	// lowers every condition of every rule.
	Restrict [2]Restriction
	N        int
	// Concat is the region of a lookup in a concatenated set: one cube per
	// element, or the complement of their union when negated.
	Concat   Region
	IsConcat bool
	// UsesMark: the condition reads the packet or connection mark.
	UsesMark bool
}

// Lower returns the Effect of c on packets of s's family. It is the one
// place that says what a condition means; RegionOf, Holds and the
// symbolic walker of check/space all read it.
func (s *Space) Lower(c policy.Cond) Effect {
	fam := policy.IPv4
	if s.V6 {
		fam = policy.IPv6
	}
	var e Effect
	add := func(d Dim, set Intervals, neg bool) {
		if neg {
			set = s.full[d].Minus(set)
		}
		e.Restrict[e.N] = Restriction{d, set}
		e.N++
	}
	unmodeled := func(why string) Effect { return Effect{Unmodeled: why, UsesMark: e.UsesMark} }
	switch k := c.(type) {
	case *policy.AddrCond:
		d := SAddr
		if k.Dir == policy.Dst {
			d = DAddr
		}
		var set []Interval
		if k.Set != nil {
			if k.Set.Family&fam == 0 {
				return Effect{Absent: true}
			}
			if Dynamic(k.Set) {
				return unmodeled("set @" + k.Set.Name + " can change at run time")
			}
			for _, el := range k.Set.Elements {
				if x, ok := addrRange(el.Parts[0].Addr, s.V6); ok {
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
				return Effect{Absent: true}
			}
		}
		add(d, Normalize(set), k.Neg)
	case *policy.ProtoCond:
		set := make([]Interval, 0, len(k.Protos))
		for _, p := range k.Protos {
			set = append(set, Interval{U64(uint64(p)), U64(uint64(p))})
		}
		add(Proto, Normalize(set), k.Neg)
	case *policy.PortCond:
		d := SPort
		if k.Dir == policy.Dst {
			d = DPort
		}
		var set []Interval
		if k.Set != nil {
			if Dynamic(k.Set) {
				return unmodeled("set @" + k.Set.Name + " can change at run time")
			}
			for _, el := range k.Set.Elements {
				set = append(set, Interval{U64(uint64(el.Parts[0].Port)), U64(uint64(el.Parts[0].Port))})
			}
		} else {
			for _, p := range k.Ranges {
				set = append(set, Interval{U64(uint64(p.Lo)), U64(uint64(p.Hi))})
			}
		}
		add(d, Normalize(set), k.Neg)
	case *policy.IfaceCond:
		d := IIf
		if k.Dir == policy.Dst {
			d = OIf
		}
		var set []Interval
		one := func(name string, wild bool) {
			if wild || strings.HasSuffix(name, "*") {
				set = append(set, ifacePrefix(strings.TrimSuffix(name, "*")))
			} else {
				set = append(set, Interval{ifaceKey(name), ifaceKey(name)})
			}
		}
		if k.Set != nil {
			if Dynamic(k.Set) {
				return unmodeled("set @" + k.Set.Name + " can change at run time")
			}
			for _, el := range k.Set.Elements {
				one(el.Parts[0].Iface, false)
			}
		} else {
			for _, i := range k.Ifaces {
				one(i.Name, i.Wildcard)
			}
		}
		add(d, Normalize(set), k.Neg)
	case *policy.ICMPCond:
		if k.V6 != s.V6 {
			return Effect{Absent: true}
		}
		p := uint64(policy.ProtoICMP)
		if k.V6 {
			p = uint64(policy.ProtoICMPv6)
		}
		add(Proto, Single(U64(p)), false)
		set := make([]Interval, 0, len(k.Types))
		for _, t := range k.Types {
			base := uint64(t.Type) << 8
			if t.Code < 0 {
				set = append(set, Interval{U64(base), U64(base | 0xff)})
			} else {
				set = append(set, Interval{U64(base | uint64(t.Code)), U64(base | uint64(t.Code))})
			}
		}
		add(ICMP, Normalize(set), k.Neg)
	case *policy.TCPFlagsCond:
		add(Proto, Single(U64(uint64(policy.ProtoTCP))), false)
		var set []Interval
		for x := range 256 {
			if (uint8(x)&k.Mask == k.Flags) != k.Neg {
				set = append(set, Interval{U64(uint64(x)), U64(uint64(x))})
			}
		}
		add(TCPFlags, Normalize(set), false)
	case *policy.CtStateCond:
		var set []Interval
		for i := range 5 {
			if k.Bits&(1<<i) != 0 {
				set = append(set, Interval{U64(uint64(i)), U64(uint64(i))})
			}
		}
		add(CtState, Normalize(set), k.Neg)
	case *policy.CtStatusCond:
		add(CtState, tracked, false)
		var set []Interval
		for x := range 128 {
			if uint32(x)&k.Bits != 0 {
				set = append(set, Interval{U64(uint64(x)), U64(uint64(x))})
			}
		}
		add(CtStatus, Normalize(set), k.Neg)
	case *policy.MarkCond:
		e.UsesMark = true
		d := Mark
		if k.Ct {
			d = CtMark
			add(CtState, tracked, false)
		}
		if k.Set != nil {
			// `mark @s`: the whole mark is one of the elements.
			if Dynamic(k.Set) {
				return unmodeled("set @" + k.Set.Name + " can change at run time")
			}
			var set []Interval
			for _, el := range k.Set.Elements {
				one, _ := markSet(el.Parts[0].Mark, 0xffffffff)
				set = append(set, one...)
			}
			add(d, Normalize(set), k.Neg)
			break
		}
		set, ok := markSet(k.Value, k.Mask)
		if !ok {
			return unmodeled(fmt.Sprintf("mark mask 0x%x is too scattered to model", k.Mask))
		}
		add(d, set, k.Neg)
	case *policy.ConcatCond:
		if k.Set == nil || Dynamic(k.Set) {
			return unmodeled("a concatenated set can change at run time")
		}
		e.Concat, e.UsesMark = s.concat(k)
		e.IsConcat = true
	case *policy.LimitCond:
		return unmodeled("it has a rate limit")
	case *policy.MeterCond:
		return unmodeled("it has a meter")
	case *policy.ConnlimitCond:
		return unmodeled("it has a connection limit")
	case *policy.TimeCond:
		return unmodeled("it matches on time")
	case *policy.ProbCond:
		return unmodeled("it matches with a probability")
	case *policy.StringCond:
		return unmodeled("it matches payload strings")
	default:
		return unmodeled(fmt.Sprintf("%T is not modelled", c))
	}
	return e
}

// Dynamic reports whether the elements of set can change at run time (a
// timeout on the set or on an element): a lookup in it is not modelled.
func Dynamic(set *policy.Set) bool {
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
func (s *Space) concat(k *policy.ConcatCond) (Region, bool) {
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
			var set Intervals
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
				set = Intervals{x}
			case policy.KeySport, policy.KeyDport:
				d = SPort
				if key == policy.KeyDport {
					d = DPort
				}
				set = Single(U64(uint64(v.Port)))
			case policy.KeyIif, policy.KeyOif:
				d = IIf
				if key == policy.KeyOif {
					d = OIf
				}
				set = Single(ifaceKey(v.Iface))
			case policy.KeyMark:
				d = Mark
				usesMark = true
				set = Single(markKey(v.Mark))
			}
			if !ok {
				break
			}
			c[d] = c[d].Intersect(set)
		}
		if ok {
			reg = append(reg, c)
		}
	}
	if k.Neg {
		full := s.full
		reg = s.SubtractAll(full, CubePtrs(reg), nil)
	}
	return reg, usesMark
}

// CubePtrs returns pointers to r's cubes, as SubtractAll takes them.
func CubePtrs(r Region) []*Cube {
	out := make([]*Cube, len(r))
	for i := range r {
		out[i] = &r[i]
	}
	return out
}

// Spaces are the universes of IPv4 (index 0) and IPv6 (index 1) packets.
var spaces = [2]*Space{NewSpace(false), NewSpace(true)}

// SpaceOf returns the shared, read-only Space of IPv4 (v6 false) or IPv6.
func SpaceOf(v6 bool) *Space {
	if v6 {
		return spaces[1]
	}
	return spaces[0]
}

// RegionOf returns the packets of family fam (policy.IPv4 or IPv6) for
// which c holds. When exact is false the region over-approximates: the
// condition is not modelled (rate limits, time, probability, payload
// strings, meters, connection limits, dynamic sets, a mark mask too
// scattered) and every packet is in it; a packet outside it still never
// matches. An empty Region means the condition cannot hold in fam.
func RegionOf(c policy.Cond, fam policy.Family) (r Region, exact bool) {
	s := SpaceOf(fam == policy.IPv6)
	e := s.Lower(c)
	switch {
	case e.Absent:
		return nil, true
	case e.Unmodeled != "":
		return Region{s.full}, false
	}
	cube := s.full
	for _, x := range e.Restrict[:e.N] {
		cube[x.Dim] = cube[x.Dim].Intersect(x.Set)
		if cube[x.Dim].Empty() {
			return nil, true
		}
	}
	r = Region{cube}
	if e.IsConcat {
		r = r.Intersect(e.Concat)
	}
	return r, true
}
