package passes_test

import (
	"fmt"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/lang"
)

// BenchmarkStructural times this package's structural passes (everything in
// All except what the packet-space passes add) over generated policies.
// The checked program is built once, outside the timer.
func BenchmarkStructural(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f, ds := lang.ParseFile("gen.fw", polgen.Policy(n, 1))
			if ds.HasErrors() {
				b.Fatal(ds)
			}
			// The generator's occasional family conflicts drop a few rules
			// from the program; the rest is what is measured.
			prog, _ := check.Check([]*ast.File{f}, check.Options{NoLint: true})
			rules := 0
			for _, t := range prog.Tables {
				for _, c := range t.Chains {
					rules += len(c.Rules)
				}
			}
			b.ReportMetric(float64(rules), "rules")
			opts := analysis.Options{Backends: []string{"nft", "iptables", "ip6tables"}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				analysis.Run(prog, passes.All, opts)
			}
		})
	}
}
