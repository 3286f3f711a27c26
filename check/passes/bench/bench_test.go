// Package bench measures the packet-space passes together on generated
// policies (see spacetest.Generate).
package bench

import (
	"fmt"
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/correlated"
	"github.com/fwcproject/fwc/check/passes/redundant"
	"github.com/fwcproject/fwc/check/passes/shadow"
	"github.com/fwcproject/fwc/check/space/spacetest"
)

var passes = []*analysis.Analyzer{shadow.Analyzer, redundant.Analyzer, correlated.Analyzer}

func BenchmarkPasses(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		prog := spacetest.MustParse("gen.pol", spacetest.Generate(n, 1))
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			var found int
			for b.Loop() {
				found = len(analysis.Run(prog, passes, analysis.Options{}))
			}
			b.ReportMetric(float64(found), "findings")
		})
	}
}

// TestGenerated keeps the benchmark input honest: the passes run on it and
// find something, so the figures measure real work.
func TestGenerated(t *testing.T) {
	prog := spacetest.MustParse("gen.pol", spacetest.Generate(1000, 1))
	ds := analysis.Run(prog, passes, analysis.Options{})
	counts := map[string]int{}
	for _, d := range ds {
		counts[d.Code]++
	}
	t.Logf("findings on 1000 generated rules: %v", counts)
	if len(ds) == 0 {
		t.Fatal("no findings on the generated policy")
	}
}
