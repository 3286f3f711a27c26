package batch_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// BenchmarkCommit loads a table of n rules ("ip saddr A tcp dport P accept")
// with Commit, replacing the previous one each iteration. Building the rules
// with the google/nftables API is part of the measured time.
func BenchmarkCommit(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			_, c := openNS(b)
			build := buildRules("fwc", n, -1)
			for b.Loop() {
				if out, err := c.Commit(0, build); out != batch.Applied {
					b.Fatal(out, err)
				}
			}
			b.StopTimer()
			if got := countRules(b, c, "fwc"); got != n {
				b.Fatalf("%d rules loaded, want %d", got, n)
			}
		})
	}
}

// BenchmarkNftFile loads the same ruleset as BenchmarkCommit with
// `ip netns exec NS nft -f FILE` (so it includes starting nft).
func BenchmarkNftFile(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			ns := testnetns.New(b)
			file := filepath.Join(b.TempDir(), "rules.nft")
			if err := os.WriteFile(file, []byte(rulesText("fwc", n)), 0o644); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				testnetns.Run(b, ns, "nft", "-f", file)
			}
		})
	}
}

// BenchmarkCapture measures the Go side of BenchmarkCommit alone: building
// the rules with google/nftables and capturing the encoded messages.
func BenchmarkCapture(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			build := buildRules("fwc", n, -1)
			for b.Loop() {
				if _, err := batch.Capture(build); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
