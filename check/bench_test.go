package check_test

import (
	"fmt"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/lang"
)

// BenchmarkFrontEnd measures parse + name/type check + lowering of a
// generated policy, without the lint passes (see BenchmarkCheck for all).
func BenchmarkFrontEnd(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		src := polgen.Policy(n, 1)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				f, ds := lang.ParseFile("gen.fw", src)
				if ds.HasErrors() {
					b.Fatal(ds[0])
				}
				_, ds = check.Check([]*ast.File{f}, check.Options{NoLint: true})
				if ds.HasErrors() {
					b.Fatal(ds[0])
				}
			}
		})
	}
}

// BenchmarkCheck is what `fwc check` does: front end and every lint pass.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		src := polgen.Policy(n, 1)
		f, ds := lang.ParseFile("gen.fw", src)
		if ds.HasErrors() {
			b.Fatal(ds[0])
		}
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ds := check.Check([]*ast.File{f}, check.Options{}); ds.HasErrors() {
					b.Fatal(ds[0])
				}
			}
		})
	}
}
