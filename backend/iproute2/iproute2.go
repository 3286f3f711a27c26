// Package iproute2 writes the policy-routing half of a policy — the ip
// rules and routes its `route` declarations ask for (ir.Ruleset.Routing,
// the description apply installs over netlink) — as batch files for
// `ip -batch`, so that a host loading rules.v4 or ruleset.nft at boot also
// gets the routing its marks steer by.
//
// One file per family, because iproute2 takes a rule's family from the
// command line (ip -4 / ip -6), not from a batch line: IPv4 loads with
// `ip -4 -batch FILE`, IPv6 with `ip -6 -batch FILE`. Each file first
// removes every rule and route of protocol 70 (fwc's own, as apply marks
// them) of its family, then adds the policy's, so that loading it again
// gives the same state, and it agrees with `fwc apply`: what one installed
// the other recognises.
//
// Networkd writes the same rules and routes as systemd-networkd
// configuration, for hosts whose network networkd configures (see
// networkd.go).
//
// It sits with the other backends, after ir.
package iproute2

import (
	"fmt"
	"strings"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
)

// IPv4 returns the batch file of the IPv4 rules and routes, for
// `ip -4 -batch`.
func IPv4(rs *ir.Ruleset) ([]byte, diag.Diagnostics) { return batch(rs, ir.AFInet), nil }

// IPv6 returns the batch file of the IPv6 rules and routes, for
// `ip -6 -batch`.
func IPv6(rs *ir.Ruleset) ([]byte, diag.Diagnostics) { return batch(rs, ir.AFInet6), nil }

func batch(rs *ir.Ruleset, fam int) []byte {
	flag, name := "-4", "IPv4"
	if fam == ir.AFInet6 {
		flag, name = "-6", "IPv6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Policy routing (%s) of an fwc policy: load with \"ip %s -batch FILE\"\n", name, flag)
	b.WriteString("# once the interfaces its routes name are up. It replaces every ip rule\n")
	fmt.Fprintf(&b, "# and route of protocol %d (fwc's) of the family.\n", ir.RouteProtocol)
	fmt.Fprintf(&b, "route flush table all proto %d\n", ir.RouteProtocol)
	fmt.Fprintf(&b, "rule flush protocol %d\n", ir.RouteProtocol)
	// Routes first, as apply does, so that a rule never points at a table
	// whose routes are still to come.
	for _, r := range rs.Routing.Routes {
		if r.Family != fam {
			continue
		}
		fmt.Fprintf(&b, "route add %s", r.Dst.Masked())
		if r.Via.IsValid() {
			fmt.Fprintf(&b, " via %s", r.Via)
		}
		if r.Dev != "" {
			fmt.Fprintf(&b, " dev %s", r.Dev)
		}
		fmt.Fprintf(&b, " table %d proto %d\n", r.Table, ir.RouteProtocol)
	}
	for _, r := range rs.Routing.Rules {
		if r.Family != fam {
			continue
		}
		fmt.Fprintf(&b, "rule add priority %d fwmark %#x/%#x lookup %d protocol %d\n", r.Priority, r.Mark, r.Mask, r.Table, ir.RouteProtocol)
	}
	return []byte(b.String())
}
