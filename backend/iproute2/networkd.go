package iproute2

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
)

// LinkMarker starts the comment line that opens the part of Networkd's
// file for one link: "# Link eth1: ...". A route without a device, and
// the rules of a table none of whose routes names one, come under
// AnyLink.
const (
	LinkMarker = "# Link "
	AnyLink    = "(any)"
)

// Networkd returns the ip rules and routes as systemd-networkd
// configuration: [RoutingPolicyRule] and [Route] sections, for drop-ins
// of .network files (systemd.network(5)). networkd configures a section
// with the link of the .network file that holds it, so the file is in
// parts, one per link, each opened by a LinkMarker comment naming the
// interface whose .network file it extends: a route goes with the
// interface it names, an ip rule with the interface of the first route of
// its table that names one. Routes carry Protocol=70 as apply's and the
// ip -batch files' do; networkd has no protocol for rules (they are its
// own, "static").
func Networkd(rs *ir.Ruleset) ([]byte, diag.Diagnostics) {
	w := rs.Routing
	linkOf := map[int]string{} // table -> the link its rules go with
	for _, r := range w.Routes {
		if _, ok := linkOf[r.Table]; !ok && r.Dev != "" {
			linkOf[r.Table] = r.Dev
		}
	}
	parts := map[string]*strings.Builder{}
	var order []string
	part := func(link string) *strings.Builder {
		if link == "" {
			link = AnyLink
		}
		b := parts[link]
		if b == nil {
			b = &strings.Builder{}
			parts[link] = b
			order = append(order, link)
		}
		return b
	}
	for _, r := range w.Rules {
		b := part(linkOf[r.Table])
		fmt.Fprintf(b, "\n[RoutingPolicyRule]\nFamily=%s\nFirewallMark=%#x/%#x\nTable=%d\nPriority=%d\n",
			famKey(r.Family), r.Mark, r.Mask, r.Table, r.Priority)
	}
	for _, r := range w.Routes {
		b := part(r.Dev)
		fmt.Fprintf(b, "\n[Route]\nDestination=%s\n", r.Dst.Masked())
		if r.Via.IsValid() {
			fmt.Fprintf(b, "Gateway=%s\n", r.Via)
		} else {
			b.WriteString("Scope=link\n")
		}
		fmt.Fprintf(b, "Table=%d\nProtocol=%d\n", r.Table, ir.RouteProtocol)
	}
	var out strings.Builder
	out.WriteString(`# Policy routing of an fwc policy as systemd-networkd configuration
# (systemd.network(5)). networkd adds a [Route] or [RoutingPolicyRule]
# with the link of the .network file holding it, so each part below goes
# into a drop-in of the .network file of the interface it names, such as
# /etc/systemd/network/10-eth1.network.d/fwc.conf; then run
# "networkctl reload".
`)
	// Links in a stable order: the order of the routes, which follows the
	// policy; the any-link part last.
	slices.SortStableFunc(order, func(a, b string) int {
		switch {
		case a == AnyLink && b != AnyLink:
			return 1
		case b == AnyLink && a != AnyLink:
			return -1
		}
		return 0
	})
	for _, link := range order {
		what := "a drop-in of its .network file"
		if link == AnyLink {
			what = "a drop-in of the .network file of the link that reaches the gateways"
		}
		fmt.Fprintf(&out, "\n%s%s: %s\n", LinkMarker, link, what)
		out.WriteString(parts[link].String())
	}
	return []byte(out.String()), nil
}

func famKey(fam int) string {
	if fam == ir.AFInet6 {
		return "ipv6"
	}
	return "ipv4"
}
