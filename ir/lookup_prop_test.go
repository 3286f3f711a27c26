package ir

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/policy"
)

// TestMergeKeepsVerdictsExhaustive: on random chains of rules drawn from a
// few shapes over small domains (four addresses, two protocols, three
// ports, three interfaces each way), with accept, drop, jump-like return
// and log (non-terminal) actions, every packet of the domain gets the same
// logs and the same verdict from the merged chain as from the original:
// an evaluator of the IR's own meaning, run over all 1,728 packets, for
// 400 chains. It checks the order argument of lookup.go (adjacent runs,
// runs that pass over disjoint rules, maps whose tuples never overlap).
func TestMergeKeepsVerdictsExhaustive(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 1))
	addrs := []policy.AddrItem{
		pfx("10.0.0.0/32"), pfx("10.0.0.1/32"), pfx("10.0.0.2/32"), pfx("10.0.0.3/32"),
		pfx("10.0.0.0/31"), pfx("10.0.0.2/31"), pfx("10.0.0.0/30"),
	}
	ifaces := []string{"a", "b", "c"}
	merged := 0
	for c := 0; c < 400; c++ {
		// Two or three shapes: which fields a rule matches.
		shapes := make([]int, 2+rng.IntN(2))
		for i := range shapes {
			shapes[i] = rng.IntN(64)
		}
		var rules []*Rule
		for i := 0; i < 6+rng.IntN(12); i++ {
			rules = append(rules, randRule(rng, shapes[rng.IntN(len(shapes))], addrs, ifaces, i))
		}
		for _, opt := range []MergeOptions{{Anon: true, Maps: true, Lookups: true}, {Lookups: true}} {
			rs := &Ruleset{Tables: []*Table{{Name: "filter"}}}
			ch := &Chain{Table: rs.Tables[0], Name: "forward", Hook: policy.Forward, Type: TypeFilter}
			ch.Rules = rules
			rs.Tables[0].Chains = []*Chain{ch}
			out := MergeWith(rs, opt).Tables[0].Chains[0].Rules
			if len(out) < len(rules) {
				merged++
			}
			for _, p := range allPackets(ifaces) {
				want, got := evalChain(rules, p), evalChain(out, p)
				if want != got {
					t.Fatalf("case %d, packet %+v: original %q, merged %q\noriginal:\n%s\nmerged:\n%s",
						c, p, want, got, dumpRules(rules), dumpRules(out))
				}
			}
		}
	}
	if merged < 100 {
		t.Errorf("only %d of 800 merges joined rules: the test does not exercise Merge", merged)
	}
}

func pfx(s string) policy.AddrItem { return policy.AddrItem{Prefix: netip.MustParsePrefix(s)} }

type packet struct {
	src, dst netip.Addr
	proto    policy.Proto
	dport    uint16
	iif, oif string
}

func allPackets(ifaces []string) []packet {
	var ps []packet
	for s := 0; s < 4; s++ {
		for d := 0; d < 4; d++ {
			for _, pr := range []policy.Proto{policy.ProtoTCP, policy.ProtoUDP} {
				for port := uint16(1); port <= 3; port++ {
					for _, i := range ifaces {
						for _, o := range ifaces {
							ps = append(ps, packet{netip.AddrFrom4([4]byte{10, 0, 0, byte(s)}), netip.AddrFrom4([4]byte{10, 0, 0, byte(d)}), pr, port, i, o})
						}
					}
				}
			}
		}
	}
	return ps
}

// randRule draws a rule of a shape: bit 0 saddr, 1 daddr, 2 proto and
// dport, 3 iif, 4 oif, 5 a second value in one of them.
func randRule(rng *rand.Rand, shape int, addrs []policy.AddrItem, ifaces []string, n int) *Rule {
	r := &Rule{Family: IPv4, Pos: []Pos{{File: "p.fw", Line: n + 1}}}
	two := shape&32 != 0
	pickAddrs := func() []policy.AddrItem {
		items := []policy.AddrItem{addrs[rng.IntN(len(addrs))]}
		if two && rng.IntN(3) == 0 {
			items = append(items, addrs[rng.IntN(len(addrs))])
		}
		return items
	}
	if shape&1 != 0 {
		r.Matches = append(r.Matches, &policy.AddrCond{Dir: policy.Src, Items: pickAddrs()})
	}
	if shape&2 != 0 {
		r.Matches = append(r.Matches, &policy.AddrCond{Dir: policy.Dst, Items: pickAddrs()})
	}
	if shape&4 != 0 {
		pr := []policy.Proto{policy.ProtoTCP, policy.ProtoUDP}[rng.IntN(2)]
		r.Matches = append(r.Matches, &policy.ProtoCond{Protos: []policy.Proto{pr}})
		p := uint16(1 + rng.IntN(3))
		ranges := []policy.PortRange{{Lo: p, Hi: p}}
		if two && rng.IntN(3) == 0 {
			q := uint16(1 + rng.IntN(3))
			ranges = append(ranges, policy.PortRange{Lo: q, Hi: q})
		}
		r.Matches = append(r.Matches, &policy.PortCond{Dir: policy.Dst, Ranges: ranges})
	}
	if shape&8 != 0 {
		r.Matches = append(r.Matches, &policy.IfaceCond{Dir: policy.Src, Ifaces: []policy.Iface{{Name: ifaces[rng.IntN(3)]}}})
	}
	if shape&16 != 0 {
		r.Matches = append(r.Matches, &policy.IfaceCond{Dir: policy.Dst, Ifaces: []policy.Iface{{Name: ifaces[rng.IntN(3)]}}})
	}
	switch k := rng.IntN(10); {
	case k < 4:
		r.Actions = []policy.Action{&policy.Verdict{Kind: policy.Accept}}
	case k < 8:
		r.Actions = []policy.Action{&policy.Verdict{Kind: policy.Drop}}
	case k < 9:
		r.Actions = []policy.Action{&policy.Verdict{Kind: policy.Return}}
	default:
		r.Actions = []policy.Action{&policy.Log{Prefix: "l" + string(rune('a'+n))}}
	}
	return r
}

// evalChain is the chain's outcome for p: the logs written, then the
// verdict ("" when no rule decided).
func evalChain(rules []*Rule, p packet) string {
	var out []string
	for _, r := range rules {
		if !slices.ContainsFunc(r.Matches, func(m policy.Cond) bool { return !holds(r, m, p) }) {
			for _, a := range r.Actions {
				switch a := a.(type) {
				case *policy.Log:
					out = append(out, "log "+a.Prefix)
				case *policy.Verdict:
					return strings.Join(append(out, verdictName(a)), ", ")
				case *VerdictMap:
					if v := mapLookup(r, a, p); v != nil {
						return strings.Join(append(out, verdictName(v)), ", ")
					}
				}
			}
		}
	}
	return strings.Join(out, ", ")
}

func verdictName(a policy.Action) string {
	return map[policy.VerdictKind]string{policy.Accept: "accept", policy.Drop: "drop", policy.Return: "return"}[a.(*policy.Verdict).Kind]
}

func inItem(it policy.AddrItem, a netip.Addr) bool {
	lo, hi := Bounds(it)
	return !a.Less(lo) && !hi.Less(a)
}

func holds(r *Rule, m policy.Cond, p packet) bool {
	switch m := m.(type) {
	case *policy.AddrCond:
		a := p.src
		if m.Dir == policy.Dst {
			a = p.dst
		}
		return slices.ContainsFunc(m.Items, func(it policy.AddrItem) bool { return inItem(it, a) }) != m.Neg
	case *policy.ProtoCond:
		return slices.Contains(m.Protos, p.proto) != m.Neg
	case *policy.PortCond:
		return p.proto == r.PortProto() && slices.ContainsFunc(m.Ranges, func(pr policy.PortRange) bool {
			return pr.Lo <= p.dport && p.dport <= pr.Hi
		}) != m.Neg
	case *policy.IfaceCond:
		i := p.iif
		if m.Dir == policy.Dst {
			i = p.oif
		}
		return slices.ContainsFunc(m.Ifaces, func(x policy.Iface) bool { return x.Name == i }) != m.Neg
	case *policy.ConcatCond:
		return slices.ContainsFunc(m.Set.Elements, func(e policy.SetElem) bool { return tupleHolds(r, m.Keys, e.Parts, p) }) != m.Neg
	}
	panic("evaluator: no meaning for a match of this kind")
}

func tupleHolds(r *Rule, keys []policy.Key, parts []policy.SetValue, p packet) bool {
	for i, k := range keys {
		v := parts[i]
		var ok bool
		switch k {
		case policy.KeySaddr:
			ok = inItem(v.Addr, p.src)
		case policy.KeyDaddr:
			ok = inItem(v.Addr, p.dst)
		case policy.KeyDport:
			ok = p.proto == r.PortProto() && v.Port == p.dport
		case policy.KeyIif:
			ok = v.Iface == p.iif
		case policy.KeyOif:
			ok = v.Iface == p.oif
		}
		if !ok {
			return false
		}
	}
	return true
}

func mapLookup(r *Rule, vm *VerdictMap, p packet) policy.Action {
	var found []policy.Action
	for _, e := range vm.Entries {
		switch k := vm.Key.(type) {
		case *policy.ConcatCond:
			if tupleHolds(r, k.Keys, e.Tuple, p) {
				found = append(found, e.Verdict)
			}
		default:
			if holds(r, e.Match, p) {
				found = append(found, e.Verdict)
			}
		}
	}
	switch len(found) {
	case 0:
		return nil
	case 1:
		return found[0]
	}
	// The kernel cannot hold a map whose keys overlap: Merge must never
	// make one.
	panic("a verdict map with overlapping keys")
}

func dumpRules(rules []*Rule) string {
	var b strings.Builder
	for _, r := range rules {
		b.WriteString("  ")
		for _, m := range r.Matches {
			b.WriteString(strings.TrimPrefix(strings.TrimPrefix(typeName(m), "*policy."), "*ir.") + " ")
			switch m := m.(type) {
			case *policy.AddrCond:
				b.WriteString(Addrs(m.Items) + " ")
			case *policy.PortCond:
				for _, pr := range m.Ranges {
					b.WriteString(strconv.Itoa(int(pr.Lo)) + " ")
				}
			case *policy.IfaceCond:
				for _, i := range m.Ifaces {
					b.WriteString(i.Name + " ")
				}
			case *policy.ProtoCond:
				b.WriteString(m.Protos[0].Name() + " ")
			case *policy.ConcatCond:
				b.WriteString(tupleList(m.Set.Elements) + " ")
			}
		}
		for _, a := range r.Actions {
			b.WriteString(typeName(a) + " ")
			if v, ok := a.(*policy.Verdict); ok {
				b.WriteString(verdictName(v))
			}
			if vm, ok := a.(*VerdictMap); ok {
				for _, e := range vm.Entries {
					b.WriteString(tupleText(e.Tuple) + ":" + verdictName(e.Verdict) + " ")
				}
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func tupleList(es []policy.SetElem) string {
	var s []string
	for _, e := range es {
		s = append(s, tupleText(e.Parts))
	}
	return "{" + strings.Join(s, " ") + "}"
}

func typeName(x any) string {
	switch x.(type) {
	case *policy.AddrCond:
		return "addr"
	case *policy.PortCond:
		return "port"
	case *policy.IfaceCond:
		return "iface"
	case *policy.ProtoCond:
		return "proto"
	case *policy.ConcatCond:
		return "lookup"
	case *VerdictMap:
		return "vmap"
	case *policy.Log:
		return "log"
	}
	return "verdict"
}
