package irfixture_test

import (
	"testing"

	"github.com/fwcproject/fwc/internal/irfixture"
)

// TestFixturesLower: every fixture checks and lowers without a diagnostic,
// into rules (a fixture the checker emptied would test nothing).
func TestFixturesLower(t *testing.T) {
	for name, src := range map[string]string{
		"host.fw":   irfixture.Host,
		"string.fw": irfixture.StringMatch,
		"gen.fw":    irfixture.Generated(50),
		"block.fw":  irfixture.PerAddress(10),
	} {
		rs := irfixture.Lower(t, name, src)
		n := 0
		for _, tb := range rs.Tables {
			for _, c := range tb.Chains {
				n += len(c.Rules)
			}
		}
		if n == 0 {
			t.Errorf("%s: no rules", name)
		}
	}
}
