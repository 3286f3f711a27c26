// Package sysctls checks the kernel settings a policy declares (`sysctl
// KEY = VALUE`) against what its rules need of the host.
//
// # Analyzer sysctls
//
// sysctls: kernel settings that keep the policy from working
//
// Reports a policy that translates or forwards packets while the
// settings it declares leave IPv4 forwarding off, and strict reverse-path
// filtering declared together with mark-based policy routing. A policy
// that declares no sysctl at all is not judged on forwarding: the host
// may set it elsewhere.
//
// Its codes share the FW18xx hundred with the routing pass (what routing
// needs of the host): FW186x.
//
// # FW1860: forwarding rules without ip_forward
//
// The policy has rules for packets the host forwards (snat, masquerade,
// dnat or a balance in the nat table, or an accept in the filter forward
// chain) and declares kernel settings, but not net.ipv4.ip_forward = 1
// (or declares it 0). Without forwarding the kernel drops every packet
// that is not for the host itself before the forward chain, and the NAT
// gateway forwards nothing. Declare it with the others:
//
//	sysctl net.ipv4.ip_forward = 1
//
// # FW1861: strict rp_filter with policy routing
//
// A route binds a firewall mark to a routing table, and the policy
// declares net.ipv4.conf.*.rp_filter = 1 (strict). The reverse-path check
// looks the source up without the packet's mark, in the main table: the
// replies that come back on the marked route's interface fail it and are
// dropped. The kernel uses the larger of "all" and the interface's value,
// so one strict setting is enough to break it. Use loose mode:
//
//	sysctl net.ipv4.conf.all.rp_filter = 2
package sysctls

import _ "embed" // for doc

//go:embed doc.go
var doc string
