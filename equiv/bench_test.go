package equiv_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/fwcproject/fwc/equiv"
	"github.com/fwcproject/fwc/internal/polgen"
)

// BenchmarkCompare measures Compare on two policies of n generated rules:
// "edited" is the policy against itself with a rule's port changed and
// two rules swapped (a review of a change), "unrelated" two policies of
// different seeds (everything differs).
func BenchmarkCompare(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		src := polgen.Policy(n, 1)
		old := program(b, "old.fw", string(src))
		edited := editSource(src)
		new := program(b, "new.fw", string(edited))
		b.Run(fmt.Sprintf("rules=%d/edited", n), func(b *testing.B) {
			for b.Loop() {
				if equiv.Compare(old, new, equiv.Options{}).Equivalent() {
					b.Fatal("no difference found")
				}
			}
		})
		other := program(b, "other.fw", string(polgen.Policy(n, 2)))
		b.Run(fmt.Sprintf("rules=%d/unrelated", n), func(b *testing.B) {
			for b.Loop() {
				equiv.Compare(old, other, equiv.Options{})
			}
		})
	}
}

// editSource changes the policy in the middle: the port of the first
// "tcp dport" rule after the half, and swaps the two lines after it.
func editSource(src []byte) []byte {
	lines := bytes.Split(src, []byte("\n"))
	mid := len(lines) / 2
	for i := mid; i < len(lines)-3; i++ {
		if bytes.Contains(lines[i], []byte("tcp dport ")) && !bytes.Contains(lines[i], []byte("@")) && !bytes.Contains(lines[i], []byte("!=")) && bytes.HasPrefix(lines[i], []byte("from")) {
			lines[i] = bytes.Replace(lines[i], []byte("tcp dport "), []byte("tcp dport 1, "), 1)
			lines[i+1], lines[i+2] = lines[i+2], lines[i+1]
			break
		}
	}
	return bytes.Join(lines, []byte("\n"))
}
