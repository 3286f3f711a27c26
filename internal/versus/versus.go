// Package versus times the two sides of a benchmark that compares fwc
// with nft -f in the same iterations, one after the other, so that both
// see the same machine, and reports both times and their ratio.
package versus

import (
	"testing"
	"time"
)

// Pair accumulates the time of each side over a benchmark's iterations.
type Pair struct {
	fwc, nft time.Duration
	runs     int
}

// Fwc runs and times fwc's side of one iteration.
func (p *Pair) Fwc(f func()) {
	t := time.Now()
	f()
	p.fwc += time.Since(t)
	p.runs++
}

// Nft runs and times nft's side of one iteration.
func (p *Pair) Nft(f func()) {
	t := time.Now()
	f()
	p.nft += time.Since(t)
}

// Report adds fwc-s/op, and when nft ran, nft-s/op and ratio (fwc's time
// over nft's), to b's results.
func (p *Pair) Report(b *testing.B) {
	if p.runs == 0 {
		return
	}
	b.ReportMetric(p.fwc.Seconds()/float64(p.runs), "fwc-s/op")
	if p.nft > 0 {
		b.ReportMetric(p.nft.Seconds()/float64(p.runs), "nft-s/op")
		b.ReportMetric(float64(p.fwc)/float64(p.nft), "ratio")
	}
}
