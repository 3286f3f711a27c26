// Package ast defines the syntax tree of an fwc policy. Nodes carry source
// ranges by value; the parser in package lang builds them, and package check
// resolves names and types over them. ast is a leaf: it imports nothing of
// fwc's.
//
// The tree is syntactic: values such as addresses or ports are kept as
// written (Value nodes) and given types by the checker, so that a type error
// can point at the exact token.
package ast

import "github.com/fwcproject/fwc/diag"

// Node is anything with a source range.
type Node interface{ Span() diag.Range }

// File is one parsed source file.
type File struct {
	diag.Range
	Decls []Decl
	// Comments holds every comment in the file, in source order, so that
	// `fwc fmt` can put them back and the checker can read suppressions.
	Comments []*Comment
}

// Comment is one `#` comment. Text includes the leading '#'.
type Comment struct {
	diag.Range
	Text string
}

// Ident is a name as written.
type Ident struct {
	diag.Range
	Name string
}

// Decl is a top-level declaration: *Include, *Define, *Zone, *Service,
// *Set, *Policy, *Rule (a zone-level rule), *Table, *Route, *Balance,
// *Assert or *Sysctl.
type Decl interface {
	Node
	declNode()
}

// Include pulls in another file; Path is relative to the including file.
//
//	include "common.fw"
type Include struct {
	diag.Range
	Path *Lit // a String literal
}

// Define names a value list for reuse as $Name.
//
//	define admins = 10.0.0.1, 10.0.0.2
type Define struct {
	diag.Range
	Name   Ident
	Values []Value
}

// Zone groups interfaces and networks. A zone with both matches packets that
// arrive on (or leave by) one of its interfaces AND come from (or go to) one
// of its networks. The names "self" (the host) and "any" are predeclared.
//
//	zone lan { iface eth1, eth2; net 192.168.1.0/24, fd00:1::/64 }
type Zone struct {
	diag.Range
	Name  Ident
	Items []*ZoneItem
}

// ZoneItem is one line of a zone body.
type ZoneItem struct {
	diag.Range
	Key    Ident // "iface" or "net"
	Values []Value
}

// Service names protocol/port pairs.
//
//	service dns = udp/53, tcp/53
//	service web = tcp/{80, 443}
//	service ping = icmp/echo-request, icmpv6/echo-request
type Service struct {
	diag.Range
	Name   Ident
	Values []Value // each a BinOp "/" of a protocol and ports or icmp types, or a $ref
}

// Set is a typed named set (an ipset, or an nft named set).
//
//	set allow : ipv4_net { timeout 3d; elements { 10.0.0.0/8, 1.2.3.4 timeout 1h } }
//	set svc : ipv4_addr . port { elements { 10.0.0.1 . 80 } }
type Set struct {
	diag.Range
	Name Ident
	// Type is the element type; more than one part is a concatenation.
	Type    []Ident
	Timeout Value // default per-element timeout (a Duration), or nil
	Size    Value // maximum element count, or nil
	// Dynamic is the range of the `dynamic` keyword (elements added at
	// run time are kept across applies); zero when it is not written.
	Dynamic  diag.Range
	Elements []*SetElem
	// HasElements is true when an `elements { }` item was written, even empty.
	HasElements bool
	// ItemOrder records which items were written, in order, for `fwc fmt`:
	// "timeout", "size", "dynamic", "elements".
	ItemOrder []string
}

// SetElem is one initial element of a set.
type SetElem struct {
	diag.Range
	Value   Value
	Timeout Value // per-element timeout (Duration) or nil
}

// Policy is the default verdict between two zones, applied after the rules.
//
//	policy lan -> wan accept
//	policy any -> self log prefix "in-drop: " drop
type Policy struct {
	diag.Range
	From    Ident
	To      Ident
	Actions []Action
}

// Rule is an ordered list of matches followed by actions. At top level it is
// a zone-level rule and From and To are set; inside a chain both are nil.
//
//	from wan to self tcp dport 22 ct state new accept
type Rule struct {
	diag.Range
	From    *Ident
	To      *Ident
	Matches []Match
	Actions []Action
}

// Table is the chain-level layer. Name is a netfilter table: filter, nat,
// mangle, raw or security. Chains named after a hook (prerouting, input,
// forward, output, postrouting) are base chains of that hook; any other
// name is a user chain.
//
//	table filter { chain input policy drop { iif lo accept } }
type Table struct {
	diag.Range
	Name   Ident
	Chains []*Chain
}

// Chain is a base chain or a user chain.
type Chain struct {
	diag.Range
	Name Ident
	// Policy is the base chain's default verdict (accept or drop), or nil.
	Policy *Ident
	// Priority overrides the table's standard priority for a base chain
	// (a Number, possibly negative, as a Lit), or nil.
	Priority Value
	Rules    []*Rule
}

// Route binds a firewall mark to a routing table: rules with `route NAME`
// set the mark, and `fwc apply` installs `ip rule fwmark MARK table TABLE`
// and the routes.
//
//	route uplink_a { mark 0x1; table 10; priority 1000; default via 10.10.1.1 dev eth1 }
type Route struct {
	diag.Range
	Name     Ident
	Mark     Value // Number or Number/Number (mark/mask)
	Table    Value // Number
	Priority Value // Number (ip rule priority) or nil
	Routes   []*RouteEntry
	// ItemOrder records the items as written, for `fwc fmt`.
	ItemOrder []string
}

// RouteEntry is one route in a Route's table.
type RouteEntry struct {
	diag.Range
	Dest Value // an Ident "default" or an address/prefix
	Via  Value // gateway address, or nil
	Dev  Value // interface (Ident or String), or nil
}

// Balance spreads connections to a virtual address:port equally over
// endpoints (DNAT with random probability, the kube-proxy way).
//
//	balance web { address 10.109.146.68; service tcp/8080; endpoints 10.244.0.14:80, 10.244.1.33:80; masquerade }
type Balance struct {
	diag.Range
	Name       Ident
	Address    Value
	Service    Value   // proto/port, e.g. tcp/8080
	Endpoints  []Value // addr:port
	Masquerade bool
	// MasqueradeRange is where `masquerade` was written; zero when it
	// was not.
	MasqueradeRange diag.Range
	ItemOrder       []string
}

// Assert is a claim about the policy that `fwc check` proves for every
// packet it names: the packets from one zone to another that match
// Matches are all accepted (Verdict "accept"), none is (Verdict "drop"),
// or each one the policy lets through is translated by a nat rule of
// that kind (Verdict "masquerade", "snat", "dnat", "redirect").
// With Management, `fwc apply` also proves that the connections it names
// survive, both ways, before it installs the policy.
//
//	assert from admins to self tcp dport 22 accept
//	assert management from admins to self service ssh accept
//	assert from wan to lan drop
//	assert from lan to wan masquerade
type Assert struct {
	diag.Range
	// Management is set when `management` was written after `assert`;
	// ManagementRange is where, zero otherwise.
	Management      bool
	ManagementRange diag.Range
	From, To        Ident
	Matches         []Match
	// Verdict is "accept", "drop", or the kind of address translation
	// the packets get: "masquerade", "snat", "dnat", "redirect".
	Verdict Ident
}

// Sysctl is a kernel setting the firewall depends on (forwarding,
// conntrack limits, rp_filter, bridge netfilter). `fwc apply` writes it in
// the target network namespace after the ruleset commits; `fwc plan` shows
// it. The key is written as sysctl(8) does, with dots.
//
//	sysctl net.ipv4.ip_forward = 1
type Sysctl struct {
	diag.Range
	Key   Ident
	Value Value // a Number
}

func (*Include) declNode() {}
func (*Define) declNode()  {}
func (*Zone) declNode()    {}
func (*Service) declNode() {}
func (*Set) declNode()     {}
func (*Policy) declNode()  {}
func (*Rule) declNode()    {}
func (*Table) declNode()   {}
func (*Route) declNode()   {}
func (*Balance) declNode() {}
func (*Assert) declNode()  {}
func (*Sysctl) declNode()  {}
