package iptables

import (
	"bytes"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/fwcproject/fwc/importer/internal/corpus"
	"github.com/fwcproject/fwc/internal/testnetns"
)

func TestGenSave(t *testing.T) {
	src := corpus.GenSave(50000)
	f, ds := ReadBytes(src, "gen.v4", Options{})
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	n := 0
	for _, tb := range f.Tables {
		for _, c := range tb.Chains {
			n += len(c.Rules)
		}
	}
	if n != 50000 {
		t.Fatalf("%d rules, want 50000", n)
	}
}

// cpuSelf returns the CPU time (user + system) this process has used.
func cpuSelf() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRead reads src b.N times and reports the CPU time per read next to
// the CPU time `iptables-restore --test` takes to validate the same text in
// a scratch namespace (once, in the same run). The ratio is the figure of
// issue #14: reading must cost less than iptables-restore's own check.
func benchRead(b *testing.B, src []byte) {
	ns := testnetns.New(b)
	cmd := exec.Command("ip", "netns", "exec", ns, "iptables-restore", "--test")
	cmd.Stdin = bytes.NewReader(src)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("iptables-restore --test: %v\n%s", err, out)
	}
	// ip netns exec runs iptables-restore as its child and waits: the
	// children's CPU time is iptables-restore's (ip's own is negligible).
	restoreCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuSelf()
	for b.Loop() {
		if _, ds := ReadBytes(src, "bench.v4", Options{}); ds.HasErrors() {
			b.Fatal(ds)
		}
	}
	read := (cpuSelf() - start) / time.Duration(b.N)
	b.ReportMetric(float64(read.Microseconds())/1000, "read-cpu-ms/op")
	b.ReportMetric(float64(restoreCPU.Microseconds())/1000, "restore-test-cpu-ms")
	b.ReportMetric(float64(read)/float64(restoreCPU), "cpu-ratio")
}

// BenchmarkRead50k reads a generated 50,000-rule iptables-save text.
func BenchmarkRead50k(b *testing.B) { benchRead(b, corpus.GenSave(50000)) }

// BenchmarkReadGFW reads the 8,453-rule gfw-list-redirect.v4 of the shared
// corpus, a machine-generated ruleset of another author, when the corpus is
// beside the repository.
func BenchmarkReadGFW(b *testing.B) {
	src, err := os.ReadFile("../../../shared/corpus/rulesets/iptables/gfw-list-redirect.v4")
	if err != nil {
		b.Skip("shared corpus not beside the repository")
	}
	benchRead(b, src)
}
