// Package portfwd checks port forwards: destination NAT in the nat table's
// prerouting hook, as written in zone rules (`from wan to self tcp dport 80
// dnat to 192.168.1.200:8080`), table rules and balances.
//
// # Analyzer portfwd
//
// portfwd: port forwards that cannot work
//
// Reports dnat whose translated packets the forward chain drops, and zone
// dnat rules addressed to a zone behind NAT.
//
// It models the packet a forward sends on: after prerouting its destination
// is the translated address and port (the original port when the dnat gives
// none), its protocol, input interface and family are those the dnat rule
// matched, its connection is new and has the dnat status. Such a packet is
// routed on to the filter forward chain (a dnat to one of the host's own
// addresses would go to input instead; the pass does not know the host's
// addresses and assumes a port forward goes on). The forward chain is
// walked like the hygiene pass walks input: every rule in order, through
// jumps and gotos with the calling rules' conditions, up to the first rule
// without conditions that ends evaluation. The judgement is lenient, to
// raise no false alarm: a condition on a field the model does not fix (the
// source address, the output interface, marks, rates, time, ...) counts as
// satisfiable.
//
// Its codes share the FW17xx hundred with the placement pass (NAT and
// where it happens): FW172x.
//
// # FW1720: port forward dropped by the forward chain
//
// A dnat rewrites the destination in prerouting; the translated packet is then
// routed on and goes through the filter forward chain. That chain drops by
// default (its policy, or a final rule without conditions that drops or
// rejects) and no rule in it can accept the translated packet (its new
// destination address and port, its protocol and input interface, connection
// state new with ct status dnat), so the port forward never reaches the
// server. The finding points at the dnat. Accept the forwarded connections,
// for example:
//
//	from wan to lan ct status dnat accept
//
// or a rule for the server's address and port.
//
// # FW1721: zone dnat addressed to a zone behind NAT
//
// A NAT rule sees the packet before translation. "from wan to lan ... dnat"
// matches only packets already addressed to lan's networks, but lan sits
// behind NAT as seen from wan (this policy translates lan's source addresses
// toward wan: a snat or masquerade from lan, or from everything, out through
// wan's interfaces): packets from wan are addressed to this host, so the rule
// never matches. A port forward is written "to self":
//
//	from wan to self tcp dport 80 dnat to 192.168.1.200:8080
package portfwd

import _ "embed" // for doc

//go:embed doc.go
var doc string
