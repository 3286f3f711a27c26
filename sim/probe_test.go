package sim_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
	"github.com/fwcproject/fwc/sem/semtest"
)

// TestProbeSameAsRegion: sem's Probe, which the walk asks, answers every
// condition of random policies as the region does (RegionOf, then
// Region.Contains, inexact regions answering Unknown inside), for points
// inside and outside each condition's region, with and without unknown
// coordinates.
func TestProbeSameAsRegion(t *testing.T) {
	compared := 0
	for _, g := range []struct {
		name string
		src  []byte
	}{{"polgen", polgen.Policy(300, 5)}, {"sitegen", sitegen.Policy(300, 5)}} {
		f, ds := lang.ParseFile(g.name+".fw", g.src)
		if ds.HasErrors() {
			t.Fatal(ds)
		}
		prog, cds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
		if cds.HasErrors() {
			t.Fatal(cds)
		}
		rs, _ := ir.Lower(prog)
		r := rand.New(rand.NewPCG(5, 6))
		for _, tb := range rs.Tables {
			for _, c := range tb.Chains {
				for _, ru := range c.Rules {
					for _, m := range ru.Matches {
						for _, fam := range []policy.Family{policy.IPv4, policy.IPv6} {
							v6 := fam == policy.IPv6
							reg, exact := sem.RegionOf(ir.PolicyCond(m), fam)
							cubes := []sem.Cube{sem.SpaceOf(v6).Full()}
							if len(reg) > 0 {
								cubes = append(cubes, reg[r.IntN(len(reg))])
							}
							for _, cube := range cubes {
								pt := semtest.Pick(r, &cube, v6)
								if r.IntN(3) == 0 {
									pt.Unknown = pt.Unknown.With(sem.Dim(r.IntN(int(sem.NDim))))
								}
								want := reg.Contains(pt)
								if !exact && want == sem.Yes {
									want = sem.Unknown
								}
								if got := pt.Probe().Holds(ir.PolicyCond(m)); got != want {
									t.Errorf("%s: %s: %T %+v at %+v: probe %v, region %v", g.name, fmt.Sprint(ru.Comment(80)), m, m, pt, got, want)
								}
								compared++
							}
						}
					}
				}
			}
		}
	}
	if compared < 1000 {
		t.Errorf("only %d answers compared", compared)
	}
}
