package sem

import (
	"fmt"
	"strings"
)

// Dim names one field of a packet.
type Dim int

const (
	SAddr    Dim = iota // source address (one family per Space)
	DAddr               // destination address
	Proto               // layer-4 protocol, 0-255
	SPort               // source port, 0-65535
	DPort               // destination port
	IIf                 // input interface name, encoded by ifaceKey
	OIf                 // output interface name
	CtState             // index of the one conntrack state bit, 0-4
	CtStatus            // conntrack status bits, 0-127
	ICMP                // icmp type<<8 | code, 0-65535
	TCPFlags            // tcp flags byte
	Mark                // packet mark, bit-reversed (see markKey)
	CtMark              // connection mark, bit-reversed
	NDim
)

var dimNames = [NDim]string{"saddr", "daddr", "proto", "sport", "dport", "iif", "oif",
	"ct state", "ct status", "icmp", "tcp flags", "mark", "ct mark"}

func (d Dim) String() string { return dimNames[d] }

var max128 = U128{^uint64(0), ^uint64(0)}

// maxOf is the largest value of each dimension, for IPv6; NewSpace cuts
// the addresses to 32 bits for IPv4.
var maxOf = [NDim]U128{
	SAddr: max128, DAddr: max128,
	Proto: U64(255), SPort: U64(65535), DPort: U64(65535),
	IIf: max128, OIf: max128,
	CtState: U64(4), CtStatus: U64(127), ICMP: U64(0xffff), TCPFlags: U64(255),
	Mark: U64(0xffffffff), CtMark: U64(0xffffffff),
}

// Cube is a product of per-dimension sets: the packets whose every field
// lies in the set of its dimension. A nil set never appears in a non-empty
// cube; the full dimension is the single interval [0, max].
type Cube [NDim]Intervals

// Space is the packet universe of one address family.
type Space struct {
	V6   bool
	full Cube
}

// NewSpace returns the universe of IPv4 (v6 false) or IPv6 packets.
func NewSpace(v6 bool) *Space {
	s := &Space{V6: v6}
	for d := range NDim {
		s.full[d] = Span(U128{}, maxOf[d])
	}
	if !v6 {
		s.full[SAddr] = Span(U128{}, U64(0xffffffff))
		s.full[DAddr] = s.full[SAddr]
	}
	return s
}

// Full returns the cube of every packet.
func (s *Space) Full() Cube { return s.full }

// IsFull reports whether c is unrestricted in d.
func (s *Space) IsFull(c *Cube, d Dim) bool {
	return len(c[d]) == 1 && c[d][0] == s.full[d][0]
}

func (c *Cube) Intersects(o *Cube) bool {
	for d := range NDim {
		if !c[d].Intersects(o[d]) {
			return false
		}
	}
	return true
}

// intersect returns c ∩ o and whether it is non-empty.
// contains reports whether o ⊆ c.
func (c *Cube) Contains(o *Cube) bool {
	for d := range NDim {
		if !o[d].Subset(c[d]) {
			return false
		}
	}
	return true
}

func (c *Cube) Intersect(o *Cube) (Cube, bool) {
	var r Cube
	for d := range NDim {
		r[d] = c[d].Intersect(o[d])
		if r[d].Empty() {
			return r, false
		}
	}
	return r, true
}

// minus returns c \ o as disjoint cubes (at most one per dimension in which
// o is narrower than c).
func (c *Cube) Minus(o *Cube) []Cube {
	if !c.Intersects(o) {
		return []Cube{*c}
	}
	var out []Cube
	cur := *c
	for d := range NDim {
		rest := cur[d].Minus(o[d])
		if rest.Empty() {
			continue
		}
		piece := cur
		piece[d] = rest
		out = append(out, piece)
		cur[d] = cur[d].Intersect(o[d])
	}
	return out
}

// Region is a union of cubes; the cubes of a Region built by this package
// are pairwise disjoint unless said otherwise.
type Region []Cube

// Empty reports whether r holds no packet.
func (r Region) Empty() bool { return len(r) == 0 }

// IntersectCube returns r ∩ c.
func (r Region) IntersectCube(c *Cube) Region {
	var out Region
	for i := range r {
		if x, ok := r[i].Intersect(c); ok {
			out = append(out, x)
		}
	}
	return out
}

// Intersect returns r ∩ o.
func (r Region) Intersect(o Region) Region {
	var out Region
	for i := range o {
		out = append(out, r.IntersectCube(&o[i])...)
	}
	return out
}

// Sample returns one packet of a non-empty cube, preferring values a
// reader recognises (tcp over other protocols, a port above 1023 for the
// source).
func (s *Space) Sample(c *Cube) Example {
	var p Example
	for d := range NDim {
		p.f[d] = c[d].Min()
	}
	for _, v := range []uint64{6, 17, 1, 58} {
		if c[Proto].Has(U64(v)) {
			p.f[Proto] = U64(v)
			break
		}
	}
	if c[SPort].Has(U64(1024)) {
		p.f[SPort] = U64(1024)
	}
	if c[CtState].Has(U64(3)) { // new
		p.f[CtState] = U64(3)
	}
	p.v6 = s.V6
	p.full = [NDim]bool{}
	for d := range NDim {
		p.full[d] = s.IsFull(c, Dim(d))
	}
	return p
}

// Example is one point of a Space chosen to show a reader, with the
// dimensions its cube left unrestricted (see Fields).
type Example struct {
	v6   bool
	f    [NDim]U128
	full [NDim]bool // the cube it came from did not restrict the field
}

// String describes the packet by the fields its cube restricted; see
// Fields.
func (p Example) String() string {
	var shown [NDim]bool
	for d := range NDim {
		shown[d] = !p.full[d]
	}
	return p.Fields(shown)
}

// Fields describes the packet by the fields marked in shown, in the words
// of a rule's conditions: "tcp saddr 10.0.0.1 dport 22 iif \"eth0\"". Only
// those fields are written (a packet of any value of the others is meant);
// ports are written for protocols that have them. When no address is
// written, an IPv6 packet says "(IPv6)".
func (p Example) Fields(shown [NDim]bool) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	proto := p.f[Proto].Lo
	if shown[Proto] {
		switch proto {
		case 6:
			add("tcp")
		case 17:
			add("udp")
		case 1:
			add("icmp")
		case 58:
			add("icmpv6")
		default:
			add("proto %d", proto)
		}
	}
	ports := proto == 6 || proto == 17 || proto == 132 || proto == 136
	if shown[SAddr] {
		add("saddr %s", p.f[SAddr].Addr(p.v6))
	}
	if ports && shown[SPort] {
		add("sport %d", p.f[SPort].Lo)
	}
	if shown[DAddr] {
		add("daddr %s", p.f[DAddr].Addr(p.v6))
	}
	if ports && shown[DPort] {
		add("dport %d", p.f[DPort].Lo)
	}
	if (proto == 1 || proto == 58) && shown[ICMP] {
		add("type %d code %d", p.f[ICMP].Lo>>8, p.f[ICMP].Lo&0xff)
	}
	if shown[IIf] {
		add("iif %q", ifaceName(p.f[IIf]))
	}
	if shown[OIf] {
		add("oif %q", ifaceName(p.f[OIf]))
	}
	if shown[CtState] {
		add("ct state %s", ctStateNames[p.f[CtState].Lo])
	}
	if shown[CtStatus] {
		add("ct status 0x%x", p.f[CtStatus].Lo)
	}
	if proto == 6 && shown[TCPFlags] {
		add("tcp flags 0x%02x", p.f[TCPFlags].Lo)
	}
	if shown[Mark] {
		add("mark 0x%x", unreverse(p.f[Mark]))
	}
	if shown[CtMark] {
		add("ct mark 0x%x", unreverse(p.f[CtMark]))
	}
	if p.v6 && !shown[SAddr] && !shown[DAddr] {
		add("(IPv6)")
	}
	if len(parts) == 0 {
		return "any packet"
	}
	return strings.Join(parts, " ")
}

var ctStateNames = [5]string{"invalid", "established", "related", "new", "untracked"}
