// Package capability reports constructs that a requested backend cannot
// express, naming the backend, instead of letting it emit something wrong.
//
// # Analyzer capability
//
// capability: constructs a requested backend cannot express
//
// Reports, per requested backend, the constructs it cannot express.
//
// It judges the backends in Pass.Backends ("nft", "iptables", "ip6tables"),
// as errors: translate for those backends will refuse the policy, so these
// errors cannot be suppressed or lowered (the analyzer is Binding). With
// none requested (fwc check without --backend) it judges all three and
// reports warnings, which a suppression comment may silence (a policy meant
// for iptables only, say). iptables is judged only on rules that apply to
// IPv4, ip6tables only on those that apply to IPv6. FW1901 and FW1904 are
// about nft; FW1902, FW1903 and FW1905 about iptables and ip6tables.
//
// What each backend cannot express is one table, package limits, which the
// backends read too: translate refuses a rule with the very diagnostic
// check gives for it, so "fwc check" says it first and in the same words.
//
// # FW1901: nft cannot match payload strings
//
// nftables has no string match: the "string" condition exists only in iptables
// (the xt_string extension). Translate this policy with --to iptables, or
// replace the string match (for instance by a match on addresses or ports).
//
// # FW1902: no ipset type holds this set
//
// iptables looks named sets up through ipset, whose set types are fixed
// combinations: an address or network, optionally followed by a port and then
// optionally by an address or network (hash:ip / hash:net, hash:ip,port,
// hash:net,port, hash:ip,port,ip, hash:ip,port,net, hash:net,port,net); two
// networks (hash:net,net); an address or network with a mark (hash:ip,mark)
// or an interface (hash:net,iface); ports alone (bitmap:port). A
// concatenation in another order (port first, say), or a network with a
// mark (ipset has hash:ip,mark only), has no ipset type, so iptables cannot
// use it. (Sets of interfaces or marks alone are fine: their
// elements become separate rules; but not when their elements time out,
// since those rules would never expire, and such a set is reported too.)
// Reorder the concatenation (address first), split the lookup into separate
// matches, or translate with --to nft.
//
// # FW1903: iptables cannot match ct status dying
//
// The iptables conntrack match tests the statuses expected, seen-reply, assured
// and confirmed (snat and dnat are ct states there), but not dying. Translate
// with --to nft, or drop that status from the match.
//
// # FW1904: nft cannot express this construct
//
// The nft backend cannot express this construct: a connmark save or restore
// under a partial mask (nft copies the whole mark), a tos value with the ECN
// bits set (nft sets the DSCP part only), a list of icmp types where some have
// codes and some do not, or a negated time condition with several parts
// (hours and days, say). Rewrite it (split the rule, use the whole mark, a
// DSCP value) or translate with --to iptables.
//
// # FW1905: iptables cannot express this construct
//
// The iptables backend cannot express this construct: tcp flags ece or cwr
// (the tcp match tests only fin, syn, rst, psh, ack and urg), ct status snat
// or dnat together with other status bits in one match (iptables tests snat
// and dnat as ct states and the others as statuses, and cannot OR the two in
// one match), a port in a NAT target (dnat, snat, redirect, masquerade,
// balance) of a udplite rule (the NAT targets take ports only with tcp, udp,
// sctp or dccp), ct zone (iptables can set a zone but has no match for
// one), an addrtype other than unspec, unicast, local, anycast, multicast
// or unreachable for IPv6 (ip6tables' addrtype match refuses the others),
// or a negated list (of protocols, interfaces, icmp types, marks of a set,
// several values of a field) or a negated time in a rule that returns or
// goes to a chain (iptables negates those through a sub-chain holding a
// RETURN per value; for a rule that returns or goes to a chain that
// sub-chain must be entered with a goto, and an excluded packet's RETURN
// would then leave the rule's chain too). Rewrite it (split the rule, NAT the address alone, negate
// one value) or translate with --to nft.
package capability

import _ "embed" // for doc

//go:embed doc.go
var doc string
