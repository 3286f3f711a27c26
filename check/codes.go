package check

import "github.com/fwcproject/fwc/diag"

// Codes of the checker's front end: names and types.
const (
	codeDuplicate     = "FW0101"
	codeUnknown       = "FW0102"
	codeDefineCycle   = "FW0103"
	codeBadTable      = "FW0104"
	codeBadChain      = "FW0105"
	codeJumpTarget    = "FW0106"
	codeType          = "FW0110"
	codeFamily        = "FW0111"
	codePortProto     = "FW0112"
	codeICMPFamily    = "FW0113"
	codeRate          = "FW0114"
	codeLogPrefix     = "FW0115"
	codeSetUse        = "FW0116"
	codeHostBits      = "FW0117"
	codeProtoConflict = "FW0118"
	codeRange         = "FW0119"
	codeZoneLayer     = "FW0120"
	codePolicy        = "FW0121"
	codeRoute         = "FW0122"
	codeBalance       = "FW0123"
)

func init() {
	for _, d := range []diag.Doc{
		{Code: codeDuplicate, Title: "Duplicate declaration", Severity: diag.Error, Doc: `
Two declarations of the same kind share a name. Zones, services, sets, routes,
balances and defines each have their own namespace; chains are named per table.

    zone lan { iface eth1 }
    zone lan { iface eth2 }   # FW0101: zone "lan" is already declared

Rename one, or merge them: a zone may list several interfaces.`},
		{Code: codeUnknown, Title: "Unknown name", Severity: diag.Error, Doc: `
A name does not refer to any declaration of the kind expected there: a zone
in "from"/"to"/"policy", a service after "service", a set after "@", a define
after "$", a chain after "jump"/"goto", a route after "route". When a declared
name is close, fwc suggests it.

    from lna to self accept   # FW0102: unknown zone "lna"; did you mean "lan"?`},
		{Code: codeDefineCycle, Title: "Define refers to itself", Severity: diag.Error, Doc: `
A define's value refers back to the define, directly or through others, so it
has no value.

    define a = $b
    define b = $a   # FW0103`},
		{Code: codeBadTable, Title: "Unknown table", Severity: diag.Error, Doc: `
Tables are netfilter's: filter, nat, mangle, raw, security. fwc emits them as
iptables tables and as chains of one nft "inet" table with the matching type
and priority.`},
		{Code: codeBadChain, Title: "Invalid chain declaration", Severity: diag.Error, Doc: `
A base chain (named after its hook: prerouting, input, forward, output,
postrouting) may have a policy of accept or drop and a priority; a user chain
(any other name) has neither, because packets only enter it by jump or goto.`},
		{Code: codeJumpTarget, Title: "Invalid jump target", Severity: diag.Error, Doc: `
jump and goto name a user chain of the same table. A base chain cannot be
jumped to: it is entered from its hook.`},
		{Code: codeType, Title: "Value of the wrong type", Severity: diag.Error, Doc: `
A value does not have the type its position needs: an address where a port
is expected, a prefix in a set of single addresses, a word that is no known
protocol, icmp type, state or flag, a number out of range.

    set hosts : ipv4_addr { elements { 10.0.0.0/8 } }   # FW0110: a network in a set of addresses`},
		{Code: codeFamily, Title: "IPv4 and IPv6 mixed in one rule", Severity: diag.Error, Doc: `
Each rule applies to IPv4, IPv6 or both. Addresses (negated ones too: a
"saddr != 10.0.0.1" rule is IPv4's), named sets, icmp versus icmpv6, and
"family" each restrict it; when the restrictions leave no family, no packet
can match.

    set v6hosts : ipv6_addr { elements { fd00::1 } }
    from lan to self saddr @v6hosts daddr 192.168.1.1 accept   # FW0111`},
		{Code: codePortProto, Title: "Port without a port protocol", Severity: diag.Error, Doc: `
sport and dport exist only for tcp, udp, sctp and udplite. Write the protocol
("tcp dport 22"), or match it first ("proto tcp dport 22"), or use a service.

    from any to self dport 22 accept   # FW0112`},
		{Code: codeICMPFamily, Title: "ICMP type of the wrong family", Severity: diag.Error, Doc: `
ICMP (IPv4) and ICMPv6 have different types. Neighbour discovery
(nd-neighbor-solicit ...) and MLD exist only in ICMPv6; some ICMP names
exist only in ICMP. A rule restricted to IPv6 cannot match icmp, nor IPv4
icmpv6.

    from any to self icmp type nd-neighbor-solicit accept   # FW0113: use icmpv6`},
		{Code: codeRate, Title: "Impossible rate", Severity: diag.Error, Doc: `
Rates are COUNT/UNIT with COUNT at least 1 and UNIT one of second, minute,
hour or day (the units both iptables and nft understand). Bursts are at least 1.

    limit 10/fortnight accept   # FW0114`},
		{Code: codeLogPrefix, Title: "Log prefix too long", Severity: diag.Error, Doc: `
The kernel keeps at most 29 bytes of a log prefix (iptables refuses
longer ones); a character outside ASCII takes several bytes. Shorten it.`},
		{Code: codeSetUse, Title: "Set used with the wrong field", Severity: diag.Error, Doc: `
A named set can only be matched against fields of its element type: address
sets with saddr/daddr, port sets with sport/dport, interface sets with
iif/oif, concatenated sets with a concatenation of the same types.`},
		{Code: codeHostBits, Title: "Prefix with host bits set", Severity: diag.Warning, Doc: `
A prefix such as 192.168.1.1/24 has bits set beyond its length. It means
192.168.1.0/24; write that, or write the single address if that was meant.`},
		{Code: codeProtoConflict, Title: "Conflicting protocols", Severity: diag.Error, Doc: `
A rule matches two different protocols at once (for example "tcp dport 22"
and "udp sport 53", or a tcp-only reject on udp), so no packet can match it.`},
		{Code: codeRange, Title: "Empty or reversed range", Severity: diag.Error, Doc: `
A range's low end is above its high end, or its ends are of different
families, so it matches nothing.

    tcp dport 2000-1000 accept   # FW0119`},
		{Code: codeZoneLayer, Title: "Zone cannot be matched there", Severity: diag.Error, Doc: `
Zone-level rules are placed by their action. Some places cannot see a zone:
before routing (dnat, redirect, route, notrack) the output interface is not
known, so a destination zone can only be matched by its networks; at
postrouting (snat, masquerade) the input interface is gone, so a source zone
can only be matched by its networks. A zone with only interfaces cannot be
used there.`},
		{Code: codePolicy, Title: "Invalid zone policy", Severity: diag.Error, Doc: `
A zone policy ends with accept, drop or reject (optionally after log), and
at most one policy without conditions sets a chain's default; it must not
contradict the chain's own "policy".`},
		{Code: codeRoute, Title: "Invalid route", Severity: diag.Error, Doc: `
A route needs a mark (non-zero), a routing table (not 0, 253 default,
254 main or 255 local), and at least one route with a gateway or a device.`},
		{Code: codeBalance, Title: "Invalid balance", Severity: diag.Error, Doc: `
A balance needs an address, a service with one port protocol and one port,
and at least one endpoint written address:port of the same family.`},
	} {
		diag.Register(d)
	}
}
