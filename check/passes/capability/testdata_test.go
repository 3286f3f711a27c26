package capability_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/capability"
)

func TestTestdataNft(t *testing.T) {
	analysistest.RunOptions(t, "testdata/nft", analysis.Options{Backends: []string{"nft"}}, capability.Analyzer)
}

func TestTestdataIptables(t *testing.T) {
	analysistest.RunOptions(t, "testdata/iptables", analysis.Options{Backends: []string{"iptables", "ip6tables"}}, capability.Analyzer)
}
