package apply

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/check/policy"
	"github.com/fwcproject/fwc/ir"
	"github.com/vishvananda/netlink"
)

// Packet is one concrete packet arriving at the host, for Evaluate.
type Packet struct {
	Src, Dst         netip.Addr
	Proto            policy.Proto
	SrcPort, DstPort uint16
	TCPFlags         uint8  // policy.ACK for a packet of an established connection
	CtState          uint32 // one bit: policy.CtEstablished, CtNew, ...
	// InIface is the input interface; "" when unknown (interface matches
	// then count as undecided).
	InIface string
}

// Fate is what the ruleset does to a packet on its way in.
type Fate int

const (
	Accepted  Fate = iota // every path accepts it
	Dropped               // every path drops or rejects it
	Undecided             // it depends on state Evaluate does not know (limits, time, marks, ...)
)

func (f Fate) String() string {
	return [...]string{"accepted", "dropped", "undecided"}[f]
}

// Evaluate runs p through the base chains of rs on the prerouting and input
// hooks, in priority order, and says whether it reaches a local socket. NAT
// chains are skipped (they see only the first packet of a connection) and
// so are actions other than verdicts and jumps. Matches Evaluate cannot
// decide for a concrete packet (rate limits, time, random, connection
// marks, dynamic sets) are followed both ways. why names the rule that
// decided a dropped packet's fate (its source position), or the chain
// policy.
func Evaluate(rs *ir.Ruleset, p Packet) (fate Fate, why string) {
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
			switch c.Hook {
			case policy.Prerouting:
				chains = append(chains, base{c, 0})
			case policy.Input:
				chains = append(chains, base{c, 1})
			}
		}
	}
	sort.SliceStable(chains, func(i, j int) bool {
		if chains[i].hook != chains[j].hook {
			return chains[i].hook < chains[j].hook
		}
		return chains[i].c.Priority < chains[j].c.Priority
	})
	e := &evaluator{p: p, budget: 4096}
	accept, drop := true, false
	for _, b := range chains {
		a, d, w := e.base(b.c)
		if d && why == "" {
			why = w
		}
		drop = drop || d
		accept = a
		if !a {
			break
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

type evaluator struct {
	p      Packet
	budget int // forks left before giving up on precision
}

// outcome is the set of ways evaluation can end.
type outcome struct {
	accept, drop, ret bool // ret: fell off a user chain or returned
	why               string
}

func (o *outcome) or(x outcome) {
	o.accept = o.accept || x.accept
	o.ret = o.ret || x.ret
	if x.drop && !o.drop {
		o.drop, o.why = true, x.why
	}
}

// base evaluates a base chain: can the packet leave it accepted, dropped?
func (e *evaluator) base(c *ir.Chain) (accept, drop bool, why string) {
	o := e.rules(c, 0, 0)
	if o.ret {
		if c.Policy == policy.Drop {
			o.drop = true
			if o.why == "" {
				o.why = "the policy drop of chain " + c.Name
			}
		} else {
			o.accept = true
		}
	}
	return o.accept, o.drop, o.why
}

// rules evaluates c from rule i on.
func (e *evaluator) rules(c *ir.Chain, i, depth int) outcome {
	if depth > 32 {
		return outcome{accept: true, drop: true, why: "jumps nested too deep to follow"}
	}
	for ; i < len(c.Rules); i++ {
		r := c.Rules[i]
		m := e.matches(r)
		if m == no {
			continue
		}
		if m == maybe {
			if e.budget <= 0 {
				return outcome{accept: true, drop: true, why: "too many undecided matches"}
			}
			e.budget--
			var o outcome
			o.or(e.actions(c, r, i, depth))
			o.or(e.rules(c, i+1, depth))
			return o
		}
		return e.actions(c, r, i, depth)
	}
	return outcome{ret: true}
}

// actions runs a matching rule's actions, then the rest of the chain if
// none of them ended it.
func (e *evaluator) actions(c *ir.Chain, r *ir.Rule, i, depth int) outcome {
	for _, a := range r.Actions {
		switch a := a.(type) {
		case *ir.Verdict:
			switch a.Kind {
			case policy.Accept:
				return outcome{accept: true}
			case policy.Return:
				return outcome{ret: true}
			default:
				return outcome{drop: true, why: "the rule at " + posString(r)}
			}
		case *ir.Jump:
			sub := e.rules(a.Target, 0, depth+1)
			if a.Goto {
				return sub
			}
			if !sub.ret {
				return sub
			}
			// Came back: the rest of this chain, and whatever else the
			// sub-chain could do.
			sub.ret = false
			rest := e.rules(c, i+1, depth)
			rest.or(sub)
			return rest
		case *ir.NAT, *ir.Balance:
			return outcome{accept: true}
		}
	}
	return e.rules(c, i+1, depth)
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

func (e *evaluator) matches(r *ir.Rule) tri {
	fam := ir.IPv4
	if e.p.Src.Is6() {
		fam = ir.IPv6
	}
	if !r.In(fam) {
		return no
	}
	t := yes
	for _, m := range r.Matches {
		t = and(t, e.match(m))
		if t == no {
			return no
		}
	}
	return t
}

func (e *evaluator) match(m ir.Match) tri {
	p := e.p
	switch m := m.(type) {
	case *ir.Addr:
		a := p.Src
		if m.Dir == policy.Dst {
			a = p.Dst
		}
		if m.Set != nil {
			return neg(setHasAddr(m.Set, a), m.Neg)
		}
		return neg(boolTri(slices.ContainsFunc(m.Items, func(it policy.AddrItem) bool { return itemHas(it, a) })), m.Neg)
	case *ir.Proto:
		return neg(boolTri(slices.Contains(m.Protos, p.Proto)), m.Neg)
	case *ir.Port:
		if m.Proto != p.Proto {
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
	case *ir.Iface:
		if m.Dir == policy.Dst {
			return no // no output interface on input
		}
		if p.InIface == "" || m.Set != nil {
			return maybe
		}
		return neg(boolTri(slices.ContainsFunc(m.Ifaces, func(i policy.Iface) bool {
			return i.Name == p.InIface || i.Wildcard && strings.HasPrefix(p.InIface, i.Name)
		})), m.Neg)
	case *ir.ICMP:
		return no // the packet is not icmp
	case *ir.TCPFlags:
		if p.Proto != policy.ProtoTCP {
			return no
		}
		return neg(boolTri(p.TCPFlags&m.Mask == m.Flags), m.Neg)
	case *ir.CtState:
		return neg(boolTri(p.CtState&m.Bits != 0), m.Neg)
	}
	// Marks, limits, meters, time, random, strings, concatenations,
	// conntrack status: not known for a concrete packet.
	return maybe
}

func itemHas(it policy.AddrItem, a netip.Addr) bool {
	if it.Is4() != a.Is4() {
		return false
	}
	lo, hi := ir.Bounds(it)
	return lo.Compare(a) <= 0 && a.Compare(hi) <= 0
}

func setHasAddr(s *ir.Set, a netip.Addr) tri {
	if s.Dynamic || len(s.Type) != 1 {
		return maybe
	}
	for _, el := range s.Elements {
		if len(el.Parts) == 1 && itemHas(el.Parts[0].Addr, a) {
			return yes
		}
	}
	return no
}

func setHasPort(s *ir.Set, port uint16) tri {
	if s.Dynamic || len(s.Type) != 1 {
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

// ParseSSHConnection parses the value of SSH_CONNECTION.
func ParseSSHConnection(s string) (SSHConnection, error) {
	f := strings.Fields(s)
	if len(f) != 4 {
		return SSHConnection{}, fmt.Errorf("SSH_CONNECTION %q: want 4 fields", s)
	}
	var c SSHConnection
	var err error
	if c.Client, err = netip.ParseAddr(f[0]); err != nil {
		return c, fmt.Errorf("SSH_CONNECTION: %w", err)
	}
	if c.Server, err = netip.ParseAddr(f[2]); err != nil {
		return c, fmt.Errorf("SSH_CONNECTION: %w", err)
	}
	cp, err1 := strconv.ParseUint(f[1], 10, 16)
	sp, err2 := strconv.ParseUint(f[3], 10, 16)
	if err1 != nil || err2 != nil {
		return c, fmt.Errorf("SSH_CONNECTION %q: bad port", s)
	}
	c.Client, c.Server = c.Client.Unmap(), c.Server.Unmap()
	c.ClientPort, c.ServerPort = uint16(cp), uint16(sp)
	return c, nil
}

// SSHCheck evaluates what rs does to the next packet of the SSH connection
// conn: an established tcp packet from the client to the server port,
// arriving on the interface that holds the server address in h's namespace
// (unknown when none does).
func SSHCheck(h *Host, rs *ir.Ruleset, conn SSHConnection) (Fate, string) {
	p := Packet{Src: conn.Client, Dst: conn.Server, Proto: policy.ProtoTCP,
		SrcPort: conn.ClientPort, DstPort: conn.ServerPort, TCPFlags: policy.ACK, CtState: policy.CtEstablished}
	if h != nil {
		p.InIface = ifaceOf(h.route, conn.Server)
	}
	return Evaluate(rs, p)
}

// ifaceOf returns the interface that holds address a, or "".
func ifaceOf(h *netlink.Handle, a netip.Addr) string {
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return ""
	}
	for _, ad := range addrs {
		if x, ok := netip.AddrFromSlice(ad.IP); ok && x.Unmap() == a {
			if l, err := h.LinkByIndex(ad.LinkIndex); err == nil {
				return l.Attrs().Name
			}
		}
	}
	return ""
}
