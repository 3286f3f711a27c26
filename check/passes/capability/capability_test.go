package capability_test

import (
	"os"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/capability"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
)

// One policy, testdata/backends/*.fw, checked for each choice of backends.

// TestNoBackend: without a backend named, every backend is judged (the
// findings are warnings then: cmd/fwc's check_capability script shows it).
func TestNoBackend(t *testing.T) {
	analysistest.RunOptions(t, "testdata/backends/none.fw", analysis.Options{}, capability.Analyzer)
}

func TestNft(t *testing.T) {
	analysistest.RunOptions(t, "testdata/backends/nft.fw", analysis.Options{Backends: []string{"nft"}}, capability.Analyzer)
}

func TestIptables(t *testing.T) {
	analysistest.RunOptions(t, "testdata/backends/iptables.fw", analysis.Options{Backends: []string{"iptables"}}, capability.Analyzer)
}

func TestAll(t *testing.T) {
	analysistest.RunOptions(t, "testdata/backends/all.fw", analysis.Options{Backends: []string{"nft", "iptables", "ip6tables"}}, capability.Analyzer)
}

// TestNegatedTimeParts covers a shape the language cannot write: a time
// condition of several parts (the front end makes one condition per
// hour, day or date match), negated as a whole, which nft cannot express.
// The pass guards against it for policies built otherwise, so the test
// checks testdata/timeparts.fw and then joins each rule's hour and day
// into one condition, as such a policy would have it.
func TestNegatedTimeParts(t *testing.T) {
	src, err := os.ReadFile("testdata/timeparts.fw")
	if err != nil {
		t.Fatal(err)
	}
	f, ds := lang.ParseFile("testdata/timeparts.fw", src)
	prog, cds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
	if ds = append(ds, cds...); len(ds) > 0 {
		t.Fatal(ds)
	}
	n := 0
	for _, tb := range prog.Tables {
		for _, c := range tb.Chains {
			for _, r := range c.Rules {
				var hour, day *policy.TimeCond
				var rest []policy.Cond
				for _, x := range r.Conds {
					if tc, ok := x.(*policy.TimeCond); ok && tc.HasHour {
						hour = tc
					} else if ok && tc.Days != 0 {
						day = tc
					} else {
						rest = append(rest, x)
					}
				}
				if hour != nil && day != nil {
					hour.Days = day.Days
					r.Conds = append(rest, hour)
					n++
				}
			}
		}
	}
	if n != 2 {
		t.Fatalf("joined %d rules, want 2", n)
	}
	analysistest.RunProgram(t, prog, analysis.Options{Backends: []string{"nft"}}, capability.Analyzer)
}
