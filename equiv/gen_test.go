package equiv_test

// A generator of random policies of one shape, and the rewrites that keep
// or change their meaning, for the property tests (rewrite_test.go) and
// the kernel test (kernel_test.go).

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
)

// gRule is one generated zone rule "from FROM to TO [family F] [daddr ...]
// PROTO [dport ...] VERDICT".
type gRule struct {
	from, to string   // zone names as generated; renamed when rendered
	fam      int      // 0 (both), 4 or 6
	addrs    []string // daddr prefixes, all of family fam; nil: any
	proto    string   // "udp" or "tcp"
	ports    [][2]int // dport ranges; nil: any
	verdict  string   // accept or drop
	// asSet: the addresses (or ports) are written as a named set.
	addrSet, portSet bool
}

// gPolicy is a generated policy: zones, rules in order, the default.
type gPolicy struct {
	zones  map[string]string // zone -> interface
	rules  []gRule
	policy string // the default of "policy self -> out" (and any -> any)
	rename map[string]string
}

var (
	v4Nets = []string{"198.51.100.0/25", "198.51.100.128/25", "203.0.113.0/24", "192.0.2.0/26", "192.0.2.64/26", "198.51.100.7/32"}
	v6Nets = []string{"2001:db8:1::/64", "2001:db8:2::/64", "2001:db8:1::/48", "2001:db8:3::/64", "2001:db8:2::7/128"}
)

// genPolicy makes n rules from self to zone out (the output hook: what the
// kernel test can observe), and, with other, rules on the input and
// forward hooks too.
func genPolicy(r *rand.Rand, n int, other bool) *gPolicy {
	p := &gPolicy{zones: map[string]string{"out": "dum0"}, policy: []string{"accept", "drop"}[r.IntN(2)], rename: map[string]string{}}
	pairs := [][2]string{{"self", "out"}}
	if other {
		p.zones["wan"] = "eth0"
		p.zones["lan"] = "eth1"
		pairs = append(pairs, [2]string{"wan", "self"}, [2]string{"lan", "wan"}, [2]string{"wan", "lan"})
	}
	for range n {
		g := gRule{proto: []string{"udp", "tcp"}[r.IntN(2)], verdict: []string{"accept", "drop"}[r.IntN(2)]}
		if !other {
			g.proto = "udp" // the kernel test sends udp
		}
		pr := pairs[r.IntN(len(pairs))]
		g.from, g.to = pr[0], pr[1]
		switch r.IntN(3) {
		case 0:
			g.fam = 4
			g.addrs = pick(r, v4Nets, 1+r.IntN(2))
		case 1:
			g.fam = 6
			g.addrs = pick(r, v6Nets, 1+r.IntN(2))
		}
		if r.IntN(4) > 0 {
			for range 1 + r.IntN(2) {
				lo := 1000 + 10*r.IntN(6)
				g.ports = append(g.ports, [2]int{lo, lo + r.IntN(3)*5})
			}
		}
		p.rules = append(p.rules, g)
	}
	return p
}

func pick(r *rand.Rand, from []string, n int) []string {
	idx := r.Perm(len(from))[:n]
	slices.Sort(idx)
	out := make([]string, n)
	for i, k := range idx {
		out[i] = from[k]
	}
	return out
}

func (p *gPolicy) clone() *gPolicy {
	q := *p
	q.rules = slices.Clone(p.rules)
	q.rename = map[string]string{}
	for k, v := range p.rename {
		q.rename[k] = v
	}
	return &q
}

func (p *gPolicy) name(z string) string {
	if n, ok := p.rename[z]; ok {
		return n
	}
	return z
}

// render writes the policy; line[i] is the line of rule i.
func (p *gPolicy) render() (string, []int) {
	var b strings.Builder
	line := 1
	w := func(format string, a ...any) {
		fmt.Fprintf(&b, format, a...)
		line++
	}
	zs := make([]string, 0, len(p.zones))
	for z := range p.zones {
		zs = append(zs, z)
	}
	slices.Sort(zs)
	for _, z := range zs {
		w("zone %s { iface %s }\n", p.name(z), p.zones[z])
	}
	var lines []int
	for i, g := range p.rules {
		var parts []string
		parts = append(parts, "from "+p.name(g.from)+" to "+p.name(g.to))
		if g.fam != 0 && len(g.addrs) == 0 {
			parts = append(parts, fmt.Sprintf("family ipv%d", g.fam))
		}
		if len(g.addrs) > 0 {
			if g.addrSet {
				typ := "ipv4_net"
				if g.fam == 6 {
					typ = "ipv6_net"
				}
				name := p.name(fmt.Sprintf("a%d", i))
				w("set %s : %s { elements { %s } }\n", name, typ, strings.Join(g.addrs, ", "))
				parts = append(parts, "daddr @"+name)
			} else {
				parts = append(parts, "daddr "+strings.Join(g.addrs, ", "))
			}
		}
		if len(g.ports) == 0 {
			parts = append(parts, "proto "+g.proto)
		} else {
			parts = append(parts, g.proto)
			var ps []string
			for _, pr := range g.ports {
				if pr[0] == pr[1] {
					ps = append(ps, fmt.Sprint(pr[0]))
				} else {
					ps = append(ps, fmt.Sprintf("%d-%d", pr[0], pr[1]))
				}
			}
			if g.portSet {
				name := p.name(fmt.Sprintf("p%d", i))
				var els []string
				for _, pr := range g.ports {
					for v := pr[0]; v <= pr[1]; v++ {
						els = append(els, fmt.Sprint(v))
					}
				}
				w("set %s : port { elements { %s } }\n", name, strings.Join(els, ", "))
				parts = append(parts, "dport @"+name)
			} else {
				parts = append(parts, "dport "+strings.Join(ps, ", "))
			}
		}
		parts = append(parts, g.verdict)
		lines = append(lines, line)
		w("%s\n", strings.Join(parts, " "))
	}
	w("policy self -> %s %s\n", p.name("out"), p.policy)
	w("policy any -> any %s\n", p.policy)
	return b.String(), lines
}

// independent reports whether swapping rules a and b (adjacent) keeps the
// meaning: they match no common packet, or decide alike.
func independent(a, b gRule) bool {
	if a.verdict == b.verdict {
		return true
	}
	if a.from != b.from || a.to != b.to || a.proto != b.proto || a.fam != 0 && b.fam != 0 && a.fam != b.fam {
		return true
	}
	if len(a.addrs) > 0 && len(b.addrs) > 0 && !overlapAddrs(a.addrs, b.addrs) {
		return true
	}
	if len(a.ports) > 0 && len(b.ports) > 0 && !overlapPorts(a.ports, b.ports) {
		return true
	}
	return false
}

func overlapAddrs(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if netip.MustParsePrefix(x).Overlaps(netip.MustParsePrefix(y)) {
				return true
			}
		}
	}
	return false
}

func overlapPorts(a, b [][2]int) bool {
	for _, x := range a {
		for _, y := range b {
			if x[0] <= y[1] && y[0] <= x[1] {
				return true
			}
		}
	}
	return false
}

// preserve applies k random meaning-preserving rewrites and says which.
func (p *gPolicy) preserve(r *rand.Rand, k int) []string {
	var did []string
	for range k {
		switch r.IntN(6) {
		case 0: // reorder two adjacent independent rules
			if len(p.rules) < 2 {
				continue
			}
			i := r.IntN(len(p.rules) - 1)
			if independent(p.rules[i], p.rules[i+1]) {
				p.rules[i], p.rules[i+1] = p.rules[i+1], p.rules[i]
				did = append(did, fmt.Sprintf("swap %d,%d", i, i+1))
			}
		case 1: // split a rule's addresses or ports over two rules
			i := r.IntN(len(p.rules))
			g := p.rules[i]
			a, b := g, g
			switch {
			case len(g.addrs) > 1:
				a.addrs, b.addrs = g.addrs[:1], g.addrs[1:]
			case len(g.ports) > 1:
				a.ports, b.ports = g.ports[:1], g.ports[1:]
			default:
				continue
			}
			p.rules = slices.Insert(slices.Delete(p.rules, i, i+1), i, a, b)
			did = append(did, fmt.Sprintf("split %d", i))
		case 2: // merge two adjacent rules that differ only in addresses or ports
			if len(p.rules) < 2 {
				continue
			}
			i := r.IntN(len(p.rules) - 1)
			a, b := p.rules[i], p.rules[i+1]
			m := a
			switch {
			case sameBut(a, b, "addrs") && len(a.addrs) > 0 && len(b.addrs) > 0 && a.fam == b.fam:
				m.addrs = append(slices.Clone(a.addrs), b.addrs...)
			case sameBut(a, b, "ports") && len(a.ports) > 0 && len(b.ports) > 0:
				m.ports = append(slices.Clone(a.ports), b.ports...)
			default:
				continue
			}
			p.rules = slices.Insert(slices.Delete(p.rules, i, i+2), i, m)
			did = append(did, fmt.Sprintf("merge %d", i))
		case 3: // write a rule's addresses or ports as a named set
			i := r.IntN(len(p.rules))
			p.rules[i].addrSet = !p.rules[i].addrSet
			p.rules[i].portSet = r.IntN(2) == 0
			did = append(did, fmt.Sprintf("sets %d", i))
		case 4: // rename the zones and sets
			for z := range p.zones {
				p.rename[z] = fmt.Sprintf("z%d_%s", r.IntN(100), z)
			}
			for i := range p.rules {
				p.rename[fmt.Sprintf("a%d", i)] = fmt.Sprintf("addrs_%d_%d", i, r.IntN(100))
				p.rename[fmt.Sprintf("p%d", i)] = fmt.Sprintf("ports_%d_%d", i, r.IntN(100))
			}
			did = append(did, "rename")
		case 5: // split a dual-stack rule into one rule per family
			i := r.IntN(len(p.rules))
			g := p.rules[i]
			if g.fam != 0 {
				continue
			}
			a, b := g, g
			a.fam, b.fam = 4, 6
			p.rules = slices.Insert(slices.Delete(p.rules, i, i+1), i, a, b)
			did = append(did, fmt.Sprintf("families %d", i))
		}
	}
	return did
}

// sameBut reports whether a and b agree in everything but field.
func sameBut(a, b gRule, field string) bool {
	if a.from != b.from || a.to != b.to || a.fam != b.fam || a.proto != b.proto || a.verdict != b.verdict {
		return false
	}
	if field != "addrs" && !slices.Equal(a.addrs, b.addrs) {
		return false
	}
	if field != "ports" && !slices.Equal(a.ports, b.ports) {
		return false
	}
	return true
}
