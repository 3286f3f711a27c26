package lang

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDocBlocksFormatted: every ```fw block of the documentation is already
// in fwc fmt's layout, so that a reader who copies one and runs fwc fmt
// sees no change, and the docs teach the layout fmt enforces.
func TestDocBlocksFormatted(t *testing.T) {
	n := 0
	for _, path := range []string{"../docs/language.md", "../README.md"} {
		for _, b := range docBlocks(t, path) {
			n++
			name := fmt.Sprintf("%s:%d", path, b.line)
			f, ds := ParseFile(name, []byte(b.src))
			if len(ds) > 0 {
				continue // TestLanguageDoc reports it
			}
			if got := string(Format(f)); got != b.src {
				t.Errorf("%s: the block is not in fwc fmt layout (-doc +fmt):\n%s", name, cmp.Diff(b.src, got))
			}
		}
	}
	if n < 16 {
		t.Fatalf("found %d ```fw blocks; expected the reference's examples and the README's", n)
	}
}
