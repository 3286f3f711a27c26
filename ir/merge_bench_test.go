package ir_test

import (
	"fmt"
	"testing"

	"github.com/fwcproject/fwc/internal/irfixture"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
	"github.com/fwcproject/fwc/ir"
)

// BenchmarkMerge is Merge (what nft's Prepare runs) on both generators'
// policies: the one-field merges and the lookups along several fields.
func BenchmarkMerge(b *testing.B) {
	for _, g := range []struct {
		name string
		gen  func(int, uint64) []byte
	}{{"polgen", polgen.Policy}, {"sitegen", sitegen.Policy}} {
		for _, n := range []int{10000, 50000} {
			b.Run(fmt.Sprintf("%s/rules=%d", g.name, n), func(b *testing.B) {
				rs := irfixture.Lower(b, "gen.fw", string(g.gen(n, 1)))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					ir.Merge(rs)
				}
			})
		}
	}
}
