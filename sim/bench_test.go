package sim_test

import (
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
	"github.com/fwcproject/fwc/sim"
)

// BenchmarkTrace50k is the walk fwc trace makes of one packet through a
// policy of 50,000 rules, from each of the two generators (polgen's
// rules repeat one another; sitegen's name their own hosts). The packet
// is forwarded and matches no rule before the last ones, so it is
// compared with every rule on its way. The goal is under 100 ms per
// packet; the policy is compiled once, outside the loop (fwc trace
// compiles it once per run, as check does).
func BenchmarkTrace50k(b *testing.B) {
	for _, g := range []struct {
		name string
		src  func() []byte
	}{
		{"polgen", func() []byte { return polgen.Policy(50000, 1) }},
		{"sitegen", func() []byte { return sitegen.Policy(50000, 1) }},
	} {
		b.Run(g.name, func(b *testing.B) {
			f, ds := lang.ParseFile(g.name+".fw", g.src())
			if ds.HasErrors() {
				b.Fatal(ds)
			}
			low, cds := compile.Lower(&compile.Loaded{Units: []*lang.Unit{{Root: g.name, Files: []*ast.File{f}}}}, check.Options{ErrorsOnly: true})
			if cds.HasErrors() {
				b.Fatal(cds)
			}
			n := 0
			for _, t := range low.Ruleset.Tables {
				for _, c := range t.Chains {
					n += len(c.Rules)
				}
			}
			for _, rs := range []struct {
				name string
				rs   *ir.Ruleset
			}{{"ir", low.Ruleset}, {"merged", ir.Merge(low.Ruleset)}} {
				b.Run(rs.name, func(b *testing.B) {
					p := sem.Packet{Src: netip.MustParseAddr("198.18.7.9"), Dst: netip.MustParseAddr("198.19.1.2"),
						Proto: policy.ProtoTCP, SrcPort: 40000, DstPort: 65001, InIface: "eth0", OutIface: "eth1",
						CtState: policy.CtNew, TCPFlags: policy.SYN}
					var steps int
					// CPU time as well as wall time: on a shared
					// machine the wall time of a loaded run says
					// more about the neighbours than about the walk.
					cpu0 := cpuTime()
					for b.Loop() {
						res := sim.Run(rs.rs, sem.Forwarded, p, sim.Options{})
						steps = len(res.Ways[0].Steps)
					}
					b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
					b.ReportMetric(float64(n), "rules")
					b.ReportMetric(float64(steps), "steps")
				})
			}
		})
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
