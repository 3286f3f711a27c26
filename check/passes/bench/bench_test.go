// Package bench measures the lint passes on generated policies: the
// packet-space passes on the engine's own generator (generate, in
// gen_test.go) and on the project's two (internal/polgen, internal/sitegen),
// and every pass of `fwc check` together.
package bench

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes"
	"github.com/fwcproject/fwc/check/passes/correlated"
	"github.com/fwcproject/fwc/check/passes/redundant"
	"github.com/fwcproject/fwc/check/passes/shadow"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
)

var benchSizes = []int{1000, 10000, 20000, 50000}

var spacePasses = []*analysis.Analyzer{shadow.Analyzer, redundant.Analyzer, correlated.Analyzer}

func BenchmarkPasses(b *testing.B) {
	for _, n := range benchSizes {
		prog := load(b, generate(n, 1))
		b.Run(fmt.Sprint(n), func(b *testing.B) { measure(b, prog, spacePasses, analysis.Options{}) })
	}
}

// BenchmarkPolgen runs the three passes over the project's shared policy
// generator (internal/polgen), checked by the real front end.
func BenchmarkPolgen(b *testing.B) {
	for _, n := range benchSizes {
		prog := load(b, polgen.Policy(n, 1))
		b.Run(fmt.Sprint(n), func(b *testing.B) { measure(b, prog, spacePasses, analysis.Options{}) })
	}
}

// BenchmarkSitegen is BenchmarkPolgen on internal/sitegen's policies
// (unique hosts, 4,000 ports, large sets, NAT, IPv6).
func BenchmarkSitegen(b *testing.B) {
	for _, n := range benchSizes {
		prog := load(b, sitegen.Policy(n, 1))
		b.Run(fmt.Sprint(n), func(b *testing.B) { measure(b, prog, spacePasses, analysis.Options{}) })
	}
}

// BenchmarkAll runs every pass `fwc check` runs (passes.All, with all three
// backends requested) over internal/polgen's policies ("10000") and over
// internal/sitegen's ("sitegen-10000"). The front end (parse, names,
// lowering) is not counted; check's BenchmarkCheck counts it too.
func BenchmarkAll(b *testing.B) {
	opts := analysis.Options{Backends: []string{"nft", "iptables", "ip6tables"}}
	for _, n := range []int{1000, 10000, 50000} {
		prog := load(b, polgen.Policy(n, 1))
		b.Run(fmt.Sprint(n), func(b *testing.B) { measure(b, prog, passes.All, opts) })
	}
	for _, n := range []int{1000, 10000, 50000} {
		prog := load(b, sitegen.Policy(n, 1))
		b.Run(fmt.Sprint("sitegen-", n), func(b *testing.B) { measure(b, prog, passes.All, opts) })
	}
}

// find something, so the figures measure real work.
func TestGenerated(t *testing.T) {
	prog := load(t, generate(1000, 1))
	ds := analysis.Run(prog, spacePasses, analysis.Options{})
	counts := map[string]int{}
	for _, d := range ds {
		counts[d.Code]++
	}
	t.Logf("findings on 1000 generated rules: %v", counts)
	if len(ds) == 0 {
		t.Fatal("no findings on the generated policy")
	}
}

// load parses and checks src with the real front end, without the lint
// passes (those are what the benchmarks measure).
func load(tb testing.TB, src []byte) *policy.Program {
	tb.Helper()
	f, ds := lang.ParseFile("gen.fw", src)
	prog, cds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
	if ds = append(ds, cds...); ds.HasErrors() {
		tb.Fatal(ds)
	}
	return prog
}

// measure runs the analyzers over prog b.N times and reports CPU time
// (user+system, all threads, GC included) per run besides wall time: on a
// shared machine wall time also counts other people's work.
func measure(b *testing.B, prog *policy.Program, as []*analysis.Analyzer, opts analysis.Options) {
	b.ReportAllocs()
	var found int
	runtime.GC() // the parse's garbage is not the passes' cost
	cpu0 := cpuTime()
	for b.Loop() {
		found = len(analysis.Run(prog, as, opts))
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(found), "findings")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
