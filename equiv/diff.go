package equiv

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// Difference is one class of packets that the two policies treat
// differently on one hook of one family.
type Difference struct {
	V6   bool
	Hook policy.Hook
	// Class is the packets of the class, as disjoint cubes of the
	// packet space (coordinates as the packets enter the hook).
	Class sem.Region
	// Witness is one packet of the class.
	Witness sem.Point
	// Old and New are what each policy does with the class.
	Old, New Outcome
}

// Family returns "ipv4" or "ipv6".
func (d *Difference) Family() string {
	if d.V6 {
		return "ipv6"
	}
	return "ipv4"
}

// Result is the semantic difference of two policies.
type Result struct {
	// Diffs are the classes, by family (IPv4 first), then hook in kernel
	// order, then in the order the old policy's rules meet them.
	Diffs []*Difference
	// ifaces are interface names the policies mention, to pick a
	// witness's interface a reader recognises.
	ifaces []string
}

// Equivalent reports whether no packet is treated differently.
func (r *Result) Equivalent() bool { return len(r.Diffs) == 0 }

// Options select what Compare compares.
type Options struct {
	// Families are the address families compared; 0 means both. (A
	// ruleset imported from rules.v4 says nothing of IPv6.)
	Families policy.Family
}

// Compare returns the packets that old and new treat differently: on each
// hook of each family, the classes of packets whose outcome (final verdict,
// NAT and mark changes) differs, each with a witness. An outcome that
// depends on conditions fwc does not model is compared under each answer
// they can take (see Outcome.Guards).
func Compare(old, new *policy.Program, opts Options) *Result {
	seed := maphash.MakeSeed()
	mo, mn := models(old, seed), models(new, seed)
	res := &Result{ifaces: ifaceNames(old, new)}
	fams := opts.Families
	if fams == 0 {
		fams = policy.Both
	}
	for _, v6 := range []bool{false, true} {
		if v6 && fams&policy.IPv6 == 0 || !v6 && fams&policy.IPv4 == 0 {
			continue
		}
		for _, h := range hooks {
			id := hookID{v6, h}
			res.Diffs = append(res.Diffs, diffHook(mo[id], mn[id], res.ifaces)...)
		}
	}
	return res
}

func ifaceNames(ps ...*policy.Program) []string {
	var out []string
	for _, p := range ps {
		for _, z := range p.Zones {
			for _, i := range z.Ifaces {
				if !i.Wildcard {
					out = append(out, i.Name)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// item is one element of a hook's rule list for the alignment: a rule, or
// the start of a base chain (region nil).
type item struct {
	key    uint64
	region sem.Region
}

// items lists hm's base chains and their rules in order.
func items(hm *hookModel, seed maphash.Seed) []item {
	var out []item
	for _, cm := range hm.chains {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString("chain\x00" + cm.ch.Table.Name + "\x00" + cm.policy)
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(int64(cm.ch.Priority)))
		h.Write(b[:])
		out = append(out, item{key: h.Sum64()})
		for _, ru := range cm.rules {
			if ru == nil {
				continue
			}
			reg := ru.region
			if ru.usesMark {
				// Once a mark may have been rewritten, the rule matches
				// packets outside its region in entry coordinates.
				reg = nil
				for _, c := range ru.region {
					c[sem.Mark], c[sem.CtMark] = hm.s.Full()[sem.Mark], hm.s.Full()[sem.CtMark]
					reg = append(reg, c)
				}
			}
			out = append(out, item{key: ru.key, region: reg})
		}
	}
	return out
}

// diffHook compares one hook. Only packets that some rule outside a common
// subsequence of the two rule lists matches can be treated differently: a
// packet that matches only common rules matches the same ones, in the same
// order, in both, so it meets the same first match in every chain and the
// same effects before it. The hook is therefore evaluated, in both
// policies, only on the regions of the rules not in the alignment (or
// everywhere when the base chains themselves differ).
func diffHook(a, b *hookModel, ifaces []string) []*Difference {
	seed := maphash.MakeSeed()
	ia, ib := items(a, seed), items(b, seed)
	ua, ub := align(ia, ib)
	var cubes sem.Region
	whole := false
	for _, side := range []struct {
		its []item
		un  []int
	}{{ia, ua}, {ib, ub}} {
		for _, i := range side.un {
			if side.its[i].region == nil {
				whole = true
			}
			for _, c := range side.its[i].region {
				if x, ok := c.Intersect(&a.domain); ok {
					cubes = append(cubes, x)
				}
			}
		}
	}
	if whole || !alignRules {
		cubes = sem.Region{a.domain}
	}
	if len(cubes) == 0 {
		return nil
	}
	pieces := disjoint(a.s, cubes)
	ev := &evaluator{s: a.s}
	var out []*Difference
	byKey := map[string]*Difference{}
	for _, p := range pieces {
		var lo, ln []leaf
		ev.hook(a, p, func(c sem.Cube, o Outcome) { lo = append(lo, leaf{c, o}) })
		ev.hook(b, p, func(c sem.Cube, o Outcome) { ln = append(ln, leaf{c, o}) })
		pairs(a.s, lo, ln, func(x sem.Cube, o, n *leaf) {
			if o.o.key() == n.o.key() || !consistent(&o.o, &n.o) {
				return
			}
			k := o.o.key() + "\x02" + rulesKey(&o.o) + "\x02" + n.o.key() + "\x02" + rulesKey(&n.o) +
				"\x02" + strings.Join(o.o.Guards, "\x01") + "\x02" + strings.Join(n.o.Guards, "\x01")
			if d := byKey[k]; d != nil {
				d.Class = append(d.Class, x)
				return
			}
			d := &Difference{V6: a.v6, Hook: a.hook, Class: sem.Region{x}, Old: o.o, New: n.o}
			byKey[k] = d
			out = append(out, d)
		})
	}
	for _, d := range out {
		d.Witness = witness(a.s, &d.Class[0], d.Hook, ifaces)
	}
	return out
}

// alignRules: evaluate only where unaligned rules match (see diffHook).
// Tests turn it off to check the result against an evaluation of the
// whole hook.
var alignRules = true

type leaf struct {
	c sem.Cube
	o Outcome
}

func rulesKey(o *Outcome) string {
	s := ""
	for _, r := range o.Rules {
		s += fmt.Sprintf("%p,", r)
	}
	if o.Policy != nil {
		s += fmt.Sprintf("policy %p", o.Policy)
	}
	return s
}

// pairs calls f for every non-empty intersection of a leaf of lo with one
// of ln (two partitions of the same piece).
func pairs(s *sem.Space, lo, ln []leaf, f func(sem.Cube, *leaf, *leaf)) {
	if len(lo)*len(ln) <= 4096 {
		for i := range lo {
			for j := range ln {
				if !lo[i].c.Intersects(&ln[j].c) {
					continue
				}
				if x, ok := lo[i].c.Intersect(&ln[j].c); ok {
					f(x, &lo[i], &ln[j])
				}
			}
		}
		return
	}
	regions := make([]sem.Region, len(ln))
	decides := make([]bool, len(ln))
	for j := range ln {
		regions[j] = sem.Region{ln[j].c}
	}
	idx := space.NewIndex(s, regions, decides)
	for i := range lo {
		var js []int
		idx.Query(&lo[i].c, 0, len(ln), func(j int) { js = append(js, j) })
		slices.Sort(js)
		for _, j := range slices.Compact(js) {
			if x, ok := lo[i].c.Intersect(&ln[j].c); ok {
				f(x, &lo[i], &ln[j])
			}
		}
	}
}

// disjoint returns the union of cs as disjoint cubes. Equal cubes (a
// rule repeated, or a rule on both sides) are taken once, and wide cubes
// first, so that the narrow ones inside them vanish at the first cube
// their subtraction meets.
func disjoint(s *sem.Space, cs sem.Region) sem.Region {
	if len(cs) == 1 {
		return cs
	}
	seen := map[string]bool{}
	var uniq sem.Region
	for _, c := range cs {
		k := cubeKey(&c)
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, c)
		}
	}
	cs = uniq
	vols := make([]float64, len(cs))
	order := make([]int, len(cs))
	for i := range cs {
		vols[i], order[i] = volume(&cs[i]), i
	}
	sort.SliceStable(order, func(i, j int) bool { return vols[order[i]] > vols[order[j]] })
	sorted := make(sem.Region, len(cs))
	for i, k := range order {
		sorted[i] = cs[k]
	}
	cs = sorted
	regions := make([]sem.Region, len(cs))
	decides := make([]bool, len(cs))
	for i := range cs {
		regions[i] = sem.Region{cs[i]}
	}
	idx := space.NewIndex(s, regions, decides)
	var out sem.Region
	for i := range cs {
		var prev []*sem.Cube
		idx.Query(&cs[i], 0, i, func(j int) { prev = append(prev, &cs[j]) })
		out = append(out, s.SubtractAll(cs[i], prev, nil)...)
	}
	return out
}

// align returns the positions in a and in b of the items outside a common
// subsequence of the two lists (by key). The subsequence is found as
// patience diff does: the keys that occur once in each list anchor it (a
// longest increasing run of their positions), and equal items next to the
// anchors extend it. Any common subsequence is correct (see diffHook); a
// longer one only leaves less to evaluate.
func align(a, b []item) (ua, ub []int) {
	count := map[uint64][2]int{}
	posB := map[uint64]int{}
	for _, x := range a {
		c := count[x.key]
		c[0]++
		count[x.key] = c
	}
	for j, x := range b {
		c := count[x.key]
		c[1]++
		count[x.key] = c
		posB[x.key] = j
	}
	type pair struct{ i, j int }
	var ps []pair
	for i, x := range a {
		if c := count[x.key]; c[0] == 1 && c[1] == 1 {
			ps = append(ps, pair{i, posB[x.key]})
		}
	}
	// Longest increasing subsequence of j over ps (sorted by i).
	tails := []int{} // indexes into ps
	prev := make([]int, len(ps))
	for k, p := range ps {
		n := sort.Search(len(tails), func(t int) bool { return ps[tails[t]].j >= p.j })
		if n > 0 {
			prev[k] = tails[n-1]
		} else {
			prev[k] = -1
		}
		if n == len(tails) {
			tails = append(tails, k)
		} else {
			tails[n] = k
		}
	}
	var anchors []pair
	if len(tails) > 0 {
		for k := tails[len(tails)-1]; k >= 0; k = prev[k] {
			anchors = append(anchors, ps[k])
		}
		slices.Reverse(anchors)
	}
	matchedA := make([]bool, len(a))
	matchedB := make([]bool, len(b))
	// Between anchors (and before the first, after the last), match equal
	// items from both ends of the gap.
	ai, bj := 0, 0
	gap := func(ae, be int) {
		for ai < ae && bj < be && a[ai].key == b[bj].key {
			matchedA[ai], matchedB[bj] = true, true
			ai++
			bj++
		}
		for ae > ai && be > bj && a[ae-1].key == b[be-1].key {
			matchedA[ae-1], matchedB[be-1] = true, true
			ae--
			be--
		}
	}
	for _, p := range anchors {
		gap(p.i, p.j)
		matchedA[p.i], matchedB[p.j] = true, true
		ai, bj = p.i+1, p.j+1
	}
	gap(len(a), len(b))
	for i, m := range matchedA {
		if !m {
			ua = append(ua, i)
		}
	}
	for j, m := range matchedB {
		if !m {
			ub = append(ub, j)
		}
	}
	return ua, ub
}

// ruleAt returns "file:line" of r's source.
func ruleAt(r *policy.Rule) string {
	if r == nil || r.Src == nil {
		return "?"
	}
	sp := r.Src.Span()
	return fmt.Sprintf("%s:%d", sp.Filename, sp.Start.Line)
}

// volume is the logarithm of the number of points of c, to order cubes by
// size.
func volume(c *sem.Cube) float64 {
	v := 0.0
	for d := range sem.NDim {
		n := 0.0
		for _, iv := range c[d] {
			n += float64(iv.Hi.Hi)*math.Exp2(64) + float64(iv.Hi.Lo) - float64(iv.Lo.Hi)*math.Exp2(64) - float64(iv.Lo.Lo) + 1
		}
		v += math.Log2(n)
	}
	return v
}

func cubeKey(c *sem.Cube) string {
	var b []byte
	for d := range sem.NDim {
		for _, v := range c[d] {
			b = binary.LittleEndian.AppendUint64(b, v.Lo.Hi)
			b = binary.LittleEndian.AppendUint64(b, v.Lo.Lo)
			b = binary.LittleEndian.AppendUint64(b, v.Hi.Hi)
			b = binary.LittleEndian.AppendUint64(b, v.Hi.Lo)
		}
		b = append(b, 0xff)
	}
	return string(b)
}
