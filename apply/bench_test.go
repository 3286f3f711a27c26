package apply

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/rss"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// BenchmarkApply is what `fwc apply` does once the policy is compiled:
// encode the batch (in the background, as Want.Encode), read the state,
// plan, commit the batch, check the outcome and record it in the cache;
// against `nft -f` of the same policy's script (including
// starting nft), in one run, on polgen's policies:
//
//   - fresh: no fwc table and no record (both removed, timer stopped,
//     before every iteration);
//   - replace: the table and record of the previous apply are there; fwc
//     alternates between the policy and a copy with one rule changed, so
//     every apply replaces the table; nft -f reloads the script over the
//     table it loaded;
//   - unchanged: fwc applies the policy it applied last, which reads the
//     generation and writes nothing.
//
// apply-rss-KiB is what the apply adds to the process's RSS at its peak
// (the policy compiled beforehand is not counted); nft-maxrss-KiB is nft's
// peak RSS.
func BenchmarkApply(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	testnetns.RequireTools(b, "nft", "ip")
	for _, n := range []int{10000, 50000} {
		dir := b.TempDir()
		path := filepath.Join(dir, "policy.fw")
		src := string(polgen.Policy(n, 1))
		changed := strings.Replace(src, "\t\ttcp dport 22 accept\n", "\t\ttcp dport 2222 accept\n", 1)
		if changed == src {
			b.Fatal("polgen's policy lacks the rule the benchmark changes")
		}
		// Both versions from the same path: rule comments carry it.
		var ws []*Want
		for _, s := range []string{src, changed} {
			if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
				b.Fatal(err)
			}
			ws = append(ws, compilePath(b, path))
		}
		script := filepath.Join(dir, "policy.nft")
		if err := os.WriteFile(script, ws[0].Script, 0o644); err != nil {
			b.Fatal(err)
		}

		for _, start := range []string{"fresh", "replace", "unchanged"} {
			b.Run(fmt.Sprintf("rules=%d/%s/fwc", n, start), func(b *testing.B) {
				ns := testnetns.New(b)
				h := openHost(b, ns)
				h.Cache = b.TempDir()
				if start != "fresh" {
					mustApply(b, h, ws[0], Options{})
				}
				var peak int64
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					b.StopTimer()
					if start == "fresh" {
						testnetns.Run(b, ns, "nft", "flush", "ruleset")
						if err := os.RemoveAll(h.Cache); err != nil {
							b.Fatal(err)
						}
					}
					w := ws[0]
					if start == "replace" {
						i++
						w = ws[i%2]
					}
					w = NewWant(w.Ruleset, w.Script, w.Routes) // nothing encoded yet
					before := must(rss.ResetPeak())
					b.StartTimer()
					w.Encode()
					p := plan(b, h, w)
					if p.Empty() != (start == "unchanged") {
						b.Fatalf("%s: plan empty %v", start, p.Empty())
					}
					if out, err := Apply(h, p, Options{}); out != batch.Applied {
						b.Fatal(out, err)
					}
					b.StopTimer()
					peak = max(peak, must(rss.Status("VmHWM"))-before)
					b.StartTimer()
				}
				b.ReportMetric(float64(peak), "apply-rss-KiB")
			})
			if start == "unchanged" {
				continue
			}
			b.Run(fmt.Sprintf("rules=%d/%s/nft-f", n, start), func(b *testing.B) {
				ns := testnetns.New(b)
				if start == "replace" {
					testnetns.LoadNft(b, ns, script)
				}
				var maxrss int64
				for b.Loop() {
					if start == "fresh" {
						b.StopTimer()
						testnetns.Run(b, ns, "nft", "flush", "ruleset")
						b.StartTimer()
					}
					maxrss = max(maxrss, testnetns.LoadNft(b, ns, script))
				}
				b.ReportMetric(float64(maxrss), "nft-maxrss-KiB")
			})
		}
	}
}
