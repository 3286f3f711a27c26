package nft_test

import (
	"github.com/fwcproject/fwc/internal/irfixture"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/ir"
)

func BenchmarkText50k(b *testing.B) {
	p := irfixture.Program(b, "gen.fw", irfixture.Generated(50000))
	b.ReportAllocs()
	for b.Loop() {
		rs, _ := ir.Lower(p)
		if _, ds := nft.Text(rs); len(ds) > 0 {
			b.Fatal(ds)
		}
	}
}

// TestPerAddressCollapses: 10k rules, one per source address, become a
// handful of set or verdict-map lookups, and nft accepts the result.
func TestPerAddressCollapses(t *testing.T) {
	t.Parallel()
	rs := irfixture.Lower(t, "block.fw", irfixture.PerAddress(10000))
	n := nft.RuleCount(rs)
	t.Logf("10000 per-address rules -> %d nft rules", n)
	if n > 10 {
		t.Errorf("%d rules emitted, want at most 10", n)
	}
	ns := testnetns.New(t)
	out, _ := nft.Text(rs)
	if o, err := testnetns.Feed(ns, out, "nft", "-c", "-f", "-"); err != nil {
		t.Fatalf("nft -c: %v\n%.2000s", err, o)
	}
}

func BenchmarkPerAddress10k(b *testing.B) {
	p := irfixture.Program(b, "block.fw", irfixture.PerAddress(10000))
	b.ReportAllocs()
	for b.Loop() {
		rs, _ := ir.Lower(p)
		nft.Text(rs)
	}
}
