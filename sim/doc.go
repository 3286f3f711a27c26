// Package sim walks one concrete packet through an IR ruleset as the
// kernel would, and records the walk as data: each base chain entered in
// kernel order, each rule that matched (with its source positions), jumps
// and returns, marks set, notrack, each nat rewrite, the routing decision
// (the policy route a mark chose, or the main table), the chain policies
// that decided, and the final verdict and where the packet leaves. apply's
// SSH lock-out check asks it for fates; `fwc trace` prints its steps.
//
// It sits after ir in the pipeline and decides no condition itself: every
// match is sem.Holds on the packet's point, the same regions check/space
// walks symbolically, so that the concrete and the symbolic engines share
// one definition of what a match means (see package sem). A condition sem
// cannot decide for a concrete packet (a rate limit, time, a mark the walk
// does not know) forks the walk: each Way of the Result is one answer.
//
// NAT is applied where the kernel applies it: dnat and redirect in
// prerouting and output change the destination before the routing
// decision, snat and masquerade in postrouting the source. What the kernel
// picks at run time (an address of a range, the address of an interface
// for masquerade and a prerouting redirect) is Unknown to the walk. nat
// chains are walked only for a connection's first packet, as the kernel
// does; a later packet's rewrite is its connection's binding, which the
// walk does not know.
//
// The routing decision knows the policy's routes (ir.Routing) and what the
// caller tells of the host (Options.Local, Options.Route): it does not
// read the host's routing tables.
package sim
