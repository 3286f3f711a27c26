package apply

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// The policy's marks steer packets only through the host's ip rules, and
// an ip rule only through the routing table it looks up: three layers
// that fwc check cannot see from the policy alone. CrossLayer compares
// them on a live host, as they will be once the policy is applied (the
// host's own rules and routes, with fwc's replaced by the policy's).

// CrossFinding is one mismatch between the layers.
type CrossFinding struct {
	// Kind is one of "mark-unrouted", "rule-unmarked", "table-no-default",
	// "rp-filter-strict".
	Kind string
	// Text says it in a sentence, naming the rule's source positions, the
	// ip rule, the table and the interface.
	Text string
}

func (f CrossFinding) String() string { return f.Text }

// markSet is a packet mark set by a rule: the bits of Mask become Value.
type markSet struct {
	value, mask uint32
	pos         string
}

// fwRule is an ip rule with a fwmark, live or to be installed.
type fwRule struct {
	family, priority, table int
	mark, mask              uint32
}

func (r fwRule) String() string {
	return fmt.Sprintf("ip %srule priority %d fwmark %#x/%#x lookup %d", famFlag(r.family), r.priority, r.mark, r.mask, r.table)
}

func famFlag(f int) string {
	if f == unix.AF_INET6 {
		return "-6 "
	}
	return ""
}

// mayMatch reports whether a packet whose mark the rule set can match r:
// the bits r tests that the set leaves alone may be anything.
func (m markSet) mayMatch(r fwRule) bool {
	both := m.mask & r.mask
	return m.value&both == r.mark&both
}

// CrossLayer reads h's ip rules, routes and rp_filter settings and
// compares them with the marks rs sets, once w's routing is in place:
//
//   - a mark the policy sets (and does not match itself: a mark the
//     policy tests is a flag between its own rules) that no ip rule
//     fwmark can select steers nothing;
//   - an ip rule fwmark that no mark the policy sets can select is for a
//     mark nothing in the policy sets (another tool or a socket option
//     may: a warning, not an error);
//   - a table an ip rule for the policy's marks looks up that has no
//     default route lets the packets it has no route for fall through
//     to the next rules (usually main), out of the uplink they were
//     steered away from;
//   - strict reverse-path filtering (rp_filter 1) on an interface such a
//     table routes out of drops the replies that come back by it when
//     the main table routes their source elsewhere.
func CrossLayer(h *Host, rs *ir.Ruleset, w *Want) ([]CrossFinding, error) {
	sets, tested := policyMarks(rs)
	rules, err := h.route.RuleList(netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list ip rules: %w", err)
	}
	var fw []fwRule
	for _, r := range rules {
		if r.Protocol == RouteProtocol || r.Invert || (r.Mark == 0 && r.Mask == nil) {
			continue // fwc's own are replaced by w's; "not fwmark" steers the unmarked
		}
		mask := uint32(math.MaxUint32)
		if r.Mask != nil {
			mask = *r.Mask
		}
		fw = append(fw, fwRule{r.Family, r.Priority, r.Table, r.Mark, mask})
	}
	if w != nil {
		for _, r := range w.Routing.Rules {
			fw = append(fw, fwRule{r.Family, r.Priority, r.Table, r.Mark, r.Mask})
		}
	}
	var out []CrossFinding
	for _, m := range sets {
		if tested(m) {
			continue
		}
		if !slices.ContainsFunc(fw, m.mayMatch) {
			out = append(out, CrossFinding{"mark-unrouted", fmt.Sprintf(
				"mark %#x/%#x set at %s selects no ip rule: no ip rule fwmark matches it, so it steers nothing", m.value, m.mask, m.pos)})
		}
	}
	steered := map[[2]int]fwRule{} // family, table -> a rule that looks it up
	for _, r := range fw {
		if !slices.ContainsFunc(sets, func(m markSet) bool { return m.mayMatch(r) }) {
			out = append(out, CrossFinding{"rule-unmarked", fmt.Sprintf(
				"%s: nothing in the policy sets that mark (another tool or a socket option may)", r)})
			continue
		}
		if _, ok := steered[[2]int{r.family, r.table}]; !ok {
			steered[[2]int{r.family, r.table}] = r
		}
	}
	keys := make([][2]int, 0, len(steered))
	for k := range steered {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]int) int {
		if a[0] != b[0] {
			return a[0] - b[0]
		}
		return a[1] - b[1]
	})
	for _, k := range keys {
		r := steered[k]
		routes, err := tableRoutes(h, w, k[0], k[1])
		if err != nil {
			return out, err
		}
		def := false
		var devs []string
		for _, rt := range routes {
			def = def || rt.Dst.Bits() == 0
			if rt.Dev != "" && !slices.Contains(devs, rt.Dev) {
				devs = append(devs, rt.Dev)
			}
		}
		if !def {
			out = append(out, CrossFinding{"table-no-default", fmt.Sprintf(
				"table %d, looked up by %s for the policy's marks, has no default route: the packets it has no route for go on to the next ip rules, out of the way they were steered from", k[1], r)})
		}
		if k[0] != unix.AF_INET {
			continue // rp_filter is IPv4's
		}
		slices.Sort(devs)
		for _, dev := range devs {
			v, err := rpFilter(h, dev)
			if err != nil {
				return out, err
			}
			if v == 1 {
				out = append(out, CrossFinding{"rp-filter-strict", fmt.Sprintf(
					"rp_filter is strict (1) on %s, where table %d sends the packets the policy marks: replies arriving by %s are dropped unless the main table routes their source back by %s; set it to 2 (loose)", dev, k[1], dev, dev)})
			}
		}
	}
	return out, nil
}

// policyMarks returns the packet marks rs sets, and a test of whether a
// mark condition of the policy may match a mark so set.
func policyMarks(rs *ir.Ruleset) ([]markSet, func(markSet) bool) {
	var sets []markSet
	var tests []fwRule // the packet-mark conditions, as value/mask
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				for _, m := range r.Matches {
					if mc, ok := m.(*policy.MarkCond); ok && !mc.Ct {
						tests = append(tests, fwRule{mark: mc.Value & mc.Mask, mask: mc.Mask})
					}
				}
				for _, a := range r.Actions {
					if sm, ok := a.(*policy.SetMark); ok && !sm.Ct {
						pos := r.Comment(80)
						if pos == "" {
							pos = "(generated rule)"
						}
						m := markSet{sm.Value & sm.Mask, sm.Mask, pos}
						if !slices.ContainsFunc(sets, func(x markSet) bool { return x.value == m.value && x.mask == m.mask }) {
							sets = append(sets, m)
						}
					}
				}
			}
		}
	}
	return sets, func(m markSet) bool { return slices.ContainsFunc(tests, m.mayMatch) }
}

// tableRoutes lists the routes of table in family as they will be: the
// host's own, with fwc's replaced by w's.
func tableRoutes(h *Host, w *Want, family, table int) ([]IPRoute, error) {
	routes, err := h.route.RouteListFiltered(family, &netlink.Route{Table: table},
		netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list routes of table %d: %w", table, err)
	}
	var out []IPRoute
	for _, r := range routes {
		if r.Protocol == RouteProtocol {
			continue
		}
		rt := IPRoute{Family: r.Family, Table: r.Table, Dst: netip.PrefixFrom(netip.IPv4Unspecified(), 0)}
		if r.Dst != nil {
			a, _ := netip.AddrFromSlice(r.Dst.IP)
			ones, _ := r.Dst.Mask.Size()
			rt.Dst = netip.PrefixFrom(unmap(a, r.Family), ones)
		}
		if r.LinkIndex > 0 {
			if l, err := h.route.LinkByIndex(r.LinkIndex); err == nil {
				rt.Dev = l.Attrs().Name
			}
		}
		out = append(out, rt)
	}
	if w != nil {
		for _, r := range w.Routing.Routes {
			if r.Family == family && r.Table == table {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// rpFilter returns the effective IPv4 rp_filter of dev in h's namespace:
// the larger of conf/all and conf/DEV, as the kernel takes it. An
// interface that does not exist (yet) counts as conf/all.
func rpFilter(h *Host, dev string) (int, error) {
	var v int
	err := inNetNS(h.ns, false, func() error {
		all, err := readInt("/proc/sys/net/ipv4/conf/all/rp_filter")
		if err != nil {
			return err
		}
		v = all
		if strings.ContainsAny(dev, "/.") || dev == "" {
			return nil
		}
		d, err := readInt("/proc/sys/net/ipv4/conf/" + dev + "/rp_filter")
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		v = max(v, d)
		return nil
	})
	return v, err
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
