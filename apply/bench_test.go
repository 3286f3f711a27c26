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
	"github.com/fwcproject/fwc/internal/sitegen"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/internal/versus"
)

// BenchmarkApply is what `fwc apply` does once the policy is compiled:
// encode the batch (in the background, as Want.Encode), read the state,
// plan, commit the batch, check the outcome and record it in the cache;
// against `nft -f` of the same policy's script (including starting nft),
// on polgen's policies. Each iteration runs both, one after the other,
// each in its own namespace, so that both see the same machine; fwc-s/op
// and nft-s/op are their times and ratio is fwc's over nft's (ns/op is
// their sum).
//
//   - fresh: no fwc table and no record (both removed, timer stopped,
//     before every iteration);
//   - replace: the table and record of the previous apply are there, but
//     not the record of its rules' handles; fwc alternates between the
//     policy and a copy with one rule changed, so every apply replaces
//     the table; nft -f reloads the script over the table it loaded;
//   - unchanged (fwc alone): fwc applies the policy it applied last, which
//     reads the generation and writes nothing.
//
// fwc-rss-KiB is what the apply adds to the process's RSS at its peak (the
// policy compiled beforehand is not counted); nft-maxrss-KiB is nft's peak.
//
// polgen's sub-benchmarks keep the names they had ("rules=10000/fresh");
// internal/sitegen's are "sitegen-rules=10000/fresh".
func BenchmarkApply(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	testnetns.RequireTools(b, "nft", "ip")
	generated(b, benchApply)
}

// generated runs bench on polgen's and internal/sitegen's policies of 10k
// and 50k statements (seed 1); prefix names the generator in the
// sub-benchmarks ("" for polgen, "sitegen-").
func generated(b *testing.B, bench func(b *testing.B, prefix, policy string, n int)) {
	for _, g := range []struct {
		prefix string
		policy func(n int, seed uint64) []byte
	}{{"", polgen.Policy}, {"sitegen-", sitegen.Policy}} {
		for _, n := range []int{10000, 50000} {
			bench(b, g.prefix, string(g.policy(n, 1)), n)
		}
	}
}

// benchApply is BenchmarkApply on one policy of n rules.
func benchApply(b *testing.B, prefix, src string, n int) {
	dir := b.TempDir()
	path := filepath.Join(dir, "policy.fw")
	changed := strings.Replace(src, "\t\ttcp dport 22 accept\n", "\t\ttcp dport 2222 accept\n", 1)
	if changed == src {
		b.Fatal("the generated policy lacks the rule the benchmark changes")
	}
	// Both versions from the same path (rule comments name the file).
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
		b.Run(fmt.Sprintf("%srules=%d/%s", prefix, n, start), func(b *testing.B) {
			ns := testnetns.New(b)
			h := openHost(b, ns)
			h.Cache = b.TempDir()
			nsNft := ""
			if start != "unchanged" {
				nsNft = testnetns.New(b)
			}
			if start != "fresh" {
				mustApply(b, h, ws[0], Options{})
				if nsNft != "" {
					testnetns.LoadNft(b, nsNft, script)
				}
			}
			var pair versus.Pair
			var peak, nftPeak int64
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				switch start {
				case "fresh":
					testnetns.Flush(b, ns, nsNft)
					if err := os.RemoveAll(h.Cache); err != nil {
						b.Fatal(err)
					}
				case "replace":
					// Without the record of handles, the changed rule
					// replaces the whole table (BenchmarkIncremental
					// measures the incremental apply).
					if err := os.Remove(h.handlesPath()); err != nil && !os.IsNotExist(err) {
						b.Fatal(err)
					}
				}
				i++
				w := ws[0]
				if start == "replace" {
					w = ws[i%2]
				}
				w = NewWant(w.Ruleset, w.Script, w.Routes) // nothing encoded yet
				before := must(rss.ResetPeak())
				b.StartTimer()
				pair.Fwc(func() {
					w.Encode()
					p := plan(b, h, w)
					if p.Empty() != (start == "unchanged") {
						b.Fatalf("%s: plan empty %v", start, p.Empty())
					}
					if out, err := Apply(h, p, Options{}); out != batch.Applied {
						b.Fatal(out, err)
					}
				})
				b.StopTimer()
				peak = max(peak, must(rss.Status("VmHWM"))-before)
				b.StartTimer()
				if nsNft != "" {
					pair.Nft(func() { nftPeak = max(nftPeak, testnetns.LoadNft(b, nsNft, script)) })
				}
			}
			pair.Report(b)
			b.ReportMetric(float64(peak), "fwc-rss-KiB")
			if nsNft != "" {
				b.ReportMetric(float64(nftPeak), "nft-maxrss-KiB")
			}
		})
	}
}
