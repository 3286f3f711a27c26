package policy

import (
	"fmt"
	"net/netip"
)

// Action is one typed action of a rule. Terminal reports whether it ends
// evaluation of the packet in its chain (a jump returns, so it is not
// terminal; a goto is). The method is exported, unlike Cond's marker,
// because the IR adds actions of its own to rules of policy's actions (a
// jump to a lowered chain, a verdict map made by merging).
type Action interface{ Terminal() bool }

// VerdictKind is a terminal verdict.
type VerdictKind int

const (
	Accept VerdictKind = iota
	Drop
	Reject
	Return
)

func (v VerdictKind) String() string {
	return [...]string{"accept", "drop", "reject", "return"}[v]
}

// Verdict ends evaluation. For Reject, With is the reject type as written
// in the language ("tcp-reset", "icmp-port-unreachable", ...; "" for the
// backend default).
type Verdict struct {
	At
	Kind VerdictKind
	With string
}

// Jump calls (or with Goto, continues in) a user chain of the same table.
type Jump struct {
	At
	Goto   bool
	Target *Chain
}

// Log writes a kernel log line.
type Log struct {
	At
	Prefix string // at most 29 bytes
	Level  int    // syslog level 0-7; 4 (warning) by default
	// Flags: TCPSequence, TCPOptions, IPOptions.
	TCPSequence, TCPOptions, IPOptions bool
}

// Counter counts packets and bytes.
type Counter struct {
	At
}

// SetMark sets the packet mark (or the connection mark when Ct):
// mark = (mark &^ Mask) | Value.
type SetMark struct {
	At
	Ct    bool
	Value uint32
	Mask  uint32 // 0xffffffff: set the whole mark
	Route *Route // set when written as `route NAME`
}

// Connmark copies between packet and connection mark under Mask.
type Connmark struct {
	At
	Restore bool // true: ct mark to packet; false (save): packet to ct mark
	Mask    uint32
}

// NATKind is a kind of address translation.
type NATKind int

const (
	SNAT NATKind = iota
	DNAT
	Masquerade
	Redirect
)

func (k NATKind) String() string {
	return [...]string{"snat", "dnat", "masquerade", "redirect"}[k]
}

// NAT rewrites addresses. AddrLo..AddrHi is the address range (invalid for
// masquerade and redirect, or when only ports change); PortLo..PortHi the
// port range (0 when not given).
type NAT struct {
	At
	Kind           NATKind
	AddrLo, AddrHi netip.Addr
	PortLo, PortHi uint16
	Random         bool
	RandomFully    bool
	Persistent     bool
}

// String spells the rewrite as the language does ("dnat to 10.0.0.1:80",
// "redirect to :8080"): the engines compare rules' verdicts by it and show
// it in their messages.
func (n *NAT) String() string {
	s := n.Kind.String()
	if n.AddrLo.IsValid() {
		s += " to " + n.AddrLo.String()
		if n.AddrHi != n.AddrLo && n.AddrHi.IsValid() {
			s += "-" + n.AddrHi.String()
		}
	}
	if n.PortLo != 0 {
		if !n.AddrLo.IsValid() {
			s += " to"
		}
		s += fmt.Sprintf(":%d", n.PortLo)
		if n.PortHi != n.PortLo {
			s += fmt.Sprintf("-%d", n.PortHi)
		}
	}
	return s
}

// Balance DNATs a new connection to one of Endpoints with equal chance.
type Balance struct {
	At
	Name      string
	Endpoints []netip.AddrPort
}

// Notrack exempts the packet from connection tracking (raw table).
type Notrack struct {
	At
}

// Trace marks the packet for netfilter tracing (raw table).
type Trace struct {
	At
}

// SetTOS sets the IPv4 TOS / IPv6 traffic class byte.
type SetTOS struct {
	At
	Value uint8
}

// SetTTL sets the IPv4 TTL / IPv6 hop limit.
type SetTTL struct {
	At
	Value uint8
}

func (*Verdict) Terminal() bool  { return true }
func (j *Jump) Terminal() bool   { return j.Goto }
func (*Log) Terminal() bool      { return false }
func (*Counter) Terminal() bool  { return false }
func (*SetMark) Terminal() bool  { return false }
func (*Connmark) Terminal() bool { return false }
func (*NAT) Terminal() bool      { return true }
func (*Balance) Terminal() bool  { return true }
func (*Notrack) Terminal() bool  { return false }
func (*Trace) Terminal() bool    { return false }
func (*SetTOS) Terminal() bool   { return false }
func (*SetTTL) Terminal() bool   { return false }

// IsTerminal is a.Terminal(), for slices.ContainsFunc and the like.
func IsTerminal(a Action) bool { return a.Terminal() }
