package restore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/fwcproject/fwc/internal/irfixture"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/limits"
	"github.com/fwcproject/fwc/policy"
)

// TestExcludesAgrees: package limits refuses a negated list in a rule that
// returns or goes to a chain by predicting (limits.Excludes) which
// conditions this writer negates as exclusions in a sub-chain. The
// prediction must be the writer's: for every condition of every rule of
// the example policies, the golden scenarios and the refusal policies,
// in both families, Excludes holds exactly when match writes exclusions.
func TestExcludesAgrees(t *testing.T) {
	var srcs [][2]string
	for _, glob := range []string{"../../examples/*.fw", "../../examples/*/*.fw", "../../internal/golden/testdata/refusals/*.fw"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, [2]string{f, string(b)})
		}
	}
	scen, _ := filepath.Glob("../../internal/golden/testdata/scenarios/*.txtar")
	for _, f := range scen {
		ar, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, af := range ar.Files {
			if af.Name == "in.fw" {
				srcs = append(srcs, [2]string{f, string(af.Data)})
			}
		}
	}
	conds, excl := 0, 0
	for _, s := range srcs {
		if strings.Contains(s[1], "include ") {
			continue // includes need the loader; the examples' files are checked alone
		}
		rs := irfixture.Lower(t, s[0], s[1])
		for _, fam := range ir.Families {
			w := newWriter(rs)
			w.fam = fam
			for _, tb := range rs.Tables {
				for _, c := range tb.Chains {
					for _, r := range c.Rules {
						if !r.In(fam) {
							continue
						}
						for _, m := range r.Matches {
							before := len(w.diags)
							ct := w.match(r, m)
							if len(w.diags) > before {
								continue // refused: nothing written
							}
							conds++
							got, want := ct.excl != nil, limits.Excludes(m, policy.Family(fam))
							if got {
								excl++
							}
							if got != want {
								t.Errorf("%s: %v %T %+v: written as exclusions %v, limits.Excludes says %v", s[0], fam, m, m, got, want)
							}
						}
					}
				}
			}
		}
	}
	if excl == 0 || conds < 100 {
		t.Fatalf("%d conditions, %d written as exclusions: the policies test too little", conds, excl)
	}
	t.Logf("%d conditions, %d written as exclusions", conds, excl)
}
