package sim_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
	"github.com/fwcproject/fwc/sem/semtest"
	"github.com/fwcproject/fwc/sim"
)

// TestAgreesWithSpace is the differential test of the two engines that
// share sem: the symbolic walk of check/space over the policy, and the
// concrete walk of sim over the IR the policy lowers to. On random
// policies of two independent generators, concrete packets are drawn from
// the region of every rule the symbolic engine judges exactly, and each is
// walked through the rule's base chain. Two disagreements are looked for:
//
//   - a rule space proves dead (no packet reaches it and matches) is
//     matched by a packet of its own region in the concrete walk;
//   - a packet's concrete walk matches a rule every context of which
//     space proves dead;
//   - in a base chain whose packet meets no jump, mark change or inexact
//     condition first, the rule that decides the packet in the concrete
//     walk over IR is not the first rule with a verdict whose regions,
//     from the policy's own conditions, hold the packet's point (this
//     checks the lowering to IR, the adapter and the walk's order).
//
// Each rule and packet the test checks is counted, so that a generator
// change that leaves nothing to compare fails instead of passing empty.
func TestAgreesWithSpace(t *testing.T) {
	type gen struct {
		name string
		src  func(seed uint64) []byte
	}
	gens := []gen{
		{"polgen", func(seed uint64) []byte { return polgen.Policy(120, seed) }},
		{"sitegen", func(seed uint64) []byte { return sitegen.Policy(120, seed) }},
	}
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, g := range gens {
		var deadChecked, stepsChecked, firstChecked int
		for _, seed := range seeds {
			d, s, f := agree(t, fmt.Sprintf("%s/%d", g.name, seed), g.src(seed), seed)
			deadChecked += d
			stepsChecked += s
			firstChecked += f
		}
		t.Logf("%s: %d packets of dead rules walked, %d matched rules compared, %d deciding rules compared", g.name, deadChecked, stepsChecked, firstChecked)
		if stepsChecked == 0 || firstChecked == 0 {
			t.Errorf("%s: nothing was compared", g.name)
		}
		if g.name == "polgen" && deadChecked == 0 {
			// polgen repeats its blocklist drop: later copies are dead.
			t.Errorf("%s: no dead rule was checked", g.name)
		}
	}
}

func agree(t *testing.T, name string, src []byte, seed uint64) (deadChecked, stepsChecked, firstChecked int) {
	t.Helper()
	f, ds := lang.ParseFile(name+".fw", src)
	if ds.HasErrors() {
		t.Fatalf("%s: %v", name, ds)
	}
	prog, cds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
	if cds.HasErrors() {
		t.Fatalf("%s: %v", name, cds)
	}
	res := space.Analyze(prog)
	rs, lds := ir.Lower(prog)
	if lds.HasErrors() {
		t.Fatalf("%s: %v", name, lds)
	}
	// The policy rules of each source range: an IR rule names the policy
	// rule it came from by it (several when a service expands in two).
	bySrc := map[diag.Range][]*policy.Rule{}
	for _, pt := range prog.Tables {
		for _, pc := range pt.Chains {
			for _, r := range pc.Rules {
				if r.Src != nil {
					bySrc[r.Src.Span()] = append(bySrc[r.Src.Span()], r)
				}
			}
		}
	}
	deadAt := func(r *ir.Rule) bool {
		if len(r.Pos) != 1 {
			return false
		}
		rules := bySrc[r.Pos[0].Range]
		for _, pr := range rules {
			f := res.Facts(pr)
			if f == nil || !f.Dead() || f.Unmodeled != "" {
				return false
			}
		}
		return len(rules) > 0
	}
	rnd := rand.New(rand.NewPCG(seed, 7))
	for _, pt := range prog.Tables {
		irt := irTable(rs, pt.Name)
		for _, pc := range pt.Chains {
			if !pc.IsBase() || irt == nil {
				continue
			}
			only := &ir.Ruleset{Tables: []*ir.Table{chainOnly(irt, pc.Name)}}
			for _, r := range pc.Rules {
				facts := res.Facts(r)
				if facts == nil || facts.Unmodeled != "" || facts.Incomplete || r.Src == nil {
					continue
				}
				for _, fam := range []policy.Family{policy.IPv4, policy.IPv6} {
					if r.Family != 0 && r.Family&fam == 0 {
						continue
					}
					reg := sem.Region{sem.SpaceOf(fam == policy.IPv6).Full()}
					for _, c := range r.Conds {
						cr, _ := sem.RegionOf(c, fam)
						reg = reg.Intersect(cr)
					}
					for k := 0; k < 3 && len(reg) > 0; k++ {
						pt := semtest.Pick(rnd, &reg[rnd.IntN(len(reg))], fam == policy.IPv6)
						pkt := pt.Packet()
						if !holdsAll(r.Conds, pkt.Point()) {
							continue // a point no packet has (ports on icmp)
						}
						walk := sim.Run(only, pathOf(pc.Hook), pkt, sim.Options{})
						if want, ok := firstDecider(pc, pkt.Point(), fam); ok {
							firstChecked++
							if len(walk.Ways) != 1 {
								t.Errorf("%s: %+v: the concrete walk forks (%d ways) where every condition is exact", name, pkt, len(walk.Ways))
							} else if by := walk.Ways[0].By; (by == nil) != (want == nil) || by != nil && (len(by.Pos) != 1 || by.Pos[0].Range != want.Src.Span()) {
								t.Errorf("%s: %+v: decided by %s in the concrete walk, by %s in the policy's regions", name, pkt, ruleName(by), srcName(want))
							}
							if want != nil && res.Facts(want) != nil && res.Facts(want).Dead() {
								t.Errorf("%s: %+v is decided by %s, which space proves dead", name, pkt, srcName(want))
							}
						}
						if facts.Dead() {
							deadChecked++
						}
						for _, w := range walk.Ways {
							for _, st := range w.Steps {
								if st.Kind != sim.MatchRule || st.Match != sem.Yes || len(st.Rule.Pos) != 1 {
									continue
								}
								stepsChecked++
								if facts.Dead() && st.Rule.Pos[0].Range == r.Src.Span() && st.Chain == pc.Name {
									t.Errorf("%s: %s is dead for space but matches %+v in the concrete walk", name, st.Rule.Comment(80), pkt)
								}
								if deadAt(st.Rule) {
									t.Errorf("%s: the concrete walk of %+v matches %s, which space proves dead", name, pkt, st.Rule.Comment(80))
								}
							}
						}
					}
				}
			}
		}
	}
	return deadChecked, stepsChecked, firstChecked
}

// firstDecider is the symbolic answer for a base chain without jumps on
// the packet's way: the first rule with a verdict whose region (sem's,
// from the policy's conditions) holds pt, nil for the chain's policy. ok
// is false when that cannot be told without a walk: a condition is
// inexact, or a jump, a mark change or a return comes first. A nat chain
// sees only a connection's first packet (sem.NATSees).
func firstDecider(c *policy.Chain, pt sem.Point, fam policy.Family) (*policy.Rule, bool) {
	if c.Table.Name == "nat" && !sem.NATSees(pt.Packet().CtState) {
		return nil, true // the kernel skips the chain: its policy is accept
	}
	for _, r := range c.Rules {
		if r.Family != 0 && r.Family&fam == 0 {
			continue
		}
		t := sem.Yes
		for _, cond := range r.Conds {
			t = sem.And(t, sem.Holds(cond, pt))
		}
		switch t {
		case sem.No:
			continue
		case sem.Unknown:
			return nil, false
		}
		for _, a := range r.Actions {
			switch a := a.(type) {
			case *policy.Verdict:
				if a.Kind == policy.Return {
					return nil, false
				}
				return r, true
			case *policy.NAT, *policy.Balance:
				return r, true
			case *policy.Jump, *policy.SetMark, *policy.Connmark:
				return nil, false
			}
		}
	}
	return nil, true
}

func ruleName(r *ir.Rule) string {
	if r == nil {
		return "the chain's policy"
	}
	return r.Comment(80)
}

func srcName(r *policy.Rule) string {
	if r == nil {
		return "the chain's policy"
	}
	sp := r.Src.Span()
	return fmt.Sprintf("%s:%d", sp.Filename, sp.Start.Line)
}

func holdsAll(cs []policy.Cond, pt sem.Point) bool {
	for _, c := range cs {
		if sem.Holds(c, pt) != sem.Yes {
			return false
		}
	}
	return true
}

func irTable(rs *ir.Ruleset, name string) *ir.Table {
	for _, t := range rs.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// chainOnly is t with one base chain, name, and every user chain.
func chainOnly(t *ir.Table, name string) *ir.Table {
	out := &ir.Table{Name: t.Name}
	for _, c := range t.Chains {
		if !c.IsBase() || c.Name == name {
			out.Chains = append(out.Chains, c)
		}
	}
	return out
}

func pathOf(h policy.Hook) sem.Path {
	switch h {
	case policy.Forward:
		return sem.Forwarded
	case policy.Output, policy.Postrouting:
		return sem.FromSelf
	}
	return sem.ToSelf
}
