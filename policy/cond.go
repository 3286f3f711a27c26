package policy

import (
	"time"

	"github.com/fwcproject/fwc/ast"
)

// At records the source node a condition or action was built from, so a
// diagnostic can point at it. Node is nil for generated ones.
type At struct{ Node ast.Node }

// Source returns the node, or nil.
func (a At) Source() ast.Node { return a.Node }

// Cond is one typed condition of a rule.
type Cond interface{ cond() }

// Dir says which side of the packet a condition looks at.
type Dir int

const (
	Src Dir = iota // saddr, sport, iif
	Dst            // daddr, dport, oif
)

// AddrCond matches the source or destination address against Items or a
// named set.
type AddrCond struct {
	At
	Dir   Dir
	Neg   bool
	Items []AddrItem // both families may appear; ir splits them
	Set   *Set       // set lookup instead of Items
}

// ProtoCond matches the layer-4 protocol.
type ProtoCond struct {
	At
	Neg    bool
	Protos []Proto
}

// PortCond matches ports of the rule's protocol (a ProtoCond with one
// port protocol always precedes it in Conds).
type PortCond struct {
	At
	Dir    Dir
	Neg    bool
	Ranges []PortRange
	Set    *Set
}

// IfaceCond matches the input (Src) or output (Dst) interface.
type IfaceCond struct {
	At
	Dir    Dir
	Neg    bool
	Ifaces []Iface
	Set    *Set
}

// ICMPCond matches icmp (V6 false) or icmpv6 types.
type ICMPCond struct {
	At
	V6    bool
	Neg   bool
	Types []ICMPType
}

// TCP flag bits as on the wire.
const (
	FIN uint8 = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// TCPFlagsCond holds when (flags & Mask) == Flags, or != with Neg.
type TCPFlagsCond struct {
	At
	Neg   bool
	Flags uint8
	Mask  uint8
}

// Connection tracking states as bits.
const (
	CtInvalid uint32 = 1 << iota
	CtEstablished
	CtRelated
	CtNew
	CtUntracked
)

// CtStateCond holds when the packet's state is one of Bits.
type CtStateCond struct {
	At
	Neg  bool
	Bits uint32
}

// Connection tracking status bits (nft ct status names).
const (
	StatusExpected uint32 = 1 << iota
	StatusSeenReply
	StatusAssured
	StatusConfirmed
	StatusSNAT
	StatusDNAT
	StatusDying
)

// CtStatusCond holds when the connection has one of Bits.
type CtStatusCond struct {
	At
	Neg  bool
	Bits uint32
}

// MarkCond holds when (mark & Mask) == Value for the packet mark, or the
// connection mark when Ct is set.
type MarkCond struct {
	At
	Ct    bool
	Neg   bool
	Value uint32
	Mask  uint32 // 0xffffffff for an exact match
	Route *Route // when written as `mark route NAME`
	// Set, when not nil, is a set of marks the whole mark is looked up
	// in (`mark @s`); Value is then 0 and Mask 0xffffffff.
	Set *Set
}

// Rate is a number of packets per Unit.
type Rate struct {
	Count uint64
	Unit  time.Duration // time.Second, time.Minute, time.Hour, 24*time.Hour
}

// LimitCond is a global token bucket.
type LimitCond struct {
	At
	Over  bool
	Rate  Rate
	Burst uint32 // 0: backend default (5)
}

// MeterCond is a token bucket per source or destination address.
type MeterCond struct {
	At
	Name    string
	Per     Dir
	MaskLen int // -1: whole address
	Over    bool
	Rate    Rate
	Burst   uint32
}

// ConnlimitCond counts connections per source (grouped by MaskLen).
type ConnlimitCond struct {
	At
	Over    bool
	Count   uint32
	MaskLen int // -1: whole address
}

// TimeCond holds within a time of day, on some weekdays, or between dates.
// Times are UTC.
type TimeCond struct {
	At
	Neg bool
	// HourFrom and HourTo are offsets from midnight; set when HasHour.
	HasHour          bool
	HourFrom, HourTo time.Duration
	// Days: bit 0 Monday ... bit 6 Sunday; 0 when not restricted.
	Days uint8
	// DateFrom and DateTo are set when HasDate.
	HasDate          bool
	DateFrom, DateTo time.Time
}

// ProbCond holds with probability P (0 < P < 1).
type ProbCond struct {
	At
	P float64
}

// StringCond matches a byte string in the payload (iptables only).
type StringCond struct {
	At
	Neg  bool
	Text string
	Algo string // "bm" or "kmp"
}

// ConcatCond looks several fields up in a set of concatenations, in the
// order of the set's type.
type ConcatCond struct {
	At
	Neg  bool
	Keys []Key
	Set  *Set
}

// Key is one field of a concatenated lookup.
type Key string

const (
	KeySaddr Key = "saddr"
	KeyDaddr Key = "daddr"
	KeySport Key = "sport"
	KeyDport Key = "dport"
	KeyIif   Key = "iif"
	KeyOif   Key = "oif"
	KeyMark  Key = "mark"
)

func (*AddrCond) cond()      {}
func (*ProtoCond) cond()     {}
func (*PortCond) cond()      {}
func (*IfaceCond) cond()     {}
func (*ICMPCond) cond()      {}
func (*TCPFlagsCond) cond()  {}
func (*CtStateCond) cond()   {}
func (*CtStatusCond) cond()  {}
func (*MarkCond) cond()      {}
func (*LimitCond) cond()     {}
func (*MeterCond) cond()     {}
func (*ConnlimitCond) cond() {}
func (*TimeCond) cond()      {}
func (*ProbCond) cond()      {}
func (*StringCond) cond()    {}
func (*ConcatCond) cond()    {}
