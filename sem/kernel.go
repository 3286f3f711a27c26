package sem

import "github.com/fwcproject/fwc/policy"

// Path is the way a packet crosses the host, which decides the hooks it
// traverses.
type Path int

const (
	ToSelf    Path = iota // received for a local socket
	Forwarded             // routed through the host
	FromSelf              // sent by a local socket
)

func (p Path) String() string { return [...]string{"to self", "forwarded", "from self"}[p] }

// hooks are the netfilter hooks of each path, in the order the kernel
// runs them (the routing decision lies between prerouting and
// input/forward, and after output).
var hooks = [...][]policy.Hook{
	ToSelf:    {policy.Prerouting, policy.Input},
	Forwarded: {policy.Prerouting, policy.Forward, policy.Postrouting},
	FromSelf:  {policy.Output, policy.Postrouting},
}

// Hooks returns the hooks a packet on path p traverses, in kernel order.
// The slice is shared: do not modify it.
func Hooks(p Path) []policy.Hook { return hooks[p] }

// Standard base-chain priorities (nft's names): on one hook, chains run by
// increasing priority; chains of equal priority run in the order they
// were registered, which for fwc's own tables is the order of this list.
const (
	PriorityRaw      = -300
	PriorityMangle   = -150
	PriorityDstNAT   = -100
	PriorityFilter   = 0
	PrioritySecurity = 50
	PrioritySrcNAT   = 100
)

// ConntrackPriority is where connection tracking runs on the prerouting
// and output hooks: a chain of a lower priority (raw) sees the packet
// before it has a connection, so ct matches cannot be decided there, and a
// notrack there makes the packet untracked for every later chain.
const ConntrackPriority = -200

// BeforeConntrack reports whether a base chain on hook h with priority
// prio runs before connection tracking has looked at the packet.
func BeforeConntrack(h policy.Hook, prio int) bool {
	return prio < ConntrackPriority && (h == policy.Prerouting || h == policy.Output)
}

// NATSees reports whether a nat base chain sees a packet in ct state
// state (one policy.Ct* bit): only the first packet of a connection
// (ct state new) goes through the nat chains; the kernel applies the
// binding chosen then to every later packet of the connection, and
// untracked packets are never translated.
func NATSees(state uint32) bool { return state == policy.CtNew }
