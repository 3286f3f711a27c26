// Package hygiene finds the input-policy mistakes an operator only notices
// in production: a host that drops by default must still accept replies to
// its own connections, IPv6 neighbour discovery, ssh and loopback traffic.
//
// # Analyzer hygiene
//
// hygiene: input drop policies that break the host
//
// Reports drop-by-default input chains that do not accept established
// traffic, ICMPv6 neighbour discovery, ssh or loopback.
//
// For every base chain on the input hook (of any table) that drops by
// default (policy drop, or a rule without conditions that drops or rejects),
// the pass walks the rules in order, including zone-generated ones and,
// through jumps and gotos, the rules of the user chains they call (with the
// calling rules' conditions added), up to the first rule without conditions
// that ends evaluation. It collects the accepting rules and asks, for each
// kind of traffic its codes name, whether some accepting rule could accept
// some of it. The judgement is deliberately lenient, to raise no false
// alarm: a condition on a field the question does not fix (addresses, rate
// limits, marks, time, ...) counts as satisfiable, and any accept that could
// take part of the traffic is enough. Whether an earlier rule drops that
// traffic first is left to the shadow pass. The names of chains, zones and
// services play no part.
//
// Each family the backends can carry (both when no backend was named) is
// judged on its own: an accept that only IPv6 packets can take does not let
// IPv4 replies, ssh or loopback traffic in.
//
// # FW1301: input drops replies to the host's own connections
//
// The input chain drops by default and no rule accepts "ct state established"
// (or "related"). Replies to connections the host opens itself (DNS answers,
// package downloads, NTP) are dropped, and so are the related ICMP errors that
// path MTU discovery needs. When they are accepted for one family only, the
// summary names the family left out ("... over IPv6"). Add near the top:
//
//	ct state established,related accept
//
// # FW1302: input drops IPv6 neighbour discovery
//
// The input chain drops by default, can see IPv6 traffic (no backend was
// named, or nft or ip6tables was), and no rule accepts ICMPv6 neighbour
// solicitations and advertisements (nd-neighbor-solicit, nd-neighbor-advert,
// types 135 and 136). Without them the host cannot resolve its neighbours'
// link-layer addresses and IPv6 stops working on the link. Conntrack does not
// track these messages (ct state untracked), so an established rule does not
// cover them. Add:
//
//	icmpv6 type nd-neighbor-solicit, nd-neighbor-advert accept
//
// # FW1303: input drops ssh (lock-out)
//
// The input chain drops by default and no rule accepts new tcp connections to
// port 22. Applying this policy over ssh locks you out. It is also reported
// when only IPv6 ssh is accepted ("... over IPv4"): the IPv4 session is cut.
// (Accepting ssh over IPv4 only is not reported: admitting ssh from IPv4
// admin networks alone is a common, deliberate choice.) Accept ssh (from
// your admin networks), or suppress this with the reason when ssh listens on
// another port or is deliberately closed:
//
//	# fwc:ignore FW1303 reason
//
// # FW1304: input drops loopback traffic
//
// The input chain drops by default and no rule accepts traffic on the loopback
// interface (iif lo, or the loopback addresses). Local programs talking to
// each other over 127.0.0.1 or ::1 (databases, resolvers, agents) are cut
// off. When loopback is accepted for one family only, the summary names the
// family left out ("... over IPv6"). Add near the top:
//
//	iif lo accept
package hygiene

import _ "embed" // for doc

//go:embed doc.go
var doc string
