package apply

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// The description of the policy's routes in routing terms lives in package
// ir (ir.WantRouting), where backend/iproute2 reads it too; these names are
// kept so that apply's code and its saved records read as before.

// RouteProtocol is ir.RouteProtocol: the protocol of fwc's rules and routes.
const RouteProtocol = ir.RouteProtocol

// DefaultPriority is ir.DefaultPriority.
const DefaultPriority = ir.DefaultPriority

// IPRule is an ip rule fwc owns (ir.IPRule).
type IPRule = ir.IPRule

// IPRoute is a route fwc owns (ir.IPRoute).
type IPRoute = ir.IPRoute

// Routing is the policy-routing state fwc owns (ir.Routing).
type Routing = ir.Routing

// ir's family numbers must be Linux's, which netlink carries: one array of
// each pair has a negative length, and does not compile, unless they are.
var (
	_ [ir.AFInet - unix.AF_INET]struct{}
	_ [unix.AF_INET - ir.AFInet]struct{}
	_ [ir.AFInet6 - unix.AF_INET6]struct{}
	_ [unix.AF_INET6 - ir.AFInet6]struct{}
)

// WantRouting returns the ip rules and routes the policy's routes stand for
// (ir.WantRouting).
func WantRouting(routes []*policy.Route) Routing { return ir.WantRouting(routes) }

// readRouting lists the ip rules and routes with protocol RouteProtocol.
func readRouting(h *netlink.Handle) (Routing, error) {
	var rt Routing
	rules, err := h.RuleList(netlink.FAMILY_ALL)
	if err != nil {
		return rt, fmt.Errorf("list ip rules: %w", err)
	}
	for _, r := range rules {
		if r.Protocol != RouteProtocol {
			continue
		}
		mask := uint32(0xffffffff)
		if r.Mask != nil {
			mask = *r.Mask
		}
		rt.Rules = append(rt.Rules, IPRule{Family: r.Family, Priority: r.Priority, Mark: r.Mark, Mask: mask, Table: r.Table})
	}
	routes, err := h.RouteListFiltered(netlink.FAMILY_ALL,
		&netlink.Route{Table: unix.RT_TABLE_UNSPEC, Protocol: RouteProtocol},
		netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return rt, fmt.Errorf("list routes: %w", err)
	}
	for _, r := range routes {
		ir := IPRoute{Family: r.Family, Table: r.Table}
		if r.Dst != nil {
			a, _ := netip.AddrFromSlice(r.Dst.IP)
			ones, _ := r.Dst.Mask.Size()
			ir.Dst = netip.PrefixFrom(unmap(a, r.Family), ones)
		} else if r.Family == unix.AF_INET6 {
			ir.Dst = netip.MustParsePrefix("::/0")
		} else {
			ir.Dst = netip.MustParsePrefix("0.0.0.0/0")
		}
		if r.Gw != nil {
			a, _ := netip.AddrFromSlice(r.Gw)
			ir.Via = unmap(a, r.Family)
		}
		if r.LinkIndex > 0 {
			if l, err := h.LinkByIndex(r.LinkIndex); err == nil {
				ir.Dev = l.Attrs().Name
			}
		}
		rt.Routes = append(rt.Routes, ir)
	}
	return rt, nil
}

func unmap(a netip.Addr, fam int) netip.Addr {
	if fam == unix.AF_INET {
		return a.Unmap()
	}
	return a
}

// routingStep is one journaled routing change.
type routingStep struct {
	add   bool
	rule  *IPRule
	route *IPRoute
}

func (s routingStep) String() string {
	op := "delete "
	if s.add {
		op = "add "
	}
	if s.rule != nil {
		return op + s.rule.String()
	}
	return op + s.route.String()
}

// routingSteps lists the changes that turn have into want: routes first
// (so a rule never points at an empty table that has a route coming), then
// rules added, then stale rules and routes removed.
func routingSteps(have, want Routing) []routingStep {
	var steps []routingStep
	haveRoute := func(w IPRoute) bool {
		return slices.ContainsFunc(have.Routes, func(h IPRoute) bool { return routeSatisfies(h, w) })
	}
	wanted := func(h IPRoute) bool {
		return slices.ContainsFunc(want.Routes, func(w IPRoute) bool { return routeSatisfies(h, w) })
	}
	// A route the policy changes (same destination, other gateway or
	// device) must go before its replacement can be added.
	for _, r := range have.Routes {
		if !wanted(r) && slices.ContainsFunc(want.Routes, func(w IPRoute) bool { return sameRouteKey(w, r) }) {
			steps = append(steps, routingStep{add: false, route: &r})
		}
	}
	for _, r := range want.Routes {
		if !haveRoute(r) {
			steps = append(steps, routingStep{add: true, route: &r})
		}
	}
	for _, r := range want.Rules {
		if !slices.Contains(have.Rules, r) {
			steps = append(steps, routingStep{add: true, rule: &r})
		}
	}
	for _, r := range have.Rules {
		if !slices.Contains(want.Rules, r) {
			steps = append(steps, routingStep{add: false, rule: &r})
		}
	}
	for _, r := range have.Routes {
		if !wanted(r) && !slices.ContainsFunc(want.Routes, func(w IPRoute) bool { return sameRouteKey(w, r) }) {
			steps = append(steps, routingStep{add: false, route: &r})
		}
	}
	return steps
}

// routeSatisfies reports whether the live route h is the wanted route w. A
// route written without a device gets one from the kernel.
func routeSatisfies(h, w IPRoute) bool {
	return h.Family == w.Family && h.Table == w.Table && h.Dst == w.Dst && h.Via == w.Via && (w.Dev == "" || h.Dev == w.Dev)
}

// sameRouteKey: the kernel keeps one route per table, destination (and
// metric) in a family; adding another fails with EEXIST.
func sameRouteKey(a, b IPRoute) bool {
	return a.Family == b.Family && a.Table == b.Table && a.Dst == b.Dst
}

// applyRouting runs steps in order. If one fails, the ones done are undone
// in reverse order and the error says what happened, including undo
// failures.
func applyRouting(h *netlink.Handle, steps []routingStep) error {
	for i, s := range steps {
		if err := doStep(h, s); err != nil {
			err = fmt.Errorf("%s: %w", s, err)
			var undoErrs []error
			for j := i - 1; j >= 0; j-- {
				u := steps[j]
				u.add = !u.add
				if uerr := doStep(h, u); uerr != nil {
					undoErrs = append(undoErrs, fmt.Errorf("undo (%s): %w", u, uerr))
				}
			}
			if len(undoErrs) > 0 {
				return &RoutingError{Err: err, Undo: errors.Join(undoErrs...)}
			}
			return &RoutingError{Err: err}
		}
	}
	return nil
}

// RoutingError is a failed routing change. Undo is nil when every earlier
// step of the same apply was undone, so routing is as it was.
type RoutingError struct {
	Err  error
	Undo error
}

func (e *RoutingError) Error() string {
	if e.Undo != nil {
		return fmt.Sprintf("%v; undoing the earlier routing changes failed too: %v", e.Err, e.Undo)
	}
	return fmt.Sprintf("%v (earlier routing changes undone)", e.Err)
}

func (e *RoutingError) Unwrap() error { return e.Err }

func doStep(h *netlink.Handle, s routingStep) error {
	if s.rule != nil {
		r := netlink.NewRule()
		r.Family = s.rule.Family
		r.Priority = s.rule.Priority
		r.Mark = s.rule.Mark
		mask := s.rule.Mask
		r.Mask = &mask
		r.Table = s.rule.Table
		r.Protocol = RouteProtocol
		if s.add {
			return h.RuleAdd(r)
		}
		err := h.RuleDel(r)
		if errors.Is(err, syscall.ENOENT) {
			return nil // already gone: the goal is reached
		}
		return err
	}
	rt := &netlink.Route{Family: s.route.Family, Table: s.route.Table, Protocol: RouteProtocol}
	rt.Dst = &net.IPNet{IP: s.route.Dst.Addr().AsSlice(), Mask: net.CIDRMask(s.route.Dst.Bits(), s.route.Dst.Addr().BitLen())}
	if s.route.Via.IsValid() {
		rt.Gw = s.route.Via.AsSlice()
	}
	if s.route.Dev != "" {
		l, err := h.LinkByName(s.route.Dev)
		if err != nil {
			return fmt.Errorf("device %s: %w", s.route.Dev, err)
		}
		rt.LinkIndex = l.Attrs().Index
	}
	if s.add {
		if !s.route.Via.IsValid() {
			rt.Scope = netlink.SCOPE_LINK
		}
		return h.RouteAdd(rt)
	}
	err := h.RouteDel(rt)
	if errors.Is(err, syscall.ESRCH) || errors.Is(err, syscall.ENOENT) {
		return nil
	}
	return err
}

// routingChanges are steps as a plan shows them.
func routingChanges(steps []routingStep) []Change {
	var out []Change
	for _, s := range steps {
		op := byte('-')
		if s.add {
			op = '+'
		}
		what := ""
		if s.rule != nil {
			what = s.rule.String()
		} else {
			what = s.route.String()
		}
		out = append(out, Change{Op: op, What: what})
	}
	return out
}
