// Package shadow reports rules that can never match because earlier rules
// with another verdict already decide every packet they match, and rules
// whose own conditions contradict each other.
//
// # Analyzer shadow
//
// shadow: shadowed rules
//
// Reports rules that never match because earlier rules with another verdict
// decide all their packets (together, not only one by one), or because the
// jumps into their chain exclude them.
//
// # What it models
//
// The check follows packets exactly over the fields rules match: source and
// destination address (IPv4 and IPv6 separately), protocol, ports,
// interfaces (names and "eth*" prefixes), packet and connection mark
// (value/mask), ct state, ct status, icmp type and code, and tcp flags.
// Named sets count by their elements. Every base chain is walked in both
// families from all packets of its hook; a user chain is walked once for
// each jump that reaches it, with only the packets that jump passes. A rule
// is reported when it can match no packet in any of those walks, because the
// packets it would match are all decided (accepted, dropped, rejected,
// returned, translated, or sent on by goto) by earlier rules — by their union,
// not only one of them — or, inside a user chain, already excluded by the
// conditions of the jumps into the chain.
//
// # What it assumes
//
// A rule whose match the analysis cannot decide for certain "may not
// match": rate limits, meters, connection limits, time, probability,
// payload strings, and lookups in sets with a timeout (which can change at
// run time). Such a rule never counts as covering a later one, so the check
// reports no rule it cannot prove dead. Its own coverage is still judged: if
// earlier rules decide every packet it could match, it is reported. After an
// action that may rewrite the packet or connection mark, later mark
// conditions are treated the same way. Non-terminal actions (log, counter,
// mark) never cover; a jump covers only the packets the called chain
// decides.
//
// A rule after an unconditional verdict in its own chain is left to the
// verdictflow pass (FW1601), which reports it as never reached.
//
// Its codes are warnings, not errors, although each finding is proven (no
// heuristics): the ruleset is still valid and the kernel does exactly what
// is written, so a shadowed rule must not stop "fwc apply" in an emergency.
// CI runs "fwc check --strict", which fails on warnings, and
// "--severity FW1101=error" makes it an error everywhere.
//
// # FW1101: shadowed rule
//
// Earlier rules decide every packet this rule matches, some of them with
// another verdict, and the earlier rules with this rule's own verdict do not
// cover it by themselves (when they do, the rule is reported as redundant,
// FW1201). The rule never fires. The notes list the earlier rules that take
// its packets; the rule may be covered by several of them together, or by
// the elements of a named set.
//
// If the rule's verdict is meant for those packets, the rules with another
// verdict are too broad: narrow them, or move this rule above them, which
// changes what happens to the packets they share with it (check that this is
// the intent). If it is not, delete the rule: deleting a rule that never
// fires changes nothing.
//
// Rules with a rate limit, meter, connection limit, time, probability or
// string match, and lookups in sets with a timeout, "may not match" and never
// count as covering another rule.
//
// It is a warning, although each finding is proven: the kernel does what is
// written, and a shadowed rule must not stop "fwc apply" in an emergency.
// "--severity FW1101=error" makes it an error.
//
// # FW1102: rule excluded by the jumps into its chain
//
// The rule is in a user chain, and every jump or goto into the chain has
// conditions that exclude all packets the rule matches (for example the jump
// matches "iif eth0" and the rule "iif eth1"), so the rule never fires. The
// note points at a jump into the chain.
//
// # Analyzer contradiction
//
// contradiction: rules whose conditions contradict each other
//
// Reports rules that can match no packet because two of their conditions
// allow no common value of one field (two different source networks, two
// ports, an interface and its negation).
//
// It is an analyzer of its own, apart from the packet-space walk: it only
// lowers each rule, and as it reports errors, translate and apply run it
// (they skip the walk), so that such a rule is never dropped in silence.
//
// # FW1103: rule conditions contradict each other
//
// Two conditions of the rule allow no common value of one packet field, so
// the rule can match no packet: for example "saddr 10.0.0.0/8 saddr
// 192.168.0.0/16" (no address is in both), "tcp dport 22 tcp dport 80",
// "iif eth0 iif eth1", or "iif eth0 iif != eth*". All conditions of a rule
// must hold at once; to match either value, list both in one condition
// ("saddr 10.0.0.0/8, 192.168.0.0/16"), or write two rules. The note points
// at the earlier condition; for a zone-level rule it may be the zone's own
// interfaces or networks.
//
// The backends would emit the rule (nft) or leave it out (where a family has
// no address left), and either way it never fires: fwc refuses the policy
// rather than drop a rule in silence. Conditions of different address
// families are reported as FW0111, and conflicting protocols as FW0118.
package shadow

import _ "embed" // for doc

//go:embed doc.go
var doc string
