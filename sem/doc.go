// Package sem is fwc's one definition of what a packet is and what a
// condition means. The symbolic engine (check/space, for the lint passes),
// the concrete walk over IR (package sim, for apply's lock-out check and
// `fwc trace`) and, later, diff and assert all ask it, so that they cannot
// disagree about whether a rule matches a packet.
//
// # Decision
//
// A condition's meaning is a region of a packet space, and a concrete
// packet is a point of that space: the condition holds for the packet iff
// its region contains the point (Holds). Both engines read the regions of
// one function (Space.Lower); neither has its own switch over condition
// kinds. Why a region and not a concrete predicate beside a symbolic one:
// the symbolic engine needs regions anyway (union, difference, coverage,
// witnesses), and deriving membership from them makes agreement a matter
// of construction, not of two switches kept in step by hand, which is how
// the old apply Evaluate and check/space came to differ (Evaluate knew
// that a ct mark match fails on an untracked packet; the space did not).
// Why a package of its own rather than check/space or ir: the model is
// needed after ir (sim, apply) and before it (check), so it depends only
// on policy, the stage that defines conditions; the walkers stay with
// their stages. The kernel's traversal facts (hooks per path, priorities,
// where conntrack runs, nat only on a connection's first packet) are data
// here too, so the walks order chains the same way.
//
// # Model
//
// A packet is a point with one coordinate per Dim: source and destination
// address (one family per Space: IPv4 and IPv6 are separate universes, as
// ir splits them), protocol, ports, input and output interface (the name's
// bytes as a 128-bit number, so that "eth*" is one interval, and "" for no
// interface is 0), ct state, ct status, icmp type and code, tcp flags, and
// packet and connection mark (bit-reversed, so the usual low-bit masks are
// a few intervals). Every dimension is a set of disjoint closed intervals
// of 128-bit numbers (Intervals); a Cube is the product of one set per
// dimension, a Region a union of cubes. A negated condition is its
// dimension's complement; a lookup in a concatenated set is a union of
// cubes; icmp and tcp flags conditions also fix the protocol, and ct
// status and ct mark conditions the ct state (only a tracked packet has
// them: the kernel's match fails on an invalid or untracked one, negated
// or not).
//
// Conditions that cannot be modelled (rate limits, meters, connlimit,
// time, probability, payload strings, a dynamic set, a mark mask too
// scattered to expand) are inexact: their region is the whole space, an
// over-approximation. For a concrete packet they answer Unknown, and the
// concrete walk follows both answers.
//
// A concrete Packet may leave fields Unknown (an interface the route does
// not tell, a mark copied from an unknown connection mark); its point then
// stands for every value of those fields, and a condition holds Yes or No
// only when every such value gives the same answer.
//
// The product space holds combinations no packet has (ports on icmp, a
// status on an untracked packet). They can only make a symbolic rule look
// live, never dead; a real packet's point never lies on them.
package sem
