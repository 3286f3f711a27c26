package ast

import "github.com/fwcproject/fwc/diag"

// Action is what a rule does. Terminal actions (accept, drop, reject,
// return, jump, goto, snat, dnat, masquerade, redirect) end evaluation;
// the others (log, counter, mark, connmark, route, notrack, trace, tos, ttl)
// let it go on. A rule may list several actions: `log prefix "x: " drop`.
type Action interface {
	Node
	actionNode()
}

// Verdict: accept, drop, return, or reject [with TYPE].
type Verdict struct {
	diag.Range
	Kind Ident // "accept", "drop", "reject", "return"
	// With is the reject type (tcp-reset, icmp-port-unreachable,
	// icmp-host-prohibited, icmpv6-adm-prohibited, ...), or nil.
	With *Ident
}

// Jump: jump CHAIN / goto CHAIN.
type Jump struct {
	diag.Range
	Goto   bool
	Target Ident
}

// Log: log [prefix "..."] [level N|NAME] [flags tcp-sequence,tcp-options,ip-options].
type Log struct {
	diag.Range
	Prefix *Lit // String, or nil
	Level  Value
	Flags  []Ident
}

// Counter counts packets and bytes.
type Counter struct {
	diag.Range
}

// MarkSet: mark set V[/M] (packet) or connmark set V[/M] (connection).
// With a mask, only the masked bits change: mark = (mark & ~M) | V.
type MarkSet struct {
	diag.Range
	Ct    bool
	Value Value
}

// Connmark: connmark save [mask M] (packet mark to connection) or
// connmark restore [mask M] (connection mark to packet).
type Connmark struct {
	diag.Range
	Op   Ident // "save" or "restore"
	Mask Value
}

// RouteAction: route NAME sets the mark bound to route NAME.
type RouteAction struct {
	diag.Range
	Name Ident
}

// NAT: snat to ADDR[-ADDR][:PORT[-PORT]], dnat to ..., masquerade [to :PORTS],
// redirect [to PORT]; Flags: random, random-fully, persistent.
type NAT struct {
	diag.Range
	Kind  Ident // "snat", "dnat", "masquerade", "redirect"
	To    Value // nil for a plain masquerade or redirect
	Flags []Ident
}

// Simple: notrack or trace.
type Simple struct {
	diag.Range
	Kind Ident
}

// HeaderSet: tos set N / ttl set N.
type HeaderSet struct {
	diag.Range
	Field Ident // "tos" or "ttl"
	Value Value
}

func (*Verdict) actionNode()     {}
func (*Jump) actionNode()        {}
func (*Log) actionNode()         {}
func (*Counter) actionNode()     {}
func (*MarkSet) actionNode()     {}
func (*Connmark) actionNode()    {}
func (*RouteAction) actionNode() {}
func (*NAT) actionNode()         {}
func (*Simple) actionNode()      {}
func (*HeaderSet) actionNode()   {}

// IsTerminal reports whether a ends rule evaluation for the packet: a
// verdict other than return-to-caller semantics, goto, or NAT. A jump is not
// terminal: the packet comes back when the called chain returns.
func IsTerminal(a Action) bool {
	switch a := a.(type) {
	case *Verdict:
		return true
	case *Jump:
		return a.Goto
	case *NAT:
		return true
	}
	return false
}
