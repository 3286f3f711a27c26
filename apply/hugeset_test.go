package apply

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/rss"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/internal/versus"
)

// bigSetPolicy is a policy with one named set of n IPv4 addresses
// (10.0.0.1 on) and a rule using it.
func bigSetPolicy(n int) (string, []string) {
	var b strings.Builder
	b.WriteString("set big : ipv4_addr {\n\telements {\n")
	addrs := make([]string, n)
	a := netip.MustParseAddr("10.0.0.1")
	for i := range n {
		addrs[i] = a.String()
		sep := ",\n"
		if i == n-1 {
			sep = "\n"
		}
		fmt.Fprintf(&b, "\t\t%s%s", a, sep)
		a = a.Next()
	}
	b.WriteString("\t}\n}\n\ntable filter {\n\tchain input policy accept {\n\t}\n}\n\nfrom any to self saddr @big drop\n")
	return b.String(), addrs
}

// TestHugeSetNoReadBack applies a policy whose set holds more elements
// than maxFingerprintElements: the apply does not read the table back to
// fingerprint it (the record has no fingerprint), and nft's own listing of
// the set holds every element.
func TestHugeSetNoReadBack(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	n := maxFingerprintElements * 5
	src, addrs := bigSetPolicy(n)
	w := compileSrc(t, src)
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	h.Cache = t.TempDir()
	mustApply(t, h, w, Options{})

	data, err := os.ReadFile(h.appliedPath())
	if err != nil {
		t.Fatal(err)
	}
	var a applied
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint != "" || a.Static != "" {
		t.Fatalf("the apply of a set of %d elements fingerprinted the table (read it back)", n)
	}

	// nft's JSON listing, independent of fwc's reading code. Right after
	// a large load the kernel may still be growing the set's hash table,
	// and a dump taken meanwhile repeats some elements and skips others
	// (backend/nft/batch's package documentation): a listing with
	// repeats or with fewer elements is taken again, a bounded number of
	// times (elements really missing fail the test all the same).
	list := func() (have map[string]bool, repeats int) {
		var out struct {
			Nftables []struct {
				Set *struct {
					Name string `json:"name"`
					Elem []any  `json:"elem"`
				} `json:"set"`
			} `json:"nftables"`
		}
		if err := json.Unmarshal([]byte(testnetns.Run(t, ns, "nft", "-j", "list", "set", "inet", "fwc", "big")), &out); err != nil {
			t.Fatal(err)
		}
		have = map[string]bool{}
		for _, o := range out.Nftables {
			if o.Set == nil || o.Set.Name != "big" {
				continue
			}
			for _, e := range o.Set.Elem {
				if s, ok := e.(string); ok {
					if have[s] {
						repeats++
					}
					have[s] = true
				}
			}
		}
		return have, repeats
	}
	have, repeats := list()
	for try := 1; (repeats > 0 || len(have) != n) && try < 50; try++ {
		have, repeats = list()
	}
	missing := 0
	for _, a := range addrs {
		if !have[a] {
			missing++
		}
	}
	if missing > 0 || len(have) != n {
		t.Fatalf("nft lists %d elements (%d repeated), %d of the %d declared missing", len(have), repeats, missing, n)
	}
	mustBeEmpty(t, h, w)
}

// BenchmarkHugeSet is BenchmarkApply's "fresh" case for a policy of one
// set of a million IPv4 addresses (and one rule using it): what `fwc
// apply` does once the policy is compiled (plan, encode, commit,
// record), against `nft -f` of the same policy's script, each in its own
// namespace, one after the other in each iteration. fwc-rss-KiB is what
// the apply adds to the process's peak RSS (the compiled policy not
// counted); nft-maxrss-KiB is nft's peak.
func BenchmarkHugeSet(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	testnetns.RequireTools(b, "nft", "ip")
	src, _ := bigSetPolicy(1 << 20)
	w0 := compileSrc(b, src)
	script := filepath.Join(b.TempDir(), "policy.nft")
	if err := os.WriteFile(script, w0.Script, 0o644); err != nil {
		b.Fatal(err)
	}
	ns, nsNft := testnetns.New(b), testnetns.New(b)
	h := openHost(b, ns)
	var pair versus.Pair
	var peak, nftPeak int64
	for b.Loop() {
		b.StopTimer()
		testnetns.Flush(b, ns, nsNft)
		h.Cache = b.TempDir()
		w := &Want{Ruleset: w0.Ruleset, Script: w0.Script, Sum: w0.Sum, Routes: w0.Routes, Routing: w0.Routing, nft: w0.nft}
		runtime.GC()
		before := must(rss.ResetPeak())
		b.StartTimer()
		pair.Fwc(func() {
			w.Encode()
			if out, err := Apply(h, plan(b, h, w), Options{}); out != batch.Applied {
				b.Fatal(out, err)
			}
		})
		b.StopTimer()
		peak = max(peak, must(rss.Status("VmHWM"))-before)
		b.StartTimer()
		pair.Nft(func() { nftPeak = max(nftPeak, testnetns.LoadNft(b, nsNft, script)) })
	}
	pair.Report(b)
	b.ReportMetric(float64(peak), "fwc-rss-KiB")
	b.ReportMetric(float64(nftPeak), "nft-maxrss-KiB")
}
