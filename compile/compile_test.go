package compile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/check"
)

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p.fw")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLower: one policy is checked and lowered, and its syntax trees are
// let go (Units[0] is nil afterwards), so that the backends that follow do
// not run with them in memory.
func TestLower(t *testing.T) {
	l, ds := Load([]string{write(t, "zone lan { iface eth1 }\nfrom lan to self tcp dport 22 accept\n")}, LoadOptions{})
	if len(ds) != 0 || len(l.Units) != 1 {
		t.Fatalf("load: %v, %d units", ds, len(l.Units))
	}
	low, ds := Lower(l, check.Options{Backends: []string{"nft"}, ErrorsOnly: true})
	if ds.HasErrors() || low.Ruleset == nil {
		t.Fatalf("lower: %v", ds)
	}
	if l.Units[0] != nil {
		t.Error("the syntax trees are still held after lowering")
	}
	n := 0
	for _, tb := range low.Ruleset.Tables {
		for _, c := range tb.Chains {
			n += len(c.Rules)
		}
	}
	if n == 0 {
		t.Error("the lowered ruleset has no rules")
	}
}

// TestLowerErrors: a policy with errors is not lowered.
func TestLowerErrors(t *testing.T) {
	l, _ := Load([]string{write(t, "from lna to self accept\n")}, LoadOptions{})
	low, ds := Lower(l, check.Options{})
	if !ds.HasErrors() {
		t.Fatalf("no error for an unknown zone: %v", ds)
	}
	if low.Ruleset != nil {
		t.Error("a policy with errors was lowered")
	}
}
