package correlated_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/correlated"
)

// examples are the example packets the findings of testdata/witness.fw
// must give, by line: only the fields the two rules restrict.
var examples = map[int]string{
	11: "For example tcp saddr 198.51.100.66 dport 22 matches both",
	13: "For example tcp saddr 2001:db8:1::66 dport 22 matches both",
	17: `For example iif "eth0" mark 0x101 matches both`,
	22: `For example tcp saddr 203.0.113.7 dport 2222 iif "eth1" matches both`,
}

func TestTestdata(t *testing.T) {
	ds := analysistest.Run(t, "testdata", correlated.Analyzer)
	for _, d := range ds {
		if d.Code != correlated.CodeCorrelated {
			continue
		}
		if d.Detail == "" {
			t.Errorf("%s: no example packet in the detail", d.Subject)
		}
		if want, ok := examples[d.Subject.Start.Line]; ok && d.Subject.Filename == "testdata/witness.fw" {
			if len(d.Detail) < len(want) || d.Detail[:len(want)] != want {
				t.Errorf("%s: detail %q, want it to start %q", d.Subject, d.Detail, want)
			}
		}
	}
}
