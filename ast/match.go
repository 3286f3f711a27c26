package ast

import "github.com/fwcproject/fwc/diag"

// Match is one condition of a rule. All matches of a rule must hold.
// A match with Neg set was written with "!=" and holds when its value
// does not.
type Match interface {
	Node
	matchNode()
}

// AddrMatch: saddr / daddr with addresses, prefixes, ranges, lists, @set or $define.
//
//	saddr 192.168.1.111, 192.168.1.118
//	daddr != 192.168.1.0/24
//	saddr 192.168.1.127-192.168.1.146
type AddrMatch struct {
	diag.Range
	Key    Ident // "saddr" or "daddr"
	Neg    bool
	Values []Value
}

// ProtoMatch: proto tcp, udp / proto != icmp.
type ProtoMatch struct {
	diag.Range
	Neg    bool
	Values []Value
}

// PortMatch: [tcp|udp|sctp|udplite] sport|dport PORTS. Without a protocol
// word the rule must match a port protocol elsewhere (proto or service).
//
//	tcp dport 22, 80, 443
//	tcp dport != 22, 80, 443
//	udp sport 1024-65535
type PortMatch struct {
	diag.Range
	Proto  *Ident // nil when written bare
	Key    Ident  // "sport" or "dport"
	Neg    bool
	Values []Value
}

// IfaceMatch: iif / oif with names, lists, wildcards ("eth*") or @set.
type IfaceMatch struct {
	diag.Range
	Key    Ident // "iif" or "oif"
	Neg    bool
	Values []Value
}

// ServiceMatch: service ssh, web.
type ServiceMatch struct {
	diag.Range
	Neg    bool
	Values []Value
}

// ICMPMatch: icmp type echo-request / icmp type 8/0 / icmpv6 type nd-neighbor-solicit.
type ICMPMatch struct {
	diag.Range
	Proto  Ident // "icmp" or "icmpv6"
	Neg    bool
	Values []Value // names, numbers, or type/code BinOps
}

// TCPFlagsMatch: tcp flags FLAGS [/ MASK]. The packet's flags under MASK
// must equal FLAGS; MASK defaults to FLAGS ("these flags are set").
// `tcp syn` is short for `tcp flags syn / fin|syn|rst|ack`.
//
//	tcp flags fin|psh|urg / all
//	tcp flags != syn / fin|syn|rst|ack
type TCPFlagsMatch struct {
	diag.Range
	Neg   bool
	Flags []Ident
	Mask  []Ident // nil: same as Flags
	// Short is set when written as `tcp syn`.
	Short bool
}

// CtMatch: ct state new,established / ct status dnat.
type CtMatch struct {
	diag.Range
	Key    Ident // "state" or "status"
	Neg    bool
	Values []Value
}

// MarkMatch: mark 0x1 / mark 0x4000/0x4000 / ct mark 5 / mark route NAME.
type MarkMatch struct {
	diag.Range
	Ct    bool // ct mark (connection) rather than meta mark (packet)
	Neg   bool
	Value Value // Number or BinOp "/" (value/mask); nil when Route is set
	// Route is set when written `mark route NAME`: the mark bound to route NAME.
	Route *Ident
}

// FamilyMatch: family ipv4 / family ipv6 — restricts a rule to one family.
type FamilyMatch struct {
	diag.Range
	Family Ident
}

// LimitMatch: limit [over] RATE [burst N]. Without `over` it matches
// packets within the rate; with `over`, the excess.
//
//	limit 1/second burst 1
type LimitMatch struct {
	diag.Range
	Over  bool
	Rate  Value // BinOp Number "/" unit (second, minute, hour, day)
	Burst Value // Number, or nil
}

// MeterMatch: a per-key rate (iptables hashlimit; nft dynamic set with limit).
//
//	meter ssh per saddr over 4/minute burst 4
type MeterMatch struct {
	diag.Range
	Name  Ident
	Per   Ident // "saddr" or "daddr"
	Mask  Value // prefix length to group keys by, or nil
	Over  bool
	Rate  Value
	Burst Value
}

// ConnlimitMatch: connlimit [over] N [mask LEN]: the number of connections
// from the packet's source (grouped by prefix LEN).
type ConnlimitMatch struct {
	diag.Range
	Over  bool
	Count Value
	Mask  Value
}

// TimeMatch: hour "09:00"-"19:00" / day sat, sun / date "2017-12-24"-"2017-12-27".
type TimeMatch struct {
	diag.Range
	Key    Ident // "hour", "day" or "date"
	Neg    bool
	Values []Value
}

// ProbabilityMatch: probability 0.25 (statistic random).
type ProbabilityMatch struct {
	diag.Range
	Value Value
}

// StringMatch: string "OOXX" [algo bm|kmp] (iptables only).
type StringMatch struct {
	diag.Range
	Neg  bool
	Text *Lit
	Algo *Ident
}

// ConcatMatch: a lookup of several fields in a set of concatenated elements.
//
//	saddr . dport @svc
type ConcatMatch struct {
	diag.Range
	Keys  []Ident // saddr, daddr, sport, dport, iif, oif
	Proto *Ident  // port protocol when a key is a port, e.g. tcp
	Neg   bool
	Set   *Ref
}

func (*AddrMatch) matchNode()        {}
func (*ProtoMatch) matchNode()       {}
func (*PortMatch) matchNode()        {}
func (*IfaceMatch) matchNode()       {}
func (*ServiceMatch) matchNode()     {}
func (*ICMPMatch) matchNode()        {}
func (*TCPFlagsMatch) matchNode()    {}
func (*CtMatch) matchNode()          {}
func (*MarkMatch) matchNode()        {}
func (*FamilyMatch) matchNode()      {}
func (*LimitMatch) matchNode()       {}
func (*MeterMatch) matchNode()       {}
func (*ConnlimitMatch) matchNode()   {}
func (*TimeMatch) matchNode()        {}
func (*ProbabilityMatch) matchNode() {}
func (*StringMatch) matchNode()      {}
func (*ConcatMatch) matchNode()      {}
