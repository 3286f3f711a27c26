package hygiene_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/hygiene"
)

func TestTestdata(t *testing.T) {
	for _, dir := range []string{"bare", "healthy", "zones", "partial", "accept", "family", "reject"} {
		t.Run(dir, func(t *testing.T) { analysistest.Run(t, "testdata/"+dir, hygiene.Analyzer) })
	}
}

// TestIP6tablesOnly: the families are judged against what the named
// backends carry.
func TestIP6tablesOnly(t *testing.T) {
	analysistest.RunOptions(t, "testdata/ip6only", analysis.Options{Backends: []string{"ip6tables"}}, hygiene.Analyzer)
}

// TestIPtablesOnly: iptables alone carries no IPv6, so neighbour discovery
// is not asked for.
func TestIPtablesOnly(t *testing.T) {
	analysistest.RunOptions(t, "testdata/v4backend", analysis.Options{Backends: []string{"iptables"}}, hygiene.Analyzer)
}
