package space_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
	"github.com/fwcproject/fwc/sem/semtest"
	"github.com/fwcproject/fwc/sim"
)

// TestFlowAgreesWithSim is the differential test of the whole-ruleset
// walks: Flow, symbolic over the checked policy (what asserts and apply's
// lock-out proof use), and sim, concrete over the IR it lowers to. On
// random policies of two independent generators, packets are drawn from
// the regions of rules of every base chain (half of them then moved off
// the rule in one field) and walked on their path by
// both; where both are certain of the fate (Flow: no outcome depends on
// what it does not model; sim: every way agrees), they must give the same
// one. Comparisons are counted, so that a generator change that leaves
// nothing to compare fails.
func TestFlowAgreesWithSim(t *testing.T) {
	gens := []struct {
		name string
		src  func(seed uint64) []byte
	}{
		{"polgen", func(seed uint64) []byte { return polgen.Policy(80, seed) }},
		{"sitegen", func(seed uint64) []byte { return sitegen.Policy(80, seed) }},
	}
	for _, g := range gens {
		compared := map[string]int{}
		for seed := uint64(1); seed <= 3; seed++ {
			name := fmt.Sprintf("%s-%d", g.name, seed)
			f, ds := lang.ParseFile(name+".fw", g.src(seed))
			if ds.HasErrors() {
				t.Fatalf("%s: %v", name, ds)
			}
			prog, cds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
			if cds.HasErrors() {
				t.Fatalf("%s: %v", name, cds)
			}
			rs, lds := ir.Lower(prog)
			if lds.HasErrors() {
				t.Fatalf("%s: %v", name, lds)
			}
			net := space.NetFromProgram(prog)
			rnd := rand.New(rand.NewPCG(seed, 11))
			for _, pt := range prog.Tables {
				for _, pc := range pt.Chains {
					if !pc.IsBase() {
						continue
					}
					for _, r := range pc.Rules {
						for _, v6 := range []bool{false, true} {
							c, ok := region(r, v6)
							if !ok {
								continue
							}
							path := pathOf(pc.Hook)
							pt := semtest.Pick(rnd, &c, v6)
							if rnd.IntN(2) == 0 {
								// Off the rule in one field, so that
								// packets also fall through to policies.
								full := sem.SpaceOf(v6).Full()
								d := rnd.IntN(int(sem.NDim))
								pt.F[d] = semtest.Pick(rnd, &full, v6).F[d]
							}
							p := entering(pt.Packet(), path)
							s := space.NewSpace(v6)
							pcube := p.Point().Cube()
							ff, fsure := flowFate(space.Flow(net, s, path, space.Region{pcube}))
							sf, _ := sim.Run(rs, path, p, sim.Options{NoSteps: true}).Fate()
							if !fsure || sf == sim.Undecided {
								continue
							}
							compared[path.String()]++
							if ff != sf {
								t.Errorf("%s: %s: Flow says %v, sim says %v", name, space.Words(p, path), ff, sf)
							}
						}
					}
				}
			}
		}
		t.Logf("%s: %v packets compared by path", g.name, compared)
		if compared[sem.ToSelf.String()] == 0 || compared[sem.Forwarded.String()] == 0 {
			t.Errorf("%s: too little compared: %v", g.name, compared)
		}
	}
}

// flowFate sums Flow's outcomes up as sim does; sure is false when an
// outcome depends on what Flow does not model.
func flowFate(res *space.FlowResult) (f sim.Fate, sure bool) {
	if res.Incomplete != "" {
		return sim.Undecided, false
	}
	accept, drop := false, false
	for _, o := range res.Outcomes {
		if o.Maybe != "" {
			return sim.Undecided, false
		}
		if o.Accept {
			accept = true
		} else {
			drop = true
		}
	}
	switch {
	case accept && drop:
		return sim.Undecided, true
	case drop:
		return sim.Dropped, true
	}
	return sim.Accepted, true
}

// region is the cube of r's conditions in one family (false when r does
// not exist there, matches nothing, or has a condition sem does not model
// or a concatenation).
func region(r *policy.Rule, v6 bool) (sem.Cube, bool) {
	fam := policy.IPv4
	if v6 {
		fam = policy.IPv6
	}
	if r.Family != 0 && r.Family&fam == 0 {
		return sem.Cube{}, false
	}
	s := sem.SpaceOf(v6)
	c := s.Full()
	for _, cd := range r.Conds {
		e := s.Lower(cd)
		if e.Absent || e.Unmodeled != "" || e.IsConcat {
			return c, false
		}
		for _, x := range e.Restrict[:e.N] {
			c[x.Dim] = c[x.Dim].Intersect(x.Set)
			if c[x.Dim].Empty() {
				return c, false
			}
		}
	}
	return c, true
}

// entering makes p a packet that can enter the host on path: no output
// interface before routing on the way in, no input interface on the way
// out, marks 0.
func entering(p sem.Packet, path sem.Path) sem.Packet {
	switch path {
	case sem.ToSelf:
		p.OutIface = ""
	case sem.FromSelf:
		p.InIface = ""
	}
	p.Mark = 0
	return p
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

// TestFlowIncomplete: a walk that runs out of its budget says so, and a
// claim over it is undecided, not proven either way; with the budget
// back, the same claim is decided.
func TestFlowIncomplete(t *testing.T) {
	src := "zone admins { net 10.9.0.0/16 }\n" +
		"table filter { chain input policy drop { saddr 10.9.1.0/24 drop\n tcp dport 22 accept } }\n" +
		"assert from admins to self tcp dport 22 accept\n"
	f, ds := lang.ParseFile("p.fw", []byte(src))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	prog, cds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
	if cds.HasErrors() {
		t.Fatal(cds)
	}
	claims, _ := space.AssertClaims(prog.Asserts[0])
	net := space.NetFromProgram(prog)
	restore := space.SetFlowBudget(0)
	pr := space.Prove(net, claims[0])
	restore()
	if pr.Holds || pr.Witness != nil || !strings.Contains(pr.Undecided, "too many classes") {
		t.Errorf("with no budget: holds %v, witness %v, undecided %q", pr.Holds, pr.Witness, pr.Undecided)
	}
	pr = space.Prove(net, claims[0])
	if pr.Holds || pr.Witness == nil || pr.Undecided != "" || !strings.HasPrefix(pr.Witness.Src.String(), "10.9.1.") {
		t.Errorf("with the budget: holds %v, witness %v, undecided %q", pr.Holds, pr.Witness, pr.Undecided)
	}
}
