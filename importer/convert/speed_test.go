package convert

import (
	"bytes"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/internal/corpus"
	"github.com/fwcproject/fwc/importer/iptables"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/lang"
)

func cpuSelf() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// importCheck is what `fwc check rules.v4` does: read, convert, parse and
// check the result, lint passes included.
func importCheck(tb testing.TB, src []byte) diag.Diagnostics {
	f, ds := iptables.ReadBytes(src, "bench.v4", iptables.Options{})
	out, cds := Convert(Input{Rulesets: []Ruleset{{File: f, Src: src, Family: IPv4}}}, Options{ChainOrigin: true})
	ds = append(ds, cds...)
	pf, pds := lang.ParseFile("import.fw", out)
	if pds.HasErrors() {
		tb.Fatal(pds)
	}
	_, lds := check.Check([]*ast.File{pf}, check.Options{Backends: []string{"iptables"}})
	return append(ds, lds...)
}

// benchImportCheck runs, in each iteration, `iptables-restore --test` of
// src in a scratch namespace and then fwc's import and check of it, and
// reports the CPU time of each (per iteration) and their ratio: the
// figure of issue #14 (import and check must cost less than
// iptables-restore's own validation). Interleaved in one run, so that the
// machine's load falls on both alike. Run with -benchtime=5x or more.
func benchImportCheck(b *testing.B, src []byte) {
	ns := testnetns.New(b)
	var restore, fwc time.Duration
	n := 0
	for b.Loop() {
		cmd := exec.Command("ip", "netns", "exec", ns, "iptables-restore", "--test")
		cmd.Stdin = bytes.NewReader(src)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("iptables-restore --test: %v\n%s", err, out)
		}
		// ip netns exec waits for iptables-restore: the children's CPU
		// time is iptables-restore's (ip's own is negligible).
		restore += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		start := cpuSelf()
		ds := importCheck(b, src)
		fwc += cpuSelf() - start
		if ds.HasErrors() {
			b.Fatalf("import and check: %d errors, first %v", ds.Count(diag.Error), ds[0])
		}
		n++
	}
	b.ReportMetric(float64(fwc.Microseconds())/1000/float64(n), "fwc-cpu-ms/op")
	b.ReportMetric(float64(restore.Microseconds())/1000/float64(n), "restore-test-cpu-ms/op")
	b.ReportMetric(float64(fwc)/float64(restore), "cpu-ratio")
}

// BenchmarkImportCheck50k: a generated 50,000-rule iptables-save text.
func BenchmarkImportCheck50k(b *testing.B) { benchImportCheck(b, corpus.GenSave(50000)) }

// BenchmarkImportCheckGFW: the 8,453-rule gfw-list-redirect.v4 of the
// shared corpus (another author's generator), when it is beside the
// repository.
func BenchmarkImportCheckGFW(b *testing.B) {
	src, err := os.ReadFile("../../../shared/corpus/rulesets/iptables/gfw-list-redirect.v4")
	if err != nil {
		b.Skip("shared corpus not beside the repository")
	}
	benchImportCheck(b, src)
}
