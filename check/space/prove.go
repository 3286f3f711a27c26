package space

import (
	"net/netip"

	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// Claim is one thing to prove: every packet of Region (in the family of
// Space), crossing the host on Path, is accepted (Accept) or is not.
type Claim struct {
	Space  *Space
	Path   sem.Path
	Region Region
	Accept bool
	// What names the claim in messages: "packets", "the replies".
	What string
	// Replies: Region holds the replies to packets of another claim; its
	// witness is then chosen as the reply to a packet chosen as usual.
	Replies bool
	// NAT, when not nil, replaces Accept: every packet the ruleset
	// accepts is translated by a nat rule of this kind (those it drops
	// are not judged).
	NAT *policy.NATKind
}

// holds reports whether o is what c claims.
func (c *Claim) holds(o *Outcome) bool {
	if c.NAT != nil {
		return !o.Accept || o.Translated(*c.NAT)
	}
	return o.Accept == c.Accept
}

// Proof is the answer to a Claim.
type Proof struct {
	Claim *Claim
	// Holds: every packet gets the claimed verdict.
	Holds bool
	// Witness, when the claim fails for certain, is a packet that gets
	// the other verdict, and Outcome says which rule decided it.
	Witness *sem.Packet
	Outcome *Outcome
	// Undecided, when neither holds nor a certain witness was found, says
	// why: a packet may get the other verdict depending on what the proof
	// does not model (Outcome is then that possible way), or the walk was
	// incomplete.
	Undecided string
}

// Prove walks the claim's packets through n and reports whether each gets
// the claimed verdict.
func Prove(n *Net, c *Claim) *Proof {
	res := Flow(n, c.Space, c.Path, c.Region)
	pr := &Proof{Claim: c}
	if res.Incomplete != "" {
		// The flows the walk left where it stopped are in the outcomes
		// as if their chains had ended there: nothing is certain.
		pr.Undecided = res.Incomplete
		return pr
	}
	var maybe *Outcome
	for i := range res.Outcomes {
		o := &res.Outcomes[i]
		if c.holds(o) {
			continue
		}
		if o.Maybe == "" {
			w := c.witness(&o.Entry)
			pr.Witness, pr.Outcome = &w, o
			return pr
		}
		if maybe == nil {
			maybe = o
		}
	}
	switch {
	case maybe != nil:
		pr.Outcome, pr.Undecided = maybe, maybe.Maybe
		w := c.witness(&maybe.Entry)
		pr.Witness = &w
	default:
		pr.Holds = true
	}
	return pr
}

func (c *Claim) witness(cube *Cube) sem.Packet {
	if !c.Replies {
		return Witness(c.Space, cube)
	}
	r := swap(Region{*cube})
	p := Witness(c.Space, &r[0])
	p.Src, p.Dst = p.Dst, p.Src
	p.SrcPort, p.DstPort = p.DstPort, p.SrcPort
	p.InIface, p.OutIface = p.OutIface, p.InIface
	return p
}

// PathOf is the path of the packets a filter hook of a zone rule sees:
// input's are for the host, output's from it, forward's through it.
func PathOf(h policy.Hook) sem.Path {
	switch h {
	case policy.Input:
		return sem.ToSelf
	case policy.Output:
		return sem.FromSelf
	}
	return sem.Forwarded
}

// AssertClaims returns what a checked assert claims, per family the
// assert has packets in: that its packets get its verdict, and for a
// management assert also that the connections it opens carry on, both
// ways (its packets in ct state established, and the replies: addresses,
// ports and interfaces swapped, on the reverse path). Inexact, when not
// "", says that a condition of the assert is one the proof cannot model
// (a rate limit, a dynamic set): an assert must name its packets exactly.
//
// An assert names packets as they enter the host. What it leaves open is
// filled in as a packet of a new connection has it: ct state new, ct
// status and connection mark 0, packet mark 0, tcp flags syn, an input
// interface other than lo when the packet arrives, none when the host
// sends it (and the other way round for the output interface).
func AssertClaims(a *policy.Assert) (claims []*Claim, inexact string) {
	path := PathOf(a.Hook)
	for _, v6 := range []bool{false, true} {
		s := NewSpace(v6)
		var region Region
		for _, r := range a.Rules {
			ri, ok, _ := lowerRule(s, r)
			if !ok {
				continue
			}
			if !ri.exact && inexact == "" {
				inexact = ri.unmodeled
			}
			region = append(region, ri.region...)
		}
		if len(region) == 0 {
			continue
		}
		main := defaults(s, path, region, false)
		claims = append(claims, &Claim{Space: s, Path: path, Region: main, Accept: a.Verdict == policy.Accept, NAT: a.NAT, What: "packets"})
		if a.Management && a.NAT == nil {
			est := defaults(s, path, region, true)
			claims = append(claims,
				&Claim{Space: s, Path: path, Region: est, Accept: true, What: "the connections' further packets"},
				&Claim{Space: s, Path: Reverse(path), Region: swap(est), Accept: true, What: "the replies", Replies: true})
		}
	}
	return claims, inexact
}

// Reverse is the path of the replies to packets on p.
func Reverse(p sem.Path) sem.Path {
	switch p {
	case sem.ToSelf:
		return sem.FromSelf
	case sem.FromSelf:
		return sem.ToSelf
	}
	return p
}

// defaults fills in the dimensions region leaves whole (see AssertClaims);
// established makes it the packets after the first of a connection (ct
// state established, tcp flags ack, any ct status and connection mark).
func defaults(s *Space, path sem.Path, region Region, established bool) Region {
	none := sem.Single(sem.U128{})
	some := s.Full()[IIf].Minus(none)
	// Unless the assert names interfaces, its packets come from other
	// hosts or go to them: loopback carries the host's own traffic.
	lo := sem.Packet{Src: netip.IPv4Unspecified(), Dst: netip.IPv4Unspecified(), InIface: "lo"}
	real := some.Minus(sem.Single(lo.Point().F[IIf]))
	out := make(Region, 0, len(region))
	for _, c := range region {
		set := func(d Dim, v ivs) {
			if s.IsFull(&c, d) {
				c[d] = v
			}
		}
		switch path {
		case sem.ToSelf:
			c[OIf] = c[OIf].Intersect(none)
			set(IIf, real)
		case sem.FromSelf:
			c[IIf] = c[IIf].Intersect(none)
			set(OIf, real)
		default:
			set(IIf, real)
			set(OIf, real)
			c[IIf], c[OIf] = c[IIf].Intersect(some), c[OIf].Intersect(some)
		}
		set(Mark, sem.Single(sem.MarkKey(0)))
		if established {
			c[CtState] = sem.Single(sem.U64(1))
			c[TCPFlags] = c[TCPFlags].Intersect(sem.Single(sem.U64(uint64(policy.ACK))))
		} else {
			set(CtState, sem.Single(sem.U64(3)))
			if c[CtState].Subset(sem.Single(sem.U64(3))) {
				set(CtStatus, sem.Single(sem.U64(0)))
				set(CtMark, sem.Single(sem.MarkKey(0)))
				set(TCPFlags, sem.Single(sem.U64(uint64(policy.SYN))))
			}
		}
		if nonEmpty(&c) {
			out = append(out, c)
		}
	}
	return out
}

func nonEmpty(c *Cube) bool {
	for d := range NDim {
		if c[d].Empty() {
			return false
		}
	}
	return true
}

// swap turns packets into their replies: source and destination address,
// port and interface exchanged.
func swap(r Region) Region {
	out := make(Region, len(r))
	for i, c := range r {
		c[SAddr], c[DAddr] = c[DAddr], c[SAddr]
		c[SPort], c[DPort] = c[DPort], c[SPort]
		c[IIf], c[OIf] = c[OIf], c[IIf]
		out[i] = c
	}
	return out
}
