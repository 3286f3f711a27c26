package ir

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// Family is a set of address families: IPv4, IPv6 or Both.
type Family uint8

const (
	IPv4 Family = 1 << iota
	IPv6
	Both = IPv4 | IPv6
)

func (f Family) String() string { return policy.Family(f).String() }

// Families lists the two single families in output order.
var Families = [...]Family{IPv4, IPv6}

// Ruleset is a lowered policy.
type Ruleset struct {
	// Tables in fixed order raw, mangle, nat, filter, security; only those
	// with at least one chain.
	Tables []*Table
	// Sets are the named sets: declared ones in declaration order, then the
	// dynamic sets made for meters and connection limits.
	Sets []*Set
	// Routing is the ip rules and routes the policy's routes ask for
	// (WantRouting), for backend/iproute2; the rules' marks steer
	// nothing without them.
	Routing Routing
}

// Table is one netfilter table (iptables -t NAME).
type Table struct {
	Name   string // raw, mangle, nat, filter, security
	Chains []*Chain
}

// ChainType is the nft chain type of a base chain.
type ChainType string

const (
	TypeFilter ChainType = "filter"
	TypeNAT    ChainType = "nat"
	TypeRoute  ChainType = "route" // mangle output: re-route after a mark change
)

// Chain is a base chain (Hook set) or a user chain.
type Chain struct {
	Table *Table
	// Name is the policy's name: the hook name for base chains ("input"),
	// the user's name otherwise. Backends decorate it (INPUT, filter_input).
	Name string
	Hook policy.Hook // "" for a user chain
	Type ChainType   // base chains only
	// Priority is the nft priority (lower runs first); for the standard
	// tables: raw -300, mangle -150, dnat -100, filter 0, security 50,
	// snat 100.
	Priority int
	// Policy is the base chain's default verdict, Accept or Drop.
	Policy policy.VerdictKind
	Rules  []*Rule
}

// IsBase reports whether c is attached to a hook.
func (c *Chain) IsBase() bool { return c.Hook != "" }

// Pos is a source position for comments: File as loaded, 1-based Line.
type Pos struct {
	File string
	Line int
	// Range is the whole source rule, for backend diagnostics; zero when
	// the rule was built without a source (tests).
	Range diag.Range
}

// Subject is the range a backend diagnostic about the rule points at: the
// source rule, or its line when the range is unknown.
func (p Pos) Subject() diag.Range {
	if !p.Range.IsZero() {
		return p.Range
	}
	return diag.Range{Filename: p.File, Start: diag.Pos{Line: p.Line}}
}

// Rule is an ordered rule: all Matches hold, then Actions run in order.
// Matches and actions are policy's (see match.go), with the IR's own
// *Meter, *Connlimit, *Jump and *VerdictMap.
type Rule struct {
	// Family is IPv4 or IPv6 when a match or action depends on the family,
	// Both otherwise.
	Family  Family
	Matches []policy.Cond
	Actions []policy.Action
	// Pos lists the source positions the rule came from: one, or several
	// after Merge, in order.
	Pos []Pos
}

// In reports whether r applies to family f (IPv4 or IPv6).
func (r *Rule) In(f Family) bool { return r.Family&f != 0 }

// Comment renders Pos as "file:line", "file:12,14-16" for merged rules,
// at most max bytes (cut at a list item, ending in ",...").
func (r *Rule) Comment(max int) string {
	if len(r.Pos) == 1 && r.Pos[0].File != "" {
		// The usual case, in one allocation.
		p := r.Pos[0]
		return p.File + ":" + strconv.Itoa(p.Line)
	}
	var b strings.Builder
	file := ""
	for i := 0; i < len(r.Pos); {
		p := r.Pos[i]
		j := i
		// A run of consecutive lines, and the same line again (the parts
		// of one source rule), is one item.
		for j+1 < len(r.Pos) && r.Pos[j+1].File == p.File &&
			(r.Pos[j+1].Line == r.Pos[j].Line+1 || r.Pos[j+1].Line == r.Pos[j].Line) {
			j++
		}
		var item string
		switch {
		case p.File != file:
			if file != "" {
				item = " "
			}
			item += p.File + ":" + strconv.Itoa(p.Line)
			file = p.File
		case b.Len() > 0:
			item = "," + strconv.Itoa(p.Line)
		}
		if r.Pos[j].Line > p.Line {
			item += "-" + strconv.Itoa(r.Pos[j].Line)
		}
		if b.Len()+len(item) > max-4 && b.Len() > 0 {
			b.WriteString(",...")
			break
		}
		b.WriteString(item)
		i = j + 1
	}
	return b.String()
}

// Set is a named set. Element addresses are all of Family.
type Set struct {
	Name string
	// Type has one part, or several for a concatenation.
	Type []policy.SetType
	// Family is IPv4 or IPv6 when the type holds addresses, Both otherwise.
	Family Family
	// Interval: elements are prefixes or ranges (nft flags interval,
	// ipset hash:net).
	Interval bool
	// Timeout is the default element lifetime; 0 means forever.
	Timeout time.Duration
	// Size is the maximum element count; 0 means the backend default.
	Size     uint32
	Elements []policy.SetElem
	// Dynamic sets are filled by the ruleset itself (meters, connection
	// counts); they have no initial elements.
	Dynamic bool
	// Keep is set for a set declared `dynamic`: the elements added to it
	// at run time are kept across applies.
	Keep bool
}

// RejectKind is a reject type independent of family. Backends map it to
// per-family names (icmp-port-unreachable / icmp6-port-unreachable).
type RejectKind int

const (
	RejectDefault          RejectKind = iota // port unreachable
	RejectPortUnreachable                    // v4 port-unreachable, v6 port-unreachable
	RejectHostUnreachable                    // v4 host-unreachable, v6 addr-unreachable
	RejectNetUnreachable                     // v4 net-unreachable, v6 no-route
	RejectProtoUnreachable                   // v4 only
	RejectHostProhibited                     // v4 only
	RejectNetProhibited                      // v4 only
	RejectAdminProhibited                    // v4 admin-prohibited, v6 adm-prohibited
	RejectTCPReset                           // tcp reset, both families
)

// FamilySpecific reports whether the kind has no equivalent in IPv6, so a
// rule using it is IPv4 only.
func (k RejectKind) FamilySpecific() bool {
	return k == RejectProtoUnreachable || k == RejectHostProhibited || k == RejectNetProhibited
}

// rejectNames maps the language's reject types to kinds; both the icmp and
// the icmpv6 spellings are accepted for either family.
var rejectNames = map[string]RejectKind{
	"":                        RejectDefault,
	"icmp-port-unreachable":   RejectPortUnreachable,
	"port-unreachable":        RejectPortUnreachable,
	"icmpv6-port-unreachable": RejectPortUnreachable,
	"icmp6-port-unreachable":  RejectPortUnreachable,
	"icmp-host-unreachable":   RejectHostUnreachable,
	"host-unreachable":        RejectHostUnreachable,
	"icmpv6-addr-unreachable": RejectHostUnreachable,
	"icmp6-addr-unreachable":  RejectHostUnreachable,
	"addr-unreachable":        RejectHostUnreachable,
	"icmp-net-unreachable":    RejectNetUnreachable,
	"net-unreachable":         RejectNetUnreachable,
	"icmpv6-no-route":         RejectNetUnreachable,
	"icmp6-no-route":          RejectNetUnreachable,
	"no-route":                RejectNetUnreachable,
	"icmp-proto-unreachable":  RejectProtoUnreachable,
	"prot-unreachable":        RejectProtoUnreachable,
	"icmp-host-prohibited":    RejectHostProhibited,
	"host-prohibited":         RejectHostProhibited,
	"icmp-net-prohibited":     RejectNetProhibited,
	"net-prohibited":          RejectNetProhibited,
	"icmp-admin-prohibited":   RejectAdminProhibited,
	"admin-prohibited":        RejectAdminProhibited,
	"icmpv6-adm-prohibited":   RejectAdminProhibited,
	"icmp6-adm-prohibited":    RejectAdminProhibited,
	"adm-prohibited":          RejectAdminProhibited,
	"tcp-reset":               RejectTCPReset,
}

// ParseReject maps a language reject type to its kind.
func ParseReject(s string) (RejectKind, bool) {
	k, ok := rejectNames[s]
	return k, ok
}

// Addrs formats address items the way both backends write them
// (a, a/len, lo-hi), for messages and tests.
func Addrs(items []policy.AddrItem) string {
	var s []string
	for _, it := range items {
		s = append(s, AddrString(it))
	}
	return strings.Join(s, ",")
}

// AddrString formats one item: a single address without /32 or /128.
func AddrString(it policy.AddrItem) string {
	if it.IsRange() {
		return it.Lo.String() + "-" + it.Hi.String()
	}
	if it.Prefix.IsSingleIP() {
		return it.Prefix.Addr().String()
	}
	return it.Prefix.Masked().String()
}

// Bounds returns the first and last address of an item.
func Bounds(it policy.AddrItem) (lo, hi netip.Addr) {
	if it.IsRange() {
		return it.Lo, it.Hi
	}
	p := it.Prefix.Masked()
	lo = p.Addr()
	b := lo.AsSlice()
	bits := p.Bits()
	for i := range b {
		for k := 0; k < 8; k++ {
			if i*8+k >= bits {
				b[i] |= 0x80 >> k
			}
		}
	}
	hi, _ = netip.AddrFromSlice(b)
	return lo, hi
}

// Probability returns the iptables statistic probability of the i-th
// (0-based) of n cascading rules that share traffic equally: 1/(n-i).
func Probability(i, n int) float64 { return 1 / float64(n-i) }

// FormatProbability prints p the way iptables-save does: the kernel keeps
// a probability as a multiple of 2^-31 (xt_statistic), so p is rounded to
// one and printed with 11 decimals: 1/3 is 0.33333333349, as in
// kube-proxy's rules read back. Printing what the kernel holds makes the
// text survive an iptables-save round trip unchanged. The nft backend
// compares numgen random mod 2^31 with the same multiple.
func FormatProbability(p float64) string {
	const scale = 1 << 31
	return fmt.Sprintf("%.11f", math.Round(p*scale)/scale)
}
