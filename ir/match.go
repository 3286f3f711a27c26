package ir

import (
	"net/netip"
	"time"

	"github.com/fwcproject/fwc/policy"
)

// Match is one typed condition of a rule.
type Match interface{ match() }

// Addr matches the source (Src) or destination address against Items (all
// of the rule's family) or a named Set. Neg: the address is in none of them.
type Addr struct {
	Dir   policy.Dir
	Neg   bool
	Items []policy.AddrItem
	Set   *Set
}

// Proto matches the layer-4 protocol (one of Protos; none of them with Neg).
type Proto struct {
	Neg    bool
	Protos []policy.Proto
}

// Port matches source or destination ports of Proto (a port protocol that a
// Proto match of the same rule also requires). Ranges are inclusive.
type Port struct {
	Proto  policy.Proto
	Dir    policy.Dir
	Neg    bool
	Ranges []policy.PortRange
	Set    *Set
}

// Iface matches the input (Src) or output (Dst) interface by name; a
// Wildcard name is a prefix. Names are matched as strings, so interfaces
// need not exist when the ruleset loads.
type Iface struct {
	Dir    policy.Dir
	Neg    bool
	Ifaces []policy.Iface
	Set    *Set
}

// ICMP matches icmp (V6 false; the rule is IPv4) or icmpv6 types.
type ICMP struct {
	V6    bool
	Neg   bool
	Types []policy.ICMPType
}

// TCPFlags holds when (flags & Mask) == Flags, or != with Neg; bits as
// policy.FIN ... policy.CWR.
type TCPFlags struct {
	Neg   bool
	Flags uint8
	Mask  uint8
}

// CtState holds when the conntrack state is one of Bits (policy.CtNew...).
type CtState struct {
	Neg  bool
	Bits uint32
}

// CtStatus holds when the connection has one of Bits (policy.StatusDNAT...).
type CtStatus struct {
	Neg  bool
	Bits uint32
}

// Mark holds when (mark & Mask) == Value for the packet mark, or the
// connection mark when Ct. Mask 0xffffffff is an exact match.
type Mark struct {
	Ct    bool
	Neg   bool
	Value uint32
	Mask  uint32
	// Set, when not nil, is a set of marks the whole mark is looked up in
	// (Value and Mask unused).
	Set *Set
}

// Limit is one global token bucket: Rate packets per unit, Burst packets
// (0: backend default 5). Without Over it holds for packets within the
// rate; with Over, for the excess.
type Limit struct {
	Over  bool
	Rate  policy.Rate
	Burst uint32
}

// Meter is a token bucket per source (Per Src) or destination address,
// grouped by MaskLen bits (-1: whole address). Set is the dynamic set the
// nft backend keeps the buckets in; Name is the user's meter name, shared
// by rules that share buckets (iptables hashlimit name).
type Meter struct {
	Name    string
	Per     policy.Dir
	MaskLen int
	Over    bool
	Rate    policy.Rate
	Burst   uint32
	Set     *Set
}

// Connlimit holds when the number of tracked connections from the
// packet's source (grouped by MaskLen bits, -1: whole address) is at most
// Count, or above it with Over. Set is the nft dynamic set of counters.
type Connlimit struct {
	Over    bool
	Count   uint32
	MaskLen int
	Set     *Set
}

// Time holds within [HourFrom, HourTo) of the day (when HasHour), on Days
// (bit 0 Monday ... bit 6 Sunday; 0 means any day), and between DateFrom
// and DateTo (when HasDate). All times are UTC. Neg inverts the whole.
type Time struct {
	Neg              bool
	HasHour          bool
	HourFrom, HourTo time.Duration
	Days             uint8
	HasDate          bool
	DateFrom, DateTo time.Time
}

// Random holds with probability P, 0 < P < 1 (statistic / numgen).
type Random struct {
	P float64
}

// String matches Text in the payload with algorithm Algo ("bm" or "kmp").
// Only the iptables backend can express it.
type String struct {
	Neg  bool
	Text string
	Algo string
}

// Concat looks several fields up together in Set, in the order of the
// set's type. Proto is the port protocol when a key is a port.
type Concat struct {
	Neg   bool
	Keys  []policy.Key
	Proto policy.Proto
	Set   *Set
}

func (*Addr) match()      {}
func (*Proto) match()     {}
func (*Port) match()      {}
func (*Iface) match()     {}
func (*ICMP) match()      {}
func (*TCPFlags) match()  {}
func (*CtState) match()   {}
func (*CtStatus) match()  {}
func (*Mark) match()      {}
func (*Limit) match()     {}
func (*Meter) match()     {}
func (*Connlimit) match() {}
func (*Time) match()      {}
func (*Random) match()    {}
func (*String) match()    {}
func (*Concat) match()    {}

// Action is one typed action of a rule.
type Action interface{ action() }

// Verdict ends evaluation: accept, drop, reject (of kind Reject) or return.
type Verdict struct {
	Kind   policy.VerdictKind
	Reject RejectKind
}

// Jump calls Target (a user chain of the same table); with Goto it
// continues there and does not come back.
type Jump struct {
	Goto   bool
	Target *Chain
}

// Log writes a kernel log line; Level is the syslog level 0-7.
type Log struct {
	Prefix                             string
	Level                              int
	TCPSequence, TCPOptions, IPOptions bool
}

// Counter counts packets and bytes.
type Counter struct{}

// SetMark sets the packet mark (connection mark with Ct):
// mark = (mark &^ Mask) | Value.
type SetMark struct {
	Ct    bool
	Value uint32
	Mask  uint32
}

// Connmark copies the mark between packet and connection under Mask:
// Restore copies connection to packet, otherwise packet to connection.
type Connmark struct {
	Restore bool
	Mask    uint32
}

// NAT rewrites the source (SNAT, Masquerade) or destination (DNAT,
// Redirect). AddrLo..AddrHi is an inclusive range of the rule's family
// (both invalid when absent); PortLo..PortHi an inclusive port range (0:
// unchanged).
type NAT struct {
	Kind                            policy.NATKind
	AddrLo, AddrHi                  netip.Addr
	PortLo, PortHi                  uint16
	Random, RandomFully, Persistent bool
}

// Balance DNATs a new connection to one of Endpoints (all of the rule's
// family) with equal chance. The iptables backend cascades statistic
// matches with probabilities 1/n, 1/(n-1), ..., 1 (see Probability) into
// one chain per endpoint; nft uses a numgen random mod n map.
type Balance struct {
	Name      string
	Endpoints []netip.AddrPort
}

// Notrack exempts the packet from connection tracking.
type Notrack struct{}

// Trace turns on netfilter tracing for the packet.
type Trace struct{}

// SetTOS sets the IPv4 TOS / IPv6 traffic class byte.
type SetTOS struct{ Value uint8 }

// SetTTL sets the IPv4 TTL / IPv6 hop limit.
type SetTTL struct{ Value uint8 }

func (*Verdict) action()  {}
func (*Jump) action()     {}
func (*Log) action()      {}
func (*Counter) action()  {}
func (*SetMark) action()  {}
func (*Connmark) action() {}
func (*NAT) action()      {}
func (*Balance) action()  {}
func (*Notrack) action()  {}
func (*Trace) action()    {}
func (*SetTOS) action()   {}
func (*SetTTL) action()   {}

// IsTerminal reports whether a ends the packet's evaluation in its chain.
func IsTerminal(a Action) bool {
	switch a := a.(type) {
	case *Verdict, *NAT, *Balance:
		return true
	case *Jump:
		return a.Goto
	}
	return false
}
