package equiv_test

import (
	"math/rand/v2"
	"testing"

	"github.com/fwcproject/fwc/equiv"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// TestAlignmentExact: evaluating only the regions of the rules outside
// the alignment of the two rule lists finds exactly the packets that an
// evaluation of every hook over the whole packet space finds, for random
// policies after random rewrites and edits.
func TestAlignmentExact(t *testing.T) {
	for seed := range uint64(120) {
		r := rand.New(rand.NewPCG(seed, 11))
		p := genPolicy(r, 3+r.IntN(10), seed%2 == 0)
		q := p.clone()
		q.preserve(r, r.IntN(5))
		for range 1 + r.IntN(2) {
			i := r.IntN(len(q.rules))
			switch r.IntN(3) {
			case 0:
				q.rules[i].verdict = map[string]string{"accept": "drop", "drop": "accept"}[q.rules[i].verdict]
			case 1:
				q.rules[i].ports = nil
			default:
				j := r.IntN(len(q.rules))
				q.rules[i], q.rules[j] = q.rules[j], q.rules[i]
			}
		}
		srcP, _ := p.render()
		srcQ, _ := q.render()
		old, new := program(t, "old.fw", srcP), program(t, "new.fw", srcQ)
		aligned := equiv.Compare(old, new, equiv.Options{})
		*equiv.AlignRules = false
		whole := equiv.Compare(old, new, equiv.Options{})
		*equiv.AlignRules = true
		a, w := byHook(aligned), byHook(whole)
		for k := range merge(a, w) {
			s := sem.SpaceOf(k.v6)
			if x := missing(s, w[k], a[k]); x != nil {
				t.Fatalf("seed %d: %s: the whole evaluation finds %s, the aligned one does not:\n%s--- new\n%s",
					seed, k.hook, equiv.Words(x.pt, policy.Hook(k.hook)), srcP, srcQ)
			}
			if x := missing(s, a[k], w[k]); x != nil {
				t.Fatalf("seed %d: %s: the aligned evaluation finds %s, the whole one does not", seed, k.hook, equiv.Words(x.pt, policy.Hook(k.hook)))
			}
		}
	}
}

type hookKey struct {
	v6   bool
	hook string
}

func byHook(r *equiv.Result) map[hookKey]sem.Region {
	out := map[hookKey]sem.Region{}
	for _, d := range r.Diffs {
		k := hookKey{d.V6, string(d.Hook)}
		out[k] = append(out[k], d.Class...)
	}
	return out
}

func merge(a, b map[hookKey]sem.Region) map[hookKey]bool {
	out := map[hookKey]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

type point struct{ pt sem.Point }

// missing returns a packet of a outside b, or nil.
func missing(s *sem.Space, a, b sem.Region) *point {
	for i := range a {
		if rest := s.SubtractAll(a[i], sem.CubePtrs(b), nil); len(rest) > 0 {
			pt := sem.Point{V6: s.V6}
			for d := range sem.NDim {
				pt.F[d] = rest[0][d].Min()
			}
			return &point{pt}
		}
	}
	return nil
}
