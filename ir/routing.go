package ir

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/fwcproject/fwc/policy"
)

// The policy's routes in routing terms: the ip rules and routes they ask
// for. This is the one description of them: apply installs it over netlink
// (and compares it with the kernel's), and backend/iproute2 writes it as
// files a host restores at boot.

// AFInet and AFInet6 are Linux's address family numbers (AF_INET,
// AF_INET6), the values netlink carries, in IPRule.Family and
// IPRoute.Family.
const (
	AFInet  = 2
	AFInet6 = 10
)

// RouteProtocol is the routing protocol number fwc marks its ip rules and
// routes with (0x46, 'F'), so that it can find them again and tell them
// from everyone else's. iproute2's rt_protos does not use it.
const RouteProtocol = 70

// DefaultPriority is the ip rule priority of the first route that does not
// give one; the next ones get DefaultPriority+1, +2, ... in declaration
// order. It lies between the kernel's local (0) and main (32766) rules,
// clear of the small numbers people pick by hand.
const DefaultPriority = 10000

// IPRule is an ip rule fwc owns: `fwmark Mark/Mask lookup Table priority
// Priority proto 70` for one family.
type IPRule struct {
	Family   int // AFInet or AFInet6
	Priority int
	Mark     uint32
	Mask     uint32
	Table    int
}

func (r IPRule) String() string {
	return fmt.Sprintf("%s rule priority %d fwmark %#x/%#x lookup %d", famName(r.Family), r.Priority, r.Mark, r.Mask, r.Table)
}

// IPRoute is a route fwc owns, in table Table.
type IPRoute struct {
	Family int // AFInet or AFInet6
	Table  int
	Dst    netip.Prefix
	Via    netip.Addr // invalid: none
	Dev    string     // "": none
}

func (r IPRoute) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s route table %d ", famName(r.Family), r.Table)
	if r.Dst.Bits() == 0 {
		b.WriteString("default")
	} else {
		b.WriteString(r.Dst.String())
	}
	if r.Via.IsValid() {
		b.WriteString(" via " + r.Via.String())
	}
	if r.Dev != "" {
		b.WriteString(" dev " + r.Dev)
	}
	return b.String()
}

func famName(f int) string {
	if f == AFInet6 {
		return "ipv6"
	}
	return "ipv4"
}

// Routing is the policy-routing state fwc owns: its ip rules and routes.
type Routing struct {
	Rules  []IPRule
	Routes []IPRoute
}

// WantRouting returns the ip rules and routes the policy's routes stand
// for: an ip rule per route and family (a mark steers both), and each
// route entry in its route's table.
func WantRouting(routes []*policy.Route) Routing {
	var w Routing
	for i, r := range routes {
		prio := int(r.Priority)
		if prio == 0 {
			prio = DefaultPriority + i
		}
		for _, fam := range []int{AFInet, AFInet6} {
			w.Rules = append(w.Rules, IPRule{Family: fam, Priority: prio, Mark: r.Mark, Mask: r.Mask, Table: int(r.Table)})
		}
		for _, e := range r.Routes {
			fam := AFInet
			if e.Dest.Addr().Is6() {
				fam = AFInet6
			}
			w.Routes = append(w.Routes, IPRoute{Family: fam, Table: int(r.Table), Dst: e.Dest.Masked(), Via: e.Via, Dev: e.Dev})
		}
	}
	return w
}
