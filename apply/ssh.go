package apply

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// Fate is what the ruleset does to a connection's packets on their way in
// or out.
type Fate int

const (
	Accepted  Fate = iota // every packet is accepted
	Dropped               // every packet is dropped or rejected
	Undecided             // it depends on what the proof does not know (limits, time, the connection's mark, ...)
)

func (f Fate) String() string { return [...]string{"accepted", "dropped", "undecided"}[f] }

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

// SSHCheck proves what rs does to the SSH connection conn, both ways: the
// client's next packets (established tcp to the server port, through
// prerouting and input) and the server's replies (output and
// postrouting), through every table and chain they meet, with the
// symbolic walk of check/space (the engine that proves the policy's
// asserts). What the check cannot know of the live connection, its ct
// status and connection mark, is left open: the walk covers every value,
// so the fate is Dropped only when every value is dropped, Undecided when
// some are. Both directions use the interface of h's route to the client
// (any interface without h). The fate is Dropped when either direction
// is dropped; why then says which, by what rule or chain policy, and with
// which packet.
func SSHCheck(h *Host, rs *ir.Ruleset, conn SSHConnection) (Fate, string) {
	iface := ""
	if h != nil {
		iface = routeIface(h.route, conn.Client)
	}
	n := NetOf(rs)
	s := space.NewSpace(conn.Client.Is6())
	// An established tcp connection's packets carry ACK; the packet mark
	// starts at 0.
	in := sem.Packet{Src: conn.Client, Dst: conn.Server, Proto: policy.ProtoTCP,
		SrcPort: conn.ClientPort, DstPort: conn.ServerPort, TCPFlags: policy.ACK, CtState: policy.CtEstablished,
		InIface: iface}
	out := sem.Packet{Src: conn.Server, Dst: conn.Client, Proto: policy.ProtoTCP,
		SrcPort: conn.ServerPort, DstPort: conn.ClientPort, TCPFlags: policy.ACK, CtState: policy.CtEstablished,
		OutIface: iface}
	fi, wi := fate(n, s, sem.ToSelf, cube(s, in, sem.IIf, iface == ""))
	fo, wo := fate(n, s, sem.FromSelf, cube(s, out, sem.OIf, iface == ""))
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

// cube is the set of packets p may be: its fields, any ct status and
// connection mark, and when anyIface any interface (but none) on side d.
func cube(s *space.Space, p sem.Packet, d sem.Dim, anyIface bool) space.Cube {
	p.Unknown = sem.Dims(0).With(sem.CtStatus).With(sem.CtMark)
	if anyIface {
		p.Unknown = p.Unknown.With(d)
	}
	c := p.Point().Cube()
	if anyIface {
		c[d] = c[d].Minus(sem.Single(sem.U128{}))
	}
	return c
}

// fate walks the packets of c on path through n: Accepted when all are
// accepted, Dropped when all are dropped (or rejected), else Undecided;
// why names the first drop found (the rule or chain policy) and a
// witness packet.
func fate(n *space.Net, s *space.Space, path sem.Path, c space.Cube) (Fate, string) {
	res := space.Flow(n, s, path, space.Region{c})
	if res.Incomplete != "" {
		return Undecided, res.Incomplete
	}
	var drop *space.Outcome
	accept := false
	for i := range res.Outcomes {
		o := &res.Outcomes[i]
		switch {
		case o.Accept:
			accept = true
		case drop == nil || drop.Maybe != "" && o.Maybe == "":
			drop = o
		}
	}
	if drop == nil {
		return Accepted, ""
	}
	why := drop.Why + " (for " + space.Words(space.Witness(s, &drop.Entry), path) + ")"
	if drop.Maybe != "" {
		why += ", depending on " + drop.Maybe
	}
	if accept {
		return Undecided, why
	}
	return Dropped, why
}

// NetOf returns the chains of rs as check/space's Flow walks them. Meters
// and connection limits count as the conditions they wrap (sem does not
// model them), a verdict map as one rule per entry (its keys are distinct,
// so their order does not matter).
func NetOf(rs *ir.Ruleset) *space.Net {
	chains := map[*ir.Chain]*space.NetChain{}
	var conv func(c *ir.Chain) *space.NetChain
	conv = func(c *ir.Chain) *space.NetChain {
		if nc := chains[c]; nc != nil {
			return nc
		}
		nc := &space.NetChain{Table: c.Table.Name, Name: c.Name, Hook: c.Hook, Priority: c.Priority,
			NAT: c.Type == ir.TypeNAT, Drop: c.IsBase() && c.Policy == policy.Drop}
		chains[c] = nc
		for _, r := range c.Rules {
			// Shared with the IR rule unless a match needs unwrapping.
			conds := r.Matches
			for i, m := range r.Matches {
				switch m.(type) {
				case *ir.Meter, *ir.Connlimit:
					if &conds[0] == &r.Matches[0] {
						conds = slices.Clone(r.Matches)
					}
					conds[i] = ir.PolicyCond(m)
				}
			}
			pos := r.Comment(80)
			if pos == "" {
				pos = "(generated rule)"
			}
			step := func(a policy.Action) space.NetStep {
				if j, ok := a.(*ir.Jump); ok {
					return space.NetStep{Action: a, Target: conv(j.Target), Goto: j.Goto}
				}
				return space.NetStep{Action: a}
			}
			var steps []space.NetStep
			split := false
			for k, a := range r.Actions {
				vm, ok := a.(*ir.VerdictMap)
				if !ok {
					steps = append(steps, step(a))
					continue
				}
				for _, e := range vm.Entries {
					es := append(slices.Clone(steps), step(e.Verdict))
					for _, b := range r.Actions[k+1:] {
						es = append(es, step(b))
					}
					pr := &policy.Rule{Family: policy.Family(r.Family), Conds: append(slices.Clone(conds), e.Match)}
					nc.Rules = append(nc.Rules, &space.NetRule{Rule: pr, Steps: es, Pos: pos})
				}
				split = true
				break
			}
			if !split {
				pr := &policy.Rule{Family: policy.Family(r.Family), Conds: conds}
				nc.Rules = append(nc.Rules, &space.NetRule{Rule: pr, Steps: steps, Pos: pos})
			}
		}
		return nc
	}
	n := &space.Net{}
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			if c.IsBase() {
				n.Base = append(n.Base, conv(c))
			}
		}
	}
	return n
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
