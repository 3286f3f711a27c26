// Package assert proves the policy's assert declarations: for every packet
// an assert names, the verdict the whole ruleset gives it is the one the
// assert claims.
//
// # Analyzer assert
//
// assert: assert declarations proven for every packet
//
// An assert names packets the way a zone rule does (`from ZONE to ZONE`,
// then match words) and ends in the verdict they must get: `accept` (every
// one of them is accepted), `drop` (none is: each is dropped or rejected
// somewhere), or a kind of address translation, `masquerade`, `snat`,
// `dnat` or `redirect` (every one the policy accepts is translated by a
// nat rule of that kind; a balance counts as dnat; those it drops are not
// judged). The pass walks the set of those packets, not a
// sample of them, through every chain they cross, in kernel order (the
// hooks of their path; on each hook the tables by priority; jumps, gotos
// and returns; marks set and restored; notrack), with the packet-space
// engine the shadow and redundant passes use (check/space, over package
// sem's regions). When some packet gets the other verdict the assert fails,
// and the error gives one such packet, concrete, in the words of fwc's
// matches, and the rule that decided it (or the chain policy).
//
// What an assert leaves open is filled in as the first packet of a new
// connection has it: ct state new, ct status 0, marks 0, tcp flags syn, an
// input interface other than lo for a packet that arrives (loopback is the
// host's own traffic: name it, `iif lo`, to claim something about it),
// none for one the host sends.
// Write `ct state established` (or another state) to claim something about
// a connection's later packets.
//
// An assert marked `management` (only with `accept`) claims more: that the
// connections it names carry on both ways, so that nobody is locked out
// of the host. Its packets in ct state established (tcp flags ack, any ct
// status and connection mark) are accepted too, and so are the replies
// (addresses, ports and interfaces swapped, on the reverse path: output
// for a connection to the host). `fwc apply` refuses a policy whose
// asserts fail, as it refuses any policy with errors.
//
// # FW1090: assert does not hold
//
// Some packet the assert names gets the other verdict. The message gives
// one such packet, as it crosses the host ("to self", "forwarded", "from
// self") and its fields, and the rule that decided it: the drop (or
// reject) for an `accept` assert, the last rule that accepted it for a
// `drop` assert or one of translation (a packet accepted without it), or
// the chain policy. Either the policy or the assert is
// wrong: fix the rule, or narrow the assert.
//
//	zone admins { net 10.9.0.0/16 }
//	table filter { chain input policy drop { ct state established accept } }
//	assert from admins to self tcp dport 22 accept   # FW1090
//
// # FW1091: assert not proven
//
// The proof could not decide whether every packet the assert names gets its
// verdict: some packet may get the other one, depending on something the
// engine does not model exactly (a rate limit, time of day, a mark copied
// from an unknown connection mark, a nat rewrite of the destination, a ct
// match before connection tracking), or the policy splits the packets into
// more classes than the walk follows. The message names what, and a packet
// that may be treated otherwise.
//
// # FW1092: assert names packets inexactly
//
// An assert's matches must name a set of packets exactly: a rate limit,
// meter, connlimit, time, probability, string match or a set that can
// change at run time says nothing definite about which packets are meant.
// Leave such matches out of the assert.
//
// # FW1093: management assert without accept
//
// `management` claims that connections survive both ways; it goes with
// `accept` only, not with `drop` or a kind of translation.
package assert

import _ "embed" // for doc

//go:embed doc.go
var doc string
