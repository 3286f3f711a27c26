package apply

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// Packet is one concrete packet of an established connection, for
// Evaluate: either arriving for a local socket (prerouting, then input) or,
// with Out, sent by a local socket (output, then postrouting).
type Packet struct {
	Src, Dst         netip.Addr
	Proto            policy.Proto
	SrcPort, DstPort uint16
	TCPFlags         uint8  // policy.ACK for a packet of an established connection
	CtState          uint32 // one bit: policy.CtEstablished, CtNew, ...; a notrack in raw makes it CtUntracked
	// Out: the packet leaves the host (a reply of a local server).
	Out bool
	// InIface (arriving packets) and OutIface (leaving ones) are the
	// interfaces; "" when unknown (interface matches then count as
	// undecided).
	InIface, OutIface string
}

// Fate is what the ruleset does to a packet on its way in or out.
type Fate int

const (
	Accepted  Fate = iota // every path accepts it
	Dropped               // every path drops or rejects it
	Undecided             // it depends on state Evaluate does not know (limits, time, marks, ...)
)

func (f Fate) String() string {
	return [...]string{"accepted", "dropped", "undecided"}[f]
}

// conntrackPriority is where netfilter's connection tracking runs on the
// prerouting and output hooks: chains of a lower priority (raw) see the
// packet before it has a connection, and a notrack there makes it
// untracked for every later chain.
const conntrackPriority = -200

// hooksOf lists the hooks a packet traverses, in kernel order.
func hooksOf(p Packet) []policy.Hook {
	if p.Out {
		return []policy.Hook{policy.Output, policy.Postrouting}
	}
	return []policy.Hook{policy.Prerouting, policy.Input}
}

// Evaluate walks the concrete packet p through rs as the kernel would: the
// hooks it traverses in order (prerouting then input for an arriving
// packet, output then postrouting for a leaving one), on each hook the base
// chains of every table by priority (raw, mangle, filter, security; nat
// chains only see a connection's first packet and are skipped, as the
// kernel skips them for an established or untracked one), user chains by
// jump, goto and return. State set by one chain is seen by the later ones:
// a notrack before connection tracking makes the packet untracked, and
// packet and connection marks set or restored are known from then on (the
// packet mark starts at 0, the connection's mark is unknown). Matches that
// cannot be decided for a concrete packet (rate limits, time, random, an
// unknown mark, dynamic sets) are followed both ways. why names the rule
// (its source position) or chain policy that drops the packet.
func Evaluate(rs *ir.Ruleset, p Packet) (fate Fate, why string) {
	hooks := hooksOf(p)
	type base struct {
		c    *ir.Chain
		hook int
	}
	var chains []base
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			if c.Type == ir.TypeNAT {
				continue
			}
			if h := slices.Index(hooks, c.Hook); h >= 0 && c.IsBase() {
				chains = append(chains, base{c, h})
			}
		}
	}
	// Tables come in the order raw, mangle, nat, filter, security: a
	// stable sort keeps it among chains of one priority.
	sort.SliceStable(chains, func(i, j int) bool {
		if chains[i].hook != chains[j].hook {
			return chains[i].hook < chains[j].hook
		}
		return chains[i].c.Priority < chains[j].c.Priority
	})
	e := &evaluator{p: p, budget: 4096}
	ends := []end{{kind: endAccept, st: pktState{ct: p.CtState, markKnown: true}}}
	for _, b := range chains {
		var next []end
		for _, x := range ends {
			if x.kind == endDrop {
				next = addEnd(next, x)
				continue
			}
			st := x.st
			if b.c.Priority < conntrackPriority && (b.c.Hook == policy.Prerouting || b.c.Hook == policy.Output) {
				st.beforeCt = true
			} else if st.beforeCt {
				st.beforeCt = false
			}
			for _, y := range e.rules(b.c, 0, 0, st) {
				if y.kind == endReturn {
					if b.c.Policy == policy.Drop {
						y.kind, y.why = endDrop, "the policy drop of chain "+b.c.Table.Name+" "+b.c.Name
					} else {
						y.kind = endAccept
					}
				}
				next = addEnd(next, y)
			}
		}
		ends = next
	}
	accept, drop := false, false
	for _, x := range ends {
		if x.kind == endDrop {
			if !drop {
				why = x.why
			}
			drop = true
		} else {
			accept = true
		}
	}
	switch {
	case accept && !drop:
		return Accepted, ""
	case !accept:
		return Dropped, why
	}
	return Undecided, why
}

// pktState is what earlier chains of the walk changed about the packet.
type pktState struct {
	ct uint32 // conntrack state bit; CtUntracked after a notrack
	// beforeCt: the chain runs before connection tracking (raw): ct
	// matches cannot be decided there.
	beforeCt          bool
	mark, ctmark      uint32
	markKnown, ctKnow bool
}

type endKind int

const (
	endAccept endKind = iota
	endDrop
	endReturn // fell off a user chain, or returned
)

// end is one way a walk through rules can finish, with the packet's state
// on that way.
type end struct {
	kind endKind
	why  string // for endDrop
	st   pktState
}

// addEnd adds x to ends unless an end of the same kind and state is there
// (the first one's why is kept), so that forks that lead to the same
// place do not multiply.
func addEnd(ends []end, x end) []end {
	for _, y := range ends {
		if y.kind == x.kind && y.st == x.st {
			return ends
		}
	}
	return append(ends, x)
}

type evaluator struct {
	p      Packet
	budget int // forks left before giving up on precision
}

// giveUp is the result when the walk is too deep or forks too often:
// both fates, so the answer is Undecided.
func giveUp(st pktState, why string) []end {
	return []end{{kind: endAccept, st: st}, {kind: endDrop, why: why, st: st}}
}

// rules evaluates c from rule i on, with the packet in state st.
func (e *evaluator) rules(c *ir.Chain, i, depth int, st pktState) []end {
	if depth > 32 {
		return giveUp(st, "jumps nested too deep to follow")
	}
	for ; i < len(c.Rules); i++ {
		r := c.Rules[i]
		m := e.matches(r, st)
		if m == no {
			continue
		}
		if m == maybe {
			if e.budget <= 0 {
				return giveUp(st, "too many undecided matches")
			}
			e.budget--
			out := e.actions(c, r, i, depth, st)
			for _, x := range e.rules(c, i+1, depth, st) {
				out = addEnd(out, x)
			}
			return out
		}
		return e.actions(c, r, i, depth, st)
	}
	return []end{{kind: endReturn, st: st}}
}

// actions runs a matching rule's actions, then the rest of the chain if
// none of them ended it.
func (e *evaluator) actions(c *ir.Chain, r *ir.Rule, i, depth int, st pktState) []end {
	for k, a := range r.Actions {
		switch a := a.(type) {
		case *policy.Verdict:
			switch a.Kind {
			case policy.Accept:
				return []end{{kind: endAccept, st: st}}
			case policy.Return:
				return []end{{kind: endReturn, st: st}}
			default:
				return []end{{kind: endDrop, why: "the rule at " + posString(r), st: st}}
			}
		case *ir.Jump:
			var out []end
			for _, x := range e.rules(a.Target, 0, depth+1, st) {
				if x.kind != endReturn || a.Goto {
					// A goto's fall-through returns from this
					// chain too.
					out = addEnd(out, x)
					continue
				}
				// Came back: the rest of this rule's actions and
				// of this chain, in the state the sub-chain left.
				rest := &ir.Rule{Family: r.Family, Actions: r.Actions[k+1:], Pos: r.Pos}
				for _, y := range e.actions(c, rest, i, depth, x.st) {
					out = addEnd(out, y)
				}
			}
			return out
		case *policy.NAT, *policy.Balance:
			return []end{{kind: endAccept, st: st}}
		case *policy.Notrack:
			if st.beforeCt {
				st.ct, st.ctKnow = policy.CtUntracked, false
			}
		case *policy.SetMark:
			if a.Ct {
				if st.ct != policy.CtUntracked {
					st.ctmark, st.ctKnow = setBits(st.ctmark, st.ctKnow, a.Value, a.Mask)
				}
			} else {
				st.mark, st.markKnown = setBits(st.mark, st.markKnown, a.Value, a.Mask)
			}
		case *policy.Connmark:
			switch {
			case st.ct == policy.CtUntracked:
			case a.Restore:
				st.mark, st.markKnown = copyBits(st.mark, st.markKnown, st.ctmark, st.ctKnow, a.Mask)
			default:
				st.ctmark, st.ctKnow = copyBits(st.ctmark, st.ctKnow, st.mark, st.markKnown, a.Mask)
			}
		}
	}
	return e.rules(c, i+1, depth, st)
}

// setBits is mark = (mark &^ mask) | value: known afterwards when it was
// before or when the mask covers every bit.
func setBits(mark uint32, known bool, value, mask uint32) (uint32, bool) {
	return mark&^mask | value&mask, known || mask == math.MaxUint32
}

// copyBits copies the mask's bits of src into dst.
func copyBits(dst uint32, dstKnown bool, src uint32, srcKnown bool, mask uint32) (uint32, bool) {
	if !srcKnown {
		return 0, false
	}
	return dst&^mask | src&mask, dstKnown || mask == math.MaxUint32
}

func posString(r *ir.Rule) string {
	if c := r.Comment(80); c != "" {
		return c
	}
	return "(generated rule)"
}

type tri int

const (
	no tri = iota
	yes
	maybe
)

func and(a, b tri) tri {
	switch {
	case a == no || b == no:
		return no
	case a == maybe || b == maybe:
		return maybe
	}
	return yes
}

func neg(t tri, n bool) tri {
	if !n || t == maybe {
		return t
	}
	return 1 - t
}

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}

func (e *evaluator) matches(r *ir.Rule, st pktState) tri {
	fam := ir.IPv4
	if e.p.Src.Is6() {
		fam = ir.IPv6
	}
	if !r.In(fam) {
		return no
	}
	t := yes
	for _, m := range r.Matches {
		t = and(t, e.match(r, m, st))
		if t == no {
			return no
		}
	}
	return t
}

func (e *evaluator) match(r *ir.Rule, m policy.Cond, st pktState) tri {
	p := e.p
	switch m := m.(type) {
	case *policy.AddrCond:
		a := p.Src
		if m.Dir == policy.Dst {
			a = p.Dst
		}
		if m.Set != nil {
			return neg(setHasAddr(m.Set, a), m.Neg)
		}
		return neg(boolTri(slices.ContainsFunc(m.Items, func(it policy.AddrItem) bool { return itemHas(it, a) })), m.Neg)
	case *policy.ProtoCond:
		return neg(boolTri(slices.Contains(m.Protos, p.Proto)), m.Neg)
	case *policy.PortCond:
		if r.PortProto() != p.Proto {
			return no
		}
		port := p.SrcPort
		if m.Dir == policy.Dst {
			port = p.DstPort
		}
		if m.Set != nil {
			return neg(setHasPort(m.Set, port), m.Neg)
		}
		return neg(boolTri(slices.ContainsFunc(m.Ranges, func(r policy.PortRange) bool { return r.Lo <= port && port <= r.Hi })), m.Neg)
	case *policy.IfaceCond:
		// An arriving packet has no output interface yet, a leaving one
		// no input interface: such matches never hold (nft and
		// iptables both compare with an empty name).
		name := p.InIface
		if m.Dir == policy.Dst {
			name = p.OutIface
		}
		if (m.Dir == policy.Dst) != p.Out {
			return neg(no, m.Neg)
		}
		if name == "" || m.Set != nil {
			return maybe
		}
		return neg(boolTri(slices.ContainsFunc(m.Ifaces, func(i policy.Iface) bool {
			return i.Name == name || i.Wildcard && strings.HasPrefix(name, i.Name)
		})), m.Neg)
	case *policy.ICMPCond:
		return no // the packet is not icmp
	case *policy.TCPFlagsCond:
		if p.Proto != policy.ProtoTCP {
			return no
		}
		return neg(boolTri(p.TCPFlags&m.Mask == m.Flags), m.Neg)
	case *policy.CtStateCond:
		if st.beforeCt {
			return maybe
		}
		return neg(boolTri(st.ct&m.Bits != 0), m.Neg)
	case *policy.CtStatusCond:
		if st.ct == policy.CtUntracked {
			return no // no connection: the match fails, negated or not
		}
	case *policy.MarkCond:
		if m.Ct {
			if st.ct == policy.CtUntracked {
				return no
			}
			if !st.ctKnow {
				return maybe
			}
			return neg(boolTri(st.ctmark&m.Mask == m.Value), m.Neg)
		}
		if !st.markKnown {
			return maybe
		}
		return neg(boolTri(st.mark&m.Mask == m.Value), m.Neg)
	}
	// Limits, meters, time, random, strings, concatenations, conntrack
	// status: not known for a concrete packet.
	return maybe
}

func itemHas(it policy.AddrItem, a netip.Addr) bool {
	if it.Is4() != a.Is4() {
		return false
	}
	lo, hi := ir.Bounds(it)
	return lo.Compare(a) <= 0 && a.Compare(hi) <= 0
}

func setHasAddr(s *policy.Set, a netip.Addr) tri {
	if len(s.Type) != 1 {
		return maybe
	}
	for _, el := range s.Elements {
		if len(el.Parts) == 1 && itemHas(el.Parts[0].Addr, a) {
			return yes
		}
	}
	return no
}

func setHasPort(s *policy.Set, port uint16) tri {
	if len(s.Type) != 1 {
		return maybe
	}
	for _, el := range s.Elements {
		if len(el.Parts) == 1 && el.Parts[0].Port == port {
			return yes
		}
	}
	return no
}

// SSHConnection is the connection of an SSH session, from the
// SSH_CONNECTION environment variable: "client_addr client_port
// server_addr server_port".
type SSHConnection struct {
	Client, Server         netip.Addr
	ClientPort, ServerPort uint16
}

// ParseSSHConnection parses the value of SSH_CONNECTION. Anything but two
// addresses of one family and two ports from 1 to 65535 is an error: the
// lock-out check fails closed on it.
func ParseSSHConnection(s string) (SSHConnection, error) {
	f := strings.Fields(s)
	if len(f) != 4 {
		return SSHConnection{}, fmt.Errorf("SSH_CONNECTION %q: want 4 fields (client address, client port, server address, server port)", s)
	}
	var c SSHConnection
	var err error
	if c.Client, err = netip.ParseAddr(f[0]); err != nil {
		return c, fmt.Errorf("SSH_CONNECTION %q: client address: %w", s, err)
	}
	if c.Server, err = netip.ParseAddr(f[2]); err != nil {
		return c, fmt.Errorf("SSH_CONNECTION %q: server address: %w", s, err)
	}
	cp, err1 := strconv.ParseUint(f[1], 10, 16)
	sp, err2 := strconv.ParseUint(f[3], 10, 16)
	if err1 != nil || err2 != nil || cp == 0 || sp == 0 {
		return c, fmt.Errorf("SSH_CONNECTION %q: a port is not a number from 1 to 65535", s)
	}
	c.Client, c.Server = c.Client.Unmap().WithZone(""), c.Server.Unmap().WithZone("")
	if c.Client.Is4() != c.Server.Is4() {
		return c, fmt.Errorf("SSH_CONNECTION %q: the addresses are of two families", s)
	}
	c.ClientPort, c.ServerPort = uint16(cp), uint16(sp)
	return c, nil
}

// SSHCheck evaluates what rs does to the SSH connection conn, both ways:
// the next packet from the client (established tcp to the server port,
// prerouting and input) and the server's reply to it (output and
// postrouting). Both use the interface of h's route to the client (unknown
// without h). The fate is Dropped when either direction is dropped;
// why then says which.
func SSHCheck(h *Host, rs *ir.Ruleset, conn SSHConnection) (Fate, string) {
	in := Packet{Src: conn.Client, Dst: conn.Server, Proto: policy.ProtoTCP,
		SrcPort: conn.ClientPort, DstPort: conn.ServerPort, TCPFlags: policy.ACK, CtState: policy.CtEstablished}
	out := Packet{Src: conn.Server, Dst: conn.Client, Proto: policy.ProtoTCP,
		SrcPort: conn.ServerPort, DstPort: conn.ClientPort, TCPFlags: policy.ACK, CtState: policy.CtEstablished, Out: true}
	if h != nil {
		in.InIface = routeIface(h.route, conn.Client)
		out.OutIface = in.InIface
	}
	fi, wi := Evaluate(rs, in)
	fo, wo := Evaluate(rs, out)
	wi = "packets from the client: " + wi
	wo = "replies to the client: " + wo
	switch {
	case fi == Dropped:
		return Dropped, wi
	case fo == Dropped:
		return Dropped, wo
	case fi == Undecided:
		return Undecided, wi
	case fo == Undecided:
		return Undecided, wo
	}
	return Accepted, ""
}

// routeIface returns the interface of the route to a (the one a local
// connection with a uses both ways, routing being symmetric), or "".
func routeIface(h *netlink.Handle, a netip.Addr) string {
	routes, err := h.RouteGet(a.AsSlice())
	if err != nil || len(routes) == 0 {
		return ""
	}
	l, err := h.LinkByIndex(routes[0].LinkIndex)
	if err != nil {
		return ""
	}
	return l.Attrs().Name
}
