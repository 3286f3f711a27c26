// Package placement checks that tables, hooks and actions fit where
// netfilter can run them.
//
// # Analyzer placement
//
// placement: tables, hooks and actions in places netfilter cannot run them
//
// Reports table/hook combinations the kernel lacks, NAT and routing marks in
// the wrong hook, and ct state matches after notrack.
//
// It models the kernel's tables and the hooks each has (raw: prerouting,
// output; mangle: all five; nat: prerouting, input, output, postrouting;
// filter and security: input, forward, output), the hooks where each kind of
// address translation happens, the packet paths (prerouting → input;
// prerouting → forward → postrouting; output → postrouting), and, for rules
// in user chains, every hook that reaches them through jumps (package graph).
// The kernel checks targets against the hooks of every chain that can reach
// them, so one bad path is enough to refuse the ruleset.
//
// # FW1701: table has no such hook
//
// Netfilter's tables attach to fixed hooks: raw to prerouting and output;
// mangle to all five; nat to prerouting, input, output and postrouting; filter
// and security to input, forward and output. A base chain on another hook (nat
// forward, raw input, filter prerouting, ...) does not exist: iptables has no
// such chain and fwc cannot emit it. Move the rules to a hook the table has,
// or to another table.
//
// # FW1702: destination NAT outside prerouting/output
//
// Destination NAT (dnat, redirect, balance) happens before routing: in the nat
// table's prerouting chain for arriving packets and output chain for local
// ones. Anywhere else the kernel refuses the rule; in a user chain this
// includes every hook that jumps to it.
//
// # FW1703: source NAT outside postrouting/input
//
// Source NAT (snat, masquerade) happens after routing: in the nat table's
// postrouting chain, or input for traffic to the host. Anywhere else the
// kernel refuses the rule; in a user chain this includes every hook that jumps
// to it.
//
// # FW1704: address translation outside the nat table
//
// snat, dnat, masquerade, redirect and balance are nat-table actions; the
// kernel does not run them from raw, mangle, filter or security chains.
//
// # FW1705: routing mark set after the routing decision
//
// "route NAME" sets a mark so that an ip rule sends the packet to another
// routing table. The routing decision for arriving packets is taken after
// prerouting (and for local packets rechecked after output); in input,
// forward and postrouting it has already been taken, so the mark cannot steer
// routing. The rule is reported when only those hooks reach its chain. Set
// it in prerouting (mangle) for forwarded or arriving traffic, or in output
// for local traffic.
//
// # FW1706: route's mark set after the routing decision
//
// This rule sets a mark that a route binds (a plain "mark set" whose value
// is a route's mark), but only in hooks where routing has
// already been decided (input, forward, postrouting), so it cannot steer the
// packet to that route. If the mark is meant for routing, set it in
// prerouting or output; if it serves another purpose, use a mark no route
// binds.
//
// # FW1707: ct state match on untracked traffic
//
// An earlier notrack rule exempts every packet this rule can match from
// connection tracking. Such packets have ct state "untracked": they are never
// new, established, related or invalid, so this match can never hold for
// them. Match "ct state untracked", or narrow the notrack rule. "Every
// packet" is judged condition by condition (this rule's conditions must be
// at least as narrow as the notrack rule's); when that cannot be shown, the
// rule is not reported.
//
// # FW1708: notrack outside the raw table
//
// notrack must run before connection tracking looks at the packet, which only
// the raw table's chains do (priority -300, before conntrack at -200). In any
// other table the connection is already tracked; iptables refuses the target
// there.
package placement

import _ "embed" // for doc

//go:embed doc.go
var doc string
