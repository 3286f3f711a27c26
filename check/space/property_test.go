package space_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
)

// The property test cross-checks the engine against brute force on random
// small policies, written as policy text and checked by the real front end
// (lang and check), so that the rules the engine judges are the ones users'
// text becomes: every packet of a small universe is run through the rule
// lists, and the rules that never fire, the verdicts that decide the packets
// of those that do not, and the effect of deleting a rule are compared with
// what Analyze says. The universe has a representative of every class of
// packets the rules can tell apart (an address outside the /29, port 9,
// eth9 that only eth* and sets match, wlan0 that nothing matches, a mark
// of each class), so for exact rules the two must agree in
// both directions.

type pkt struct {
	saddr netip.Addr
	proto policy.Proto
	dport uint16
	iif   string
	state uint32 // one Ct* bit
	mark  uint32
}

// universe returns the packets; with marks, each with one mark of every
// class the generator's mark matches tell apart (they look at the two low
// bits, and `mark 0x1` and `mark 0x3` at all of them: 5 and 7 have the low
// bits of 1 and 3 but are neither), else with mark 0.
func universe(marks bool) []pkt {
	ms := []uint32{0}
	if marks {
		ms = []uint32{0, 1, 2, 3, 5, 7}
	}
	var out []pkt
	// Both families: the IPv4 /29 and an address outside it, the same for
	// an IPv6 /125, so that every prefix the generator draws, and its
	// complement, holds a packet of each family it names.
	addrs := []netip.Addr{netip.MustParseAddr("10.0.0.100"), netip.MustParseAddr("fd00::100")}
	for i := range 8 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
		addrs = append(addrs, netip.AddrFrom16([16]byte{0: 0xfd, 15: byte(i)}))
	}
	for _, a := range addrs {
		icmp := policy.ProtoICMP
		if a.Is6() {
			icmp = policy.ProtoICMPv6
		}
		for _, pr := range []policy.Proto{policy.ProtoTCP, policy.ProtoUDP, icmp} {
			ports := []uint16{0}
			if pr.HasPorts() {
				ports = []uint16{1, 2, 3, 4, 5, 6, 7, 8, 9}
			}
			for _, p := range ports {
				for _, ifc := range []string{"eth0", "eth1", "eth9", "wlan0"} {
					for s := range 5 {
						for _, m := range ms {
							out = append(out, pkt{a, pr, p, ifc, 1 << s, m})
						}
					}
				}
			}
		}
	}
	return out
}

// match evaluates one rule's conditions on p, independently of the engine.
// A "may not match" condition takes the value mayNot.
func match(r *policy.Rule, p pkt, mayNot bool) bool {
	fam := policy.IPv4
	if p.saddr.Is6() {
		fam = policy.IPv6
	}
	if r.Family != 0 && r.Family&fam == 0 {
		return false
	}
	for _, c := range r.Conds {
		ok := true
		switch c := c.(type) {
		case *policy.AddrCond:
			if c.Dir != policy.Src {
				panic("brute force: the generator matches source addresses only")
			}
			if c.Set != nil && c.Set.Timeout > 0 {
				ok = mayNot
				break
			}
			in := false
			items := slices.Clip(c.Items)
			if c.Set != nil {
				for _, e := range c.Set.Elements {
					items = append(items, e.Parts[0].Addr)
				}
			}
			for _, it := range items {
				if it.Prefix.IsValid() {
					in = in || it.Prefix.Contains(p.saddr)
				} else {
					in = in || p.saddr.BitLen() == it.Lo.BitLen() && p.saddr.Compare(it.Lo) >= 0 && p.saddr.Compare(it.Hi) <= 0
				}
			}
			ok = in != c.Neg
		case *policy.ProtoCond:
			ok = slices.Contains(c.Protos, p.proto) != c.Neg
		case *policy.PortCond:
			if c.Dir != policy.Dst {
				panic("brute force: the generator matches destination ports only")
			}
			in := false
			for _, r := range c.Ranges {
				in = in || p.dport >= r.Lo && p.dport <= r.Hi
			}
			if c.Set != nil {
				for _, e := range c.Set.Elements {
					in = in || p.dport == e.Parts[0].Port
				}
			}
			ok = p.proto.HasPorts() && in != c.Neg
		case *policy.IfaceCond:
			if c.Dir != policy.Src {
				panic("brute force: the generator matches input interfaces only")
			}
			in := false
			for _, i := range c.Ifaces {
				in = in || i.Name == p.iif || i.Wildcard && strings.HasPrefix(p.iif, i.Name)
			}
			if c.Set != nil {
				for _, e := range c.Set.Elements {
					in = in || e.Parts[0].Iface == p.iif
				}
			}
			ok = in != c.Neg
		case *policy.CtStateCond:
			ok = (c.Bits&p.state != 0) != c.Neg
		case *policy.MarkCond:
			if c.Ct {
				panic("brute force: the generator matches packet marks only")
			}
			ok = (p.mark&c.Mask == c.Value) != c.Neg
		case *policy.LimitCond:
			ok = mayNot
		default:
			panic(fmt.Sprintf("brute force: %T", c))
		}
		if !ok {
			return false
		}
	}
	return true
}

// brute runs every packet through a program and records, per rule and per
// context (the path of jumps), whether packets entered its chain, whether
// the rule fired, and the verdicts that decided its packets before it.
type brute struct {
	mayNot  bool
	skip    *policy.Rule                     // evaluate as if this rule were deleted
	without func(*policy.Rule) bool          // and these rules too
	entered map[*policy.Rule]map[string]bool // contexts in which packets reached the rule's chain
	fired   map[*policy.Rule]bool
	firedBy []*policy.Rule // non-terminal rules fired for the current packet
}

// step is one jump on the path from a base chain to a context.
type step struct {
	c   *policy.Chain
	pos int
}

func ctxName(path []step) string {
	s := ""
	for _, st := range path {
		s += fmt.Sprintf("/%s:%d", st.c.Name, st.pos)
	}
	return s
}

// paths lists every context: the base chains and each jump path from them.
func paths(prog *policy.Program) map[*policy.Chain][][]step {
	out := map[*policy.Chain][][]step{}
	var visit func(c *policy.Chain, path []step)
	visit = func(c *policy.Chain, path []step) {
		out[c] = append(out[c], path)
		for i, r := range c.Rules {
			for _, a := range r.Actions {
				if j, ok := a.(*policy.Jump); ok {
					visit(j.Target, append(slices.Clone(path), step{c, i}))
				}
			}
		}
	}
	for _, t := range prog.Tables {
		for _, c := range t.Chains {
			if c.IsBase() {
				visit(c, nil)
			}
		}
	}
	return out
}

// eval runs p through c alone: its verdict, or false when it returns.
func eval(c *policy.Chain, p pkt, mayNot bool) (string, bool) {
	for _, r := range c.Rules {
		if !match(r, p, mayNot) {
			continue
		}
		for _, a := range r.Actions {
			switch a := a.(type) {
			case *policy.Verdict:
				if a.Kind == policy.Return {
					return "", false
				}
				return a.Kind.String(), true
			case *policy.Jump:
				v, ok := eval(a.Target, p, mayNot)
				if ok || a.Goto {
					return v, ok
				}
			}
		}
	}
	return "", false
}

// trace follows p along path to rule target: fired is true when p reaches
// and matches it; otherwise verdict is what took p out of the way first
// (a verdict, "return", "goto C", or a verdict of a chain jumped to).
func trace(c *policy.Chain, p pkt, path []step, target *policy.Rule, mayNot bool) (fired bool, verdict string, done bool) {
	for i, r := range c.Rules {
		if len(path) == 0 && r == target {
			return match(r, p, mayNot), "", true
		}
		if !match(r, p, mayNot) {
			continue
		}
		for _, a := range r.Actions {
			switch a := a.(type) {
			case *policy.Verdict:
				return false, a.Kind.String(), true
			case *policy.Jump:
				if len(path) > 0 && path[0].c == c && path[0].pos == i {
					if f, v, ok := trace(a.Target, p, path[1:], target, mayNot); ok {
						return f, v, true
					}
					if a.Goto {
						return false, "", false
					}
					continue
				}
				if a.Goto {
					return false, "goto " + a.Target.Name, true
				}
				if v, ok := eval(a.Target, p, mayNot); ok {
					return false, v, true
				}
			}
		}
	}
	return false, "", false
}

// sameVerdict is brute force's view of a dead rule: in every context that
// packets of a family the rule exists in enter (the engine walks each
// family apart), the rule's packets (those the jumps on the way let in)
// exist and are all taken out of its way by its own verdict.
func sameVerdict(prog *policy.Program, ctxs map[*policy.Chain][][]step, c *policy.Chain, r *policy.Rule, entered map[string]bool, u []pkt, mayNot bool) bool {
	for _, path := range ctxs[c] {
		for _, v6 := range []bool{false, true} {
			ofFam := func(p pkt) bool { return p.saddr.Is6() == v6 }
			if !entered[ctxName(path)+famSuffix(v6)] ||
				!slices.ContainsFunc(u, func(p pkt) bool { return ofFam(p) && match(r, p, mayNot) }) {
				continue // the rule does not exist in this family
			}
			base := c
			if len(path) > 0 {
				base = path[0].c
			}
			any := false
			for _, p := range u {
				in := ofFam(p) && match(r, p, mayNot)
				for _, st := range path {
					in = in && match(st.c.Rules[st.pos], p, mayNot)
				}
				if !in {
					continue
				}
				any = true
				fired, v, _ := trace(base, p, path, r, mayNot)
				if fired || v != verdictOf(r) || v == "" {
					return false
				}
			}
			if !any {
				return false
			}
		}
	}
	return true
}

func famSuffix(v6 bool) string {
	if v6 {
		return "|6"
	}
	return "|4"
}

func (b *brute) run(c *policy.Chain, p pkt, ctx string) (string, bool) {
	for _, r := range c.Rules {
		if b.entered[r] == nil {
			b.entered[r] = map[string]bool{}
		}
		b.entered[r][ctx+famSuffix(p.saddr.Is6())] = true
	}
	for i, r := range c.Rules {
		if r == b.skip || b.without != nil && b.without(r) || !match(r, p, b.mayNot) {
			continue
		}
		b.fired[r] = true
		for _, a := range r.Actions {
			switch a := a.(type) {
			case *policy.Verdict:
				v := a.Kind.String()
				if a.Kind == policy.Return {
					return "", false
				}
				return v, true
			case *policy.Jump:
				sub := fmt.Sprintf("%s/%s:%d", ctx, c.Name, i)
				if a.Goto {
					return b.run(a.Target, p, sub)
				}
				if v, ok := b.run(a.Target, p, sub); ok {
					return v, true
				}
			default:
				b.firedBy = append(b.firedBy, r)
			}
		}
	}
	return "", false
}

// outcome is the final verdict of every packet plus the non-terminal rules
// it fired.
func (b *brute) outcome(prog *policy.Program, u []pkt) []string {
	var out []string
	for _, t := range prog.Tables {
		for _, c := range t.Chains {
			if !c.IsBase() {
				continue
			}
			for _, p := range u {
				b.firedBy = b.firedBy[:0]
				v, ok := b.run(c, p, "")
				if !ok {
					v = c.Policy.Kind.String()
				}
				out = append(out, fmt.Sprintf("%s %v", v, b.firedBy))
			}
		}
	}
	return out
}

func newBrute(mayNot bool) *brute {
	return &brute{mayNot: mayNot, entered: map[*policy.Rule]map[string]bool{}, fired: map[*policy.Rule]bool{}}
}

// randPolicy writes a random policy in the policy language, which the test
// then parses and checks as `fwc check` does: a filter input chain of a few
// rules (or, with big, 20 to 50, a third of them repeating the conditions
// of an earlier rule with any action, as policies repeat a blocklist drop),
// maybe a user chain it jumps to, zone rules and zone policies after them,
// and named sets. Rules match IPv4 and IPv6 addresses (lists, prefixes,
// sets, zones' networks), protocols, ports and port sets, interfaces
// (names, wildcards, sets, zones' interfaces), ct states, and with marks
// packet marks, each possibly negated; allowMayNot adds rate limits and
// sets whose elements time out, which the engine cannot decide.
func randPolicy(rng *rand.Rand, allowMayNot, big, marks bool) string {
	var b strings.Builder
	v4 := []string{"10.0.0.0/29", "10.0.0.0/30", "10.0.0.4/30", "10.0.0.0/31", "10.0.0.2/31", "10.0.0.6/31", "10.0.0.1", "10.0.0.5"}
	v6 := []string{"fd00::/125", "fd00::/126", "fd00::4/126", "fd00::/127", "fd00::2/127", "fd00::6/127", "fd00::1", "fd00::5", "::/0"}
	pick := func(l []string) string { return l[rng.IntN(len(l))] }
	neg := func() string {
		if rng.IntN(4) == 0 {
			return "!= "
		}
		return ""
	}
	// Named sets: addresses of each family, ports, interfaces, and a set
	// whose elements time out (filled at run time: not exact).
	sets4 := []string{"@net4"}
	sets6 := []string{"@net6"}
	fmt.Fprintf(&b, "set net4 : ipv4_net { elements { %s, %s } }\n", pick(v4), pick(v4))
	fmt.Fprintf(&b, "set net6 : ipv6_net { elements { %s, %s } }\n", pick(v6[:8]), pick(v6[:8]))
	fmt.Fprintf(&b, "set ports : port { elements { %d, %d } }\n", 1+rng.IntN(9), 1+rng.IntN(9))
	fmt.Fprintf(&b, "set ifaces : iface { elements { %s } }\n", pick([]string{"eth0", "eth1", "eth9", "eth0, eth9"}))
	if allowMayNot {
		fmt.Fprintf(&b, "set dyn4 : ipv4_addr { timeout 1m; elements { 10.0.0.%d } }\n", rng.IntN(8))
		sets4 = append(sets4, "@dyn4")
	}
	// Zones: interfaces and networks of both families, interfaces only,
	// or networks only.
	zones := []string{"z0", "z1"}
	fmt.Fprintf(&b, "zone z0 { iface %s; net %s, %s }\n", pick([]string{"eth0", "eth1", "eth0, eth9"}), pick(v4), pick(v6[:8]))
	if rng.IntN(2) == 0 {
		fmt.Fprintf(&b, "zone z1 { iface %s }\n", pick([]string{"eth1", "eth1, eth9"}))
	} else {
		fmt.Fprintf(&b, "zone z1 { net %s, %s }\n", pick(v4), pick(v6[:8]))
	}
	// addrs draws an address list, or set, of family fam (1: IPv4, 2:
	// IPv6, 0: either, or with mixed a list of both, which the rule then
	// matches in each family by its own items).
	addrs := func(fam int, mixed bool) string {
		if fam == 0 {
			fam = 1 + rng.IntN(2)
			if mixed && rng.IntN(2) == 0 {
				fam = 3
			}
		}
		switch {
		case fam == 1 && rng.IntN(5) == 0:
			return pick(sets4)
		case fam == 1:
			return pick(v4)
		case fam == 2 && rng.IntN(5) == 0:
			return pick(sets6)
		case fam == 2:
			return pick(v6)
		}
		return pick(v4) + ", " + pick(v6)
	}
	famOf := func(a string) int {
		switch {
		case strings.Contains(a, ","):
			return 0
		case strings.Contains(a, ":") || slices.Contains(sets6, a):
			return 2
		}
		return 1
	}
	cond := func() string {
		var parts []string
		// 0: both families (or the family of the addresses), 1: IPv4, 2: IPv6.
		fam := rng.IntN(3)
		if fam > 0 {
			parts = append(parts, []string{"", "family ipv4", "family ipv6"}[fam])
		}
		if rng.IntN(2) == 0 {
			// A negated list must not mix families.
			n := neg()
			a := addrs(fam, n == "")
			parts = append(parts, "saddr "+n+a)
			if rng.IntN(5) == 0 {
				// A second address condition: it narrows the first, or
				// contradicts it (an unmatchable rule).
				second := fam
				if second == 0 {
					second = famOf(a)
				}
				n := neg()
				parts = append(parts, "saddr "+n+addrs(second, n == ""))
			}
		}
		switch rng.IntN(4) {
		case 0:
			pr := pick([]string{"tcp", "udp"})
			parts = append(parts, "proto "+pr)
			switch rng.IntN(4) {
			case 0:
				parts = append(parts, "dport "+neg()+"@ports")
			case 1, 2:
				lo := 1 + rng.IntN(8)
				hi := lo + rng.IntN(9-lo)
				parts = append(parts, fmt.Sprintf("dport %s%d-%d", neg(), lo, hi))
			}
		case 1:
			parts = append(parts, "proto "+neg()+pick([]string{"tcp", "udp", "tcp, udp"}))
		}
		if rng.IntN(3) == 0 {
			parts = append(parts, "iif "+neg()+pick([]string{"eth0", "eth1", "eth*", "@ifaces"}))
		}
		if rng.IntN(3) == 0 {
			st := []string{"new", "established", "related", "invalid", "untracked"}
			rng.Shuffle(len(st), func(i, j int) { st[i], st[j] = st[j], st[i] })
			parts = append(parts, "ct state "+neg()+strings.Join(st[:1+rng.IntN(3)], ", "))
		}
		if marks && rng.IntN(3) == 0 {
			parts = append(parts, "mark "+neg()+pick([]string{"0x1", "0x1/0x1", "0x0/0x1", "0x2/0x2", "0x3", "0x2/0x3"}))
		}
		if allowMayNot && rng.IntN(6) == 0 {
			parts = append(parts, "limit 10/second")
		}
		return strings.Join(parts, " ")
	}
	action := func(user, zone bool, chains int) string {
		n := rng.IntN(10)
		switch {
		case n < 4:
			return "accept"
		case n < 7:
			return "drop"
		case n == 7:
			return "log"
		case n == 8 && user:
			return "return"
		case chains > 0 && !user && zone:
			return "jump u"
		case chains > 0 && !user:
			return pick([]string{"jump", "goto"}) + " u"
		}
		return "reject"
	}
	user := rng.IntN(2) == 0
	chains := 0
	if user {
		chains = 1
	}
	// A zone policy of any -> self would set the chain's policy: the
	// chain's own policy is written only without one.
	anyPolicy := rng.IntN(4) == 0
	pol := ""
	if !anyPolicy {
		pol = " policy " + pick([]string{"accept", "drop"})
	}
	fmt.Fprintf(&b, "table filter {\n\tchain input%s {\n", pol)
	n := 2 + rng.IntN(6)
	if big {
		n = 20 + rng.IntN(31)
	}
	var conds []string
	for range n {
		c := cond()
		if len(conds) > 0 && big && rng.IntN(3) == 0 {
			c = conds[rng.IntN(len(conds))]
		}
		conds = append(conds, c)
		fmt.Fprintf(&b, "\t\t%s %s\n", c, action(false, false, chains))
	}
	b.WriteString("\t}\n")
	if user {
		b.WriteString("\tchain u {\n")
		for range 1 + rng.IntN(3) {
			fmt.Fprintf(&b, "\t\t%s %s\n", cond(), action(true, false, 0))
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	// Zone rules and policies come after the chain's own rules.
	for range rng.IntN(4) {
		from := pick(append(zones, "any"))
		fmt.Fprintf(&b, "from %s to self %s %s\n", from, cond(), action(false, true, chains))
	}
	if rng.IntN(3) == 0 {
		fmt.Fprintf(&b, "policy %s -> self %s\n", pick(zones), pick([]string{"accept", "drop", "reject"}))
	}
	if anyPolicy {
		fmt.Fprintf(&b, "policy any -> self %s\n", pick([]string{"accept", "drop"}))
	}
	return b.String()
}

// load parses and checks src with the real front end, as `fwc check` does,
// without the lint passes; the generator writes valid policies only.
func load(t *testing.T, iter int, src string) *policy.Program {
	t.Helper()
	f, ds := lang.ParseFile("rand.fw", []byte(src))
	prog, cds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
	if ds = append(ds, cds...); ds.HasErrors() {
		t.Fatalf("iter %d: the generator wrote a policy the front end refuses:\n%s\n%s", iter, ds, src)
	}
	return prog
}

func verdictOf(r *policy.Rule) string {
	for _, a := range r.Actions {
		switch a := a.(type) {
		case *policy.Verdict:
			return a.Kind.String()
		case *policy.Jump:
			if a.Goto {
				return "goto " + a.Target.Name
			}
			return "jump " + a.Target.Name
		}
	}
	return ""
}

func TestPropertyBruteForce(t *testing.T) {
	// Each policy is judged in both families over a universe twice the
	// size it was with IPv4 alone: 700 policies cost what 1000 did.
	n := 700
	if testing.Short() {
		n = 300
	}
	checkProperty(t, n, false, 1)
}

// TestPropertyIndexed runs the cross-check on bigger policies full of
// repeated rules, with the index searching its trees even for a handful of
// cubes, so that the index's grouping of equal rules and its pruning by
// position are checked against brute force too.
func TestPropertyIndexed(t *testing.T) {
	defer space.SetLeafSize(2)()
	n := 200
	if testing.Short() {
		n = 100
	}
	checkProperty(t, n, false, 3)
	checkProperty(t, n, true, 4)
}

func checkProperty(t *testing.T, n int, big bool, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	var dead, same, sameCover, polRed, mayNotRuns, contra, correl int
	for iter := range n {
		allowMayNot := iter%3 == 2
		marks := iter%5 == 1
		src := randPolicy(rng, allowMayNot, big, marks)
		prog := load(t, iter, src)
		res := space.Analyze(prog)
		ctxs := paths(prog)
		u := universe(marks)
		exact := !strings.Contains(src, "limit") && !strings.Contains(src, "@dyn")
		interps := []bool{true}
		if !exact {
			interps = []bool{true, false}
			mayNotRuns++
		}
		coverChecks := 0
		for _, mayNot := range interps {
			b := newBrute(mayNot)
			b.outcome(prog, u)
			for _, t0 := range prog.Tables {
				for _, c := range t0.Chains {
					for _, r := range c.Rules {
						f := res.Facts(r)
						if f == nil {
							continue // no context reaches it (a dead jump); the engine does not judge it
						}
						entered := len(b.entered[r]) > 0
						bDead := entered && !b.fired[r]
						if f.Dead() && b.fired[r] {
							t.Fatalf("iter %d: engine says dead, but it fires (mayNot=%v): line %d\n%s", iter, mayNot, r.Src.Span().Start.Line, src)
						}
						if exact && bDead && !f.Dead() {
							t.Fatalf("iter %d: brute force says dead, engine missed it: line %d\n%s", iter, r.Src.Span().Start.Line, src)
						}
						if exact && f.Dead() {
							bSame := sameVerdict(prog, ctxs, c, r, b.entered[r], u, mayNot)
							if bSame != f.SameVerdict {
								t.Fatalf("iter %d: same-verdict: engine %v, brute force %v: line %d\n%s", iter, f.SameVerdict, bSame, r.Src.Span().Start.Line, src)
							}
							dead++
							if bSame {
								same++
							}
							if bSame && !f.SameCover {
								t.Fatalf("iter %d: same verdict but not SameCover: line %d\n%s", iter, r.Src.Span().Start.Line, src)
							}
							// SameCover: the earlier rules with the rule's
							// verdict cover it by themselves, so with every
							// accept, drop or reject of another verdict
							// deleted it still never fires.
							if f.SameCover {
								sameCover++
							}
							if f.SameCover && coverChecks < 2 { // two per policy: each runs every packet again
								coverChecks++
								v := verdictOf(r)
								nb := newBrute(mayNot)
								nb.without = func(o *policy.Rule) bool {
									ov := verdictOf(o)
									return ov != v && (ov == "accept" || ov == "drop" || ov == "reject")
								}
								nb.outcome(prog, u)
								if nb.fired[r] {
									t.Fatalf("iter %d: SameCover, but line %d fires once the rules of other verdicts are deleted\n%s", iter, r.Src.Span().Start.Line, src)
								}
							}
						}
					}
				}
			}
		}
		// A correlation is a real crossing: some packet matches both rules,
		// each matches a packet the other does not, and the verdicts differ.
		for _, t0 := range prog.Tables {
			for _, c := range t0.Chains {
				for _, r := range c.Rules {
					f := res.Facts(r)
					if f == nil || f.Correlated == nil {
						continue
					}
					correl++
					o := f.Correlated.With
					both := slices.ContainsFunc(u, func(p pkt) bool { return match(r, p, true) && match(o, p, true) })
					rOnly := slices.ContainsFunc(u, func(p pkt) bool { return match(r, p, true) && !match(o, p, true) })
					oOnly := slices.ContainsFunc(u, func(p pkt) bool { return !match(r, p, true) && match(o, p, true) })
					if !both || !rOnly || !oOnly || verdictOf(r) == verdictOf(o) {
						t.Fatalf("iter %d: line %d correlated with line %d, but overlap %v, only this %v, only that %v\n%s",
							iter, r.Src.Span().Start.Line, o.Src.Span().Start.Line, both, rOnly, oOnly, src)
					}
				}
			}
		}
		// A rule is a Contradiction exactly when no packet matches it
		// although each of its conditions alone matches some packet of
		// the rule's families.
		for _, t0 := range prog.Tables {
			for _, c := range t0.Chains {
				for _, r := range c.Rules {
					conf := space.Contradiction(r)
					matches, each := false, true
					for k := range r.Conds {
						alone := *r
						alone.Conds = r.Conds[k : k+1]
						each = each && slices.ContainsFunc(u, func(p pkt) bool { return match(&alone, p, true) })
					}
					matches = slices.ContainsFunc(u, func(p pkt) bool { return match(r, p, true) })
					if conf != nil && matches {
						t.Fatalf("iter %d: engine says line %d contradicts itself (%s), but a packet matches it\n%s", iter, r.Src.Span().Start.Line, conf.Field, src)
					}
					if conf == nil && !matches && each {
						t.Fatalf("iter %d: no packet matches line %d, engine finds no contradiction\n%s", iter, r.Src.Span().Start.Line, src)
					}
					if conf != nil {
						contra++
					}
				}
			}
		}
		// Deleting a rule the engine calls policy-redundant changes no
		// packet's verdict or logging.
		for _, t0 := range prog.Tables {
			for _, c := range t0.Chains {
				for _, r := range c.Rules {
					f := res.Facts(r)
					if f == nil || !f.PolicyRedundant() {
						continue
					}
					polRed++
					for _, mayNot := range interps {
						before := newBrute(mayNot).outcome(prog, u)
						nb := newBrute(mayNot)
						nb.skip = r
						after := nb.outcome(prog, u)
						if !slices.Equal(before, after) {
							t.Fatalf("iter %d: deleting policy-redundant line %d changes the outcome\n%s", iter, r.Src.Span().Start.Line, src)
						}
					}
				}
			}
		}
	}
	t.Logf("%d policies (%d with may-not-match rules): %d dead rules (%d redundant, %d covered by their verdict's rules), %d policy-redundant, %d contradictions, %d correlations",
		n, mayNotRuns, dead, same, sameCover, polRed, contra, correl)
	if dead == 0 || polRed == 0 || contra == 0 || sameCover <= same {
		t.Fatal("the generator produced no dead or policy-redundant rules: the test checks nothing")
	}
}
