package apply

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// BenchmarkIncremental compares, in the same iterations, an apply of one
// changed rule that goes incrementally (the record of the last apply and
// its rules' handles are there) with the same apply made as a full replace
// (the record of handles removed beforehand, timer stopped). The policy
// alternates between the generated one and a copy with one rule changed.
// Each side is what `fwc apply` does once the policy is compiled: plan,
// commit, record. It reports the medians of CPU time (user+system of the
// process) and wall time per side and their ratios (incremental over
// full); min/median/max are logged.
func BenchmarkIncremental(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	testnetns.RequireTools(b, "nft", "ip")
	generated(b, benchIncremental)
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sysNow is the process's system time: the kernel's part of cpuNow.
func sysNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Stime.Nano())
}

func benchIncremental(b *testing.B, prefix, src string, n int) {
	dir := b.TempDir()
	path := filepath.Join(dir, "policy.fw")
	changed := strings.Replace(src, "\t\ttcp dport 22 accept\n", "\t\ttcp dport 2222 accept\n", 1)
	if changed == src {
		b.Fatal("the generated policy lacks the rule the benchmark changes")
	}
	var ws []*Want
	for _, s := range []string{src, changed} {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			b.Fatal(err)
		}
		ws = append(ws, compilePath(b, path))
	}
	b.Run(fmt.Sprintf("%srules=%d", prefix, n), func(b *testing.B) {
		ns := testnetns.New(b)
		h := openHost(b, ns)
		h.Cache = b.TempDir()
		mustApply(b, h, ws[0], Options{})
		var incCPU, incWall, incSys, fullCPU, fullWall []time.Duration
		i := 0
		once := func(w *Want, incremental bool) (cpu, wall time.Duration) {
			// Nothing encoded yet; merged as compile leaves it.
			w = &Want{Ruleset: w.Ruleset, Script: w.Script, Sum: w.Sum, Routes: w.Routes, Routing: w.Routing, nft: w.nft}
			c0, t0 := cpuNow(), time.Now()
			w.Encode()
			p := plan(b, h, w)
			if inc, why := p.Incremental(); inc != incremental {
				b.Fatalf("incremental %v, want %v (%s)", inc, incremental, why)
			}
			if out, err := Apply(h, p, Options{}); out != batch.Applied {
				b.Fatal(out, err)
			}
			return cpuNow() - c0, time.Since(t0)
		}
		for b.Loop() {
			// Each side starts with the garbage of the other collected,
			// as a fresh `fwc apply` process would.
			b.StopTimer()
			runtime.GC()
			b.StartTimer()
			i++
			s0 := sysNow()
			c, w := once(ws[i%2], true)
			incCPU, incWall, incSys = append(incCPU, c), append(incWall, w), append(incSys, sysNow()-s0)
			b.StopTimer()
			if err := os.Remove(h.handlesPath()); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			b.StartTimer()
			i++
			c, w = once(ws[i%2], false)
			fullCPU, fullWall = append(fullCPU, c), append(fullWall, w)
		}
		med := func(d []time.Duration) time.Duration { s := slices.Clone(d); slices.Sort(s); return s[len(s)/2] }
		mm := func(d []time.Duration) string {
			s := slices.Clone(d)
			slices.Sort(s)
			return fmt.Sprintf("%v/%v/%v", s[0].Round(time.Millisecond), s[len(s)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
		}
		b.Logf("%d runs, min/median/max: incremental cpu %s (system %s) wall %s; full cpu %s wall %s", len(incCPU), mm(incCPU), mm(incSys), mm(incWall), mm(fullCPU), mm(fullWall))
		b.ReportMetric(med(incCPU).Seconds()*1000, "inc-cpu-ms")
		b.ReportMetric(med(incWall).Seconds()*1000, "inc-wall-ms")
		b.ReportMetric(med(fullCPU).Seconds()*1000, "full-cpu-ms")
		b.ReportMetric(med(fullWall).Seconds()*1000, "full-wall-ms")
		b.ReportMetric(float64(med(incCPU))/float64(med(fullCPU)), "cpu-ratio")
		b.ReportMetric(float64(med(incWall))/float64(med(fullWall)), "wall-ratio")
	})
}
