package nft_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestBuildMarkSets loads lookups in sets of marks (meta and ct mark,
// negated, an empty set) with nft -f and as a netlink batch, and compares
// what the kernel holds.
func TestBuildMarkSets(t *testing.T) {
	testnetns.Require(t)
	src := filepath.Join(t.TempDir(), "marks.fw")
	policy := `set marks : mark { elements { 0x1, 0x2 } }
set none : mark { }
table filter {
	chain input policy accept {
		tcp dport 1 mark @marks drop
		tcp dport 2 ct mark @marks drop
		tcp dport 3 mark != @marks drop
		tcp dport 4 ct mark != @none drop
	}
}
`
	if err := os.WriteFile(src, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	differential(t, lower(t, loadExample(t, src)))
}
