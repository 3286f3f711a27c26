// Package unaddressed finds services for clients that have no address yet
// (DHCP, DHCPv6) allowed only from a zone restricted by its networks.
//
// # Analyzer unaddressed
//
// unaddressed: DHCP allowed from a zone whose net its clients are not in
//
// Reports a `to self` rule that accepts DHCP or DHCPv6 requests from a zone
// with `net`, when the requests of clients without an address lie outside
// that net and nothing else in the input chain accepts them.
//
// A zone with `net` matches a packet only when its source address is in one
// of the zone's networks. A DHCP client without an address sends its
// requests from 0.0.0.0 (port 68) to 255.255.255.255 (port 67), and a
// DHCPv6 client from its link-local address (fe80::/10, port 546) to
// ff02::1:2 (port 547); neither is in a zone's usual networks, so `from lan
// to self service dhcp accept` never accepts them and the input chain's
// policy (usually drop) decides. Leases still renew (a client with an
// address sends from it), which hides the problem until a new client comes.
//
// The pass builds that request, for each family the zone has networks of,
// as it arrives on the zone's first interface, and walks the filter input
// chains (through jumps) for the rules that accept it: a rule naming the
// server port (udp dport 67, or 547) whose every condition but the zone's
// net may hold for the request is reported, at the zone name, unless some
// rule accepts the request itself (by interface, say) or the chain accepts
// what reaches its end. The request is a new connection (the server's
// answer goes to another address, so conntrack never sees a reply). The
// judgement is lenient: a condition the request does not decide (marks,
// rates, time) counts as satisfiable, so a rule that may accept the request
// silences the finding.
//
// Its code shares the FW13xx hundred with the hygiene pass (what an input
// chain must let in): FW131x.
//
// # FW1310: zone net drops requests of clients without an address
//
// This rule accepts DHCP (or DHCPv6) requests from a zone with `net`, but
// the requests of a client that has no address yet come from 0.0.0.0 (or a
// link-local fe80:: address), outside the zone's networks: the rule never
// sees them, and nothing else in the input chain accepts them. New clients
// get no lease. Accept the requests by interface, before or beside the zone
// rule:
//
//	table filter {
//		chain input policy drop {
//			iif eth1 udp sport 68 udp dport 67 accept
//			iif eth1 saddr fe80::/10 udp dport 547 accept
//		}
//	}
//
// (or add 0.0.0.0/32, or fe80::/10, to the zone's networks, which lets those
// sources through every rule of the zone).
package unaddressed

import _ "embed" // for doc

//go:embed doc.go
var doc string
