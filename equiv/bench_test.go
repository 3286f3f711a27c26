package equiv_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/fwcproject/fwc/equiv"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
)

// BenchmarkCompare measures Compare on two policies of n generated rules,
// from two independent generators (internal/polgen, internal/sitegen):
// "edited" is the policy against itself with a rule's port changed and
// two rules swapped (a review of a change), "unrelated" two policies of
// different seeds (everything differs).
func BenchmarkCompare(b *testing.B) {
	for _, gen := range []struct {
		name   string
		policy func(int, uint64) []byte
		// unrelated caps the size of the unrelated pair: sitegen's
		// policies of two seeds differ in every base chain, and the
		// evaluation of whole hooks fragments (300 rules take seconds).
		unrelated int
	}{{"polgen", polgen.Policy, 10000}, {"sitegen", sitegen.Policy, 300}} {
		b.Run(gen.name, func(b *testing.B) { benchCompare(b, gen.policy, gen.unrelated) })
	}
}

func benchCompare(b *testing.B, policy func(int, uint64) []byte, unrelated int) {
	for _, n := range []int{300, 1000, 10000} {
		src := policy(n, 1)
		old := program(b, "old.fw", string(src))
		edited := editSource(src)
		new := program(b, "new.fw", string(edited))
		b.Run(fmt.Sprintf("rules=%d/edited", n), func(b *testing.B) {
			for b.Loop() {
				// The edit may hit a rule no packet reaches: any answer.
				equiv.Compare(old, new, equiv.Options{})
			}
		})
		if n > unrelated {
			continue
		}
		other := program(b, "other.fw", string(policy(n, 2)))
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
