package sem

import (
	"net/netip"

	"github.com/fwcproject/fwc/policy"
)

// Packet is one concrete packet as the rules see it at some point of its
// walk: every field the packet space has. A field in Unknown has no known
// value (the input interface when the route is not known, the packet mark
// after a rule copied it from an unknown connection mark, the ct state in
// a chain that runs before connection tracking); a condition on it is then
// decided only when every value would give the same answer.
type Packet struct {
	Src, Dst netip.Addr // of one family; it is the packet's family
	Proto    policy.Proto
	// SrcPort and DstPort are the ports of tcp, udp, sctp and dccp; 0 for
	// other protocols.
	SrcPort, DstPort uint16
	// InIface and OutIface are the interface names; "" when the packet has
	// none on that side (the input interface of a packet the host sends,
	// the output interface before routing).
	InIface, OutIface string
	CtState           uint32 // one bit: policy.CtNew, CtEstablished, ...
	CtStatus          uint32 // policy.Status* bits; 0 without a connection
	ICMPType          uint8  // for icmp and icmpv6
	ICMPCode          uint8
	TCPFlags          uint8 // policy.FIN ... CWR, for tcp
	Mark, CtMark      uint32
	Unknown           Dims
}

// Dims is a set of dimensions, one bit each.
type Dims uint32

// Has reports whether d is in the set.
func (s Dims) Has(d Dim) bool { return s&(1<<d) != 0 }

// With returns the set with d added.
func (s Dims) With(d Dim) Dims { return s | 1<<d }

// Without returns the set with d removed.
func (s Dims) Without(d Dim) Dims { return s &^ (1 << d) }

// Family returns policy.IPv6 for an IPv6 packet, else policy.IPv4.
func (p *Packet) Family() policy.Family {
	if p.Src.Is6() && !p.Src.Is4In6() {
		return policy.IPv6
	}
	return policy.IPv4
}

// Point is a packet's coordinates in the space of its family. The
// dimensions in Unknown may take any value.
type Point struct {
	V6      bool
	F       [NDim]U128
	Unknown Dims
}

// Point returns p's coordinates: the same encoding the conditions' regions
// use (interface names as their bytes, marks bit-reversed, icmp type and
// code as type<<8|code, the ct state as the index of its bit).
func (p *Packet) Point() Point {
	pt := Point{V6: p.Family() == policy.IPv6, Unknown: p.Unknown}
	pt.F[SAddr] = addrKey(p.Src.Unmap())
	pt.F[DAddr] = addrKey(p.Dst.Unmap())
	pt.F[Proto] = U64(uint64(p.Proto))
	if p.Proto.HasPorts() {
		pt.F[SPort] = U64(uint64(p.SrcPort))
		pt.F[DPort] = U64(uint64(p.DstPort))
	}
	pt.F[IIf] = ifaceKey(p.InIface)
	pt.F[OIf] = ifaceKey(p.OutIface)
	for i := range 5 {
		if p.CtState&(1<<i) != 0 {
			pt.F[CtState] = U64(uint64(i))
			break
		}
	}
	pt.F[CtStatus] = U64(uint64(p.CtStatus & 127))
	pt.F[ICMP] = U64(uint64(p.ICMPType)<<8 | uint64(p.ICMPCode))
	pt.F[TCPFlags] = U64(uint64(p.TCPFlags))
	pt.F[Mark] = markKey(p.Mark)
	pt.F[CtMark] = markKey(p.CtMark)
	return pt
}

// Cube returns the packets pt may be: a point in its known dimensions,
// the whole dimension in the unknown ones.
func (pt Point) Cube() Cube {
	s := SpaceOf(pt.V6)
	c := s.full
	for d := range NDim {
		if !pt.Unknown.Has(Dim(d)) {
			c[d] = Single(pt.F[d])
		}
	}
	return c
}

// Tri is a three-valued answer: No, Yes, or Unknown.
type Tri int

const (
	No Tri = iota
	Yes
	Unknown
)

func (t Tri) String() string { return [...]string{"no", "yes", "unknown"}[t] }

// And is the conjunction: No wins, then Unknown.
func And(a, b Tri) Tri {
	switch {
	case a == No || b == No:
		return No
	case a == Unknown || b == Unknown:
		return Unknown
	}
	return Yes
}

// Contains reports whether every packet pt may be lies in r (Yes), none
// does (No), or some do (Unknown).
func (r Region) Contains(pt Point) Tri {
	q := pt.Cube()
	return r.contains(pt.V6, &q)
}

// contains is Contains for the cube q of a point of the v6 space.
func (r Region) contains(v6 bool, q *Cube) Tri {
	meet := false
	for i := range r {
		if r[i].Contains(q) {
			// The usual answer for a concrete packet, without the
			// coverage walk below.
			return Yes
		}
		if !meet && r[i].Intersects(q) {
			meet = true
		}
	}
	if !meet {
		return No
	}
	if !SpaceOf(v6).AnyLeft(*q, CubePtrs(r), nil) {
		return Yes
	}
	return Unknown
}

// Holds is the concrete meaning of a condition: c holds for the packet at
// pt iff pt lies in c's region. A condition the region does not model
// exactly answers No outside its over-approximation and Unknown inside it.
func Holds(c policy.Cond, pt Point) Tri { return pt.Probe().Holds(c) }

// Probe is a point made ready to be asked about many conditions (a walk
// asks every rule of a chain about one packet): its cube is built once.
// p.Holds(c) is Holds(c, pt), the same answer.
type Probe struct {
	pt   Point
	cube Cube
}

// Probe returns pt ready for Holds.
func (pt Point) Probe() *Probe { return &Probe{pt: pt, cube: pt.Cube()} }

// Holds is Holds(c, the probe's point).
func (p *Probe) Holds(c policy.Cond) Tri {
	// The region of a condition without a concatenation is one cube,
	// the full space cut by each restriction (RegionOf): a point lies in
	// it when each restriction holds its coordinate, and out of it when
	// one misses it; only a point with unknown coordinates that meet a
	// restriction in part needs the region itself.
	s := SpaceOf(p.pt.V6)
	e := s.Lower(c)
	switch {
	case e.Absent:
		return No
	case e.Unmodeled != "":
		return Unknown
	case !e.IsConcat:
		all := true
		for _, x := range e.Restrict[:e.N] {
			q := p.cube[x.Dim]
			if !q.Intersects(x.Set) {
				return No
			}
			all = all && q.Subset(x.Set)
		}
		if all {
			return Yes
		}
	}
	fam := policy.IPv4
	if p.pt.V6 {
		fam = policy.IPv6
	}
	r, exact := RegionOf(c, fam)
	t := r.contains(p.pt.V6, &p.cube)
	if !exact && t == Yes {
		return Unknown
	}
	return t
}

// Packet returns the concrete packet at pt (the inverse of Packet.Point):
// what a witness found in a region is, for a reader or a test. Fields
// outside the protocol's reach (ports of icmp) are dropped, so the
// packet's own point may differ from pt in them.
func (pt Point) Packet() Packet {
	p := Packet{
		Src:      pt.F[SAddr].Addr(pt.V6),
		Dst:      pt.F[DAddr].Addr(pt.V6),
		Proto:    policy.Proto(pt.F[Proto].Lo),
		InIface:  ifaceName(pt.F[IIf]),
		OutIface: ifaceName(pt.F[OIf]),
		CtState:  1 << pt.F[CtState].Lo,
		CtStatus: uint32(pt.F[CtStatus].Lo),
		ICMPType: uint8(pt.F[ICMP].Lo >> 8),
		ICMPCode: uint8(pt.F[ICMP].Lo),
		TCPFlags: uint8(pt.F[TCPFlags].Lo),
		Mark:     unreverse(pt.F[Mark]),
		CtMark:   unreverse(pt.F[CtMark]),
		Unknown:  pt.Unknown,
	}
	if p.Proto.HasPorts() {
		p.SrcPort, p.DstPort = uint16(pt.F[SPort].Lo), uint16(pt.F[DPort].Lo)
	}
	return p
}
