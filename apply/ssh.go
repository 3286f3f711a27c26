package apply

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
	"github.com/fwcproject/fwc/sim"
)

// Fate is what the ruleset does to a packet on its way in or out; the
// concrete walk is package sim's.
type Fate = sim.Fate

const (
	Accepted  = sim.Accepted  // every path accepts it
	Dropped   = sim.Dropped   // every path drops or rejects it
	Undecided = sim.Undecided // it depends on state a concrete walk does not know (limits, time, marks, ...)
)

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
	// The connection's status and mark are not known to the check; the
	// packet mark starts at 0, and an established tcp connection's packets
	// carry ACK.
	unknown := sem.Dims(0).With(sem.CtStatus).With(sem.CtMark)
	in := sem.Packet{Src: conn.Client, Dst: conn.Server, Proto: policy.ProtoTCP,
		SrcPort: conn.ClientPort, DstPort: conn.ServerPort, TCPFlags: policy.ACK, CtState: policy.CtEstablished,
		Unknown: unknown}
	out := sem.Packet{Src: conn.Server, Dst: conn.Client, Proto: policy.ProtoTCP,
		SrcPort: conn.ServerPort, DstPort: conn.ClientPort, TCPFlags: policy.ACK, CtState: policy.CtEstablished,
		Unknown: unknown}
	if h != nil {
		in.InIface = routeIface(h.route, conn.Client)
		out.OutIface = in.InIface
	}
	// An interface the route does not name is unknown; the other side of
	// each packet has none (an arriving packet has no output interface
	// yet, a leaving one no input interface), which sem knows as "".
	if in.InIface == "" {
		in.Unknown = in.Unknown.With(sem.IIf)
		out.Unknown = out.Unknown.With(sem.OIf)
	}
	fi, wi := sim.Run(rs, sem.ToSelf, in, sim.Options{NoSteps: true}).Fate()
	fo, wo := sim.Run(rs, sem.FromSelf, out, sim.Options{NoSteps: true}).Fate()
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
