package check_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
	"github.com/fwcproject/fwc/lang"
)

// generators are the policy generators the benchmarks run on, by the prefix
// of their sub-benchmarks' names: polgen's keep the names they had before
// sitegen existed ("rules=10000"), so older figures stay comparable;
// sitegen's are "sitegen-rules=10000" (and `-bench Check/rules=10000`
// matches both).
var generators = []struct {
	prefix string
	policy func(n int, seed uint64) []byte
}{
	{"", polgen.Policy},
	{"sitegen-", sitegen.Policy},
}

// BenchmarkFrontEnd measures parse + name/type check + lowering of a
// generated policy, without the lint passes (see BenchmarkCheck for all).
func BenchmarkFrontEnd(b *testing.B) {
	for _, g := range generators {
		for _, n := range []int{1000, 10000, 50000} {
			frontEnd(b, g.prefix, g.policy(n, 1), n)
		}
	}
}

func frontEnd(b *testing.B, prefix string, src []byte, n int) {
	b.Run(fmt.Sprintf("%srules=%d", prefix, n), func(b *testing.B) {
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

// BenchmarkCheck is what `fwc check` does: front end and every lint pass.
func BenchmarkCheck(b *testing.B) {
	for _, g := range generators {
		for _, n := range []int{1000, 10000, 50000} {
			checkAll(b, g.prefix, g.policy(n, 1), n)
		}
	}
}

// checkAll runs check.Check with every pass on src and reports, besides
// wall time, the process's CPU time per run (user+system, all threads): on
// a shared machine wall time also counts other people's work.
func checkAll(b *testing.B, prefix string, src []byte, n int) {
	f, ds := lang.ParseFile("gen.fw", src)
	if ds.HasErrors() {
		b.Fatal(ds[0])
	}
	b.Run(fmt.Sprintf("%srules=%d", prefix, n), func(b *testing.B) {
		b.ReportAllocs()
		runtime.GC() // the parse's garbage is not the check's cost
		cpu0 := cpuTime()
		for b.Loop() {
			if _, ds := check.Check([]*ast.File{f}, check.Options{}); ds.HasErrors() {
				b.Fatal(ds[0])
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
