// Package sim walks one concrete packet through an IR ruleset as the
// kernel would, and records the walk as data: each base chain entered in
// kernel order, each rule that matched (with its source positions), jumps
// and returns, marks set, notrack, the nat rule or chain policy that
// decided, and the final verdict. apply's SSH lock-out check asks it for
// fates; `fwc trace` will print its steps.
//
// It sits after ir in the pipeline and decides no condition itself: every
// match is sem.Holds on the packet's point, the same regions check/space
// walks symbolically, so that the concrete and the symbolic engines share
// one definition of what a match means (see package sem). A condition sem
// cannot decide for a concrete packet (a rate limit, time, a mark the walk
// does not know) forks the walk: each Way of the Result is one answer.
//
// Not modelled yet: NAT rewrites (a nat rule ends its chain with accept
// but the packet keeps its addresses, so a later chain sees the original
// ones), the routing decision (the caller gives the path and the
// interfaces), and policy routes. nat chains are walked only for a
// connection's first packet, as the kernel does.
package sim
