package equiv_test

import (
	"math/rand/v2"
	"testing"

	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/equiv"
	"github.com/fwcproject/fwc/policy"
)

// TestRewritesEquivalent: a policy against itself after random
// meaning-preserving rewrites (independent rules reordered, rules split
// and merged, lists written as named sets, zones and sets renamed, a
// dual-stack rule split by family) has no difference.
func TestRewritesEquivalent(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		p := genPolicy(r, 4+r.IntN(12), seed%2 == 0)
		q := p.clone()
		did := q.preserve(r, 1+r.IntN(8))
		srcP, _ := p.render()
		srcQ, _ := q.render()
		res := equiv.Compare(program(t, "old.fw", srcP), program(t, "new.fw", srcQ), equiv.Options{})
		if !res.Equivalent() {
			t.Fatalf("seed %d: rewrites %v made a difference:\n%s\n--- old\n%s--- new\n%s", seed, did, render(res), srcP, srcQ)
		}
	}
}

// TestFlipIsLive: flipping one rule's verdict changes the meaning exactly
// when some packet reaches the rule, which the lint engine (check/space)
// decides on its own: diff finds a difference iff the rule is live there,
// and every class it reports holds the flipped rule on one side.
func TestFlipIsLive(t *testing.T) {
	differ := 0
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 8))
		p := genPolicy(r, 3+r.IntN(10), seed%2 == 1)
		q := p.clone()
		i := r.IntN(len(q.rules))
		q.rules[i].verdict = map[string]string{"accept": "drop", "drop": "accept"}[q.rules[i].verdict]
		srcP, _ := p.render()
		srcQ, lines := q.render()
		old, new := program(t, "old.fw", srcP), program(t, "new.fw", srcQ)
		res := equiv.Compare(old, new, equiv.Options{})
		live := false
		facts := space.Analyze(new)
		for _, f := range facts.All() {
			if f.Rule.Src.Span().Start.Line == lines[i] && !f.Dead() {
				live = true
			}
		}
		if live == res.Equivalent() {
			t.Fatalf("seed %d: rule %d (line %d) live=%v but equivalent=%v:\n%s\n--- new\n%s", seed, i, lines[i], live, res.Equivalent(), render(res), srcQ)
		}
		for _, d := range res.Diffs {
			differ++
			if !hasLine(d.New.Rules, lines[i]) {
				t.Fatalf("seed %d: class %s does not name the flipped rule (line %d) on the new side:\n%s", seed, d.Describe(), lines[i], srcQ)
			}
		}
	}
	if differ == 0 {
		t.Fatal("no flip made a difference")
	}
}

func hasLine(rs []*policy.Rule, line int) bool {
	for _, r := range rs {
		if r.Src.Span().Start.Line == line {
			return true
		}
	}
	return false
}
