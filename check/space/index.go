package space

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
)

// index finds, among the cubes of a chain's rules, those that meet a query
// cube. Per dimension it keeps the intervals of the cubes that restrict that
// dimension in a static interval tree (an array sorted by Lo, read as a
// balanced tree, each node knowing the largest Hi below it), plus the cubes
// that leave the dimension whole. A query picks the dimension with the
// fewest candidates, counted exactly in O(log n) from two sorted arrays, and
// enumerates the tree's hits; the cubes whole in that dimension are searched
// through a child index over them alone that excludes the dimension, built
// on first use. The depth is at most NDim, so a query costs
// O(NDim² log n + k log n) for k candidates, and a cube is in at most as many
// indexes as there are distinct paths that queries take, a handful in
// practice.
type index struct {
	cubes []entry // shared by the root and its children
	stamp []uint32
	gen   uint32
	root  *subIndex
}

// entry is one cube of the rules that share a geometry: rules holds, in
// chain order, every rule whose indexed region is the same as the first's
// (see geometryKey). Policies repeat rules (a blocklist drop in every
// section, say); the later copies are covered by the first that decides, so
// a query needs one of them, not all: without the grouping every rule that
// meets the copies would meet each of them, and the walk would be quadratic
// in the number of copies.
type entry struct {
	rules []int
	cube  *Cube
}

// leafSize is the size under which a set of cubes is scanned, not indexed.
// A variable so that tests can make small policies use the trees.
var leafSize = 24

type subIndex struct {
	members  []int32 // entries of this index
	excluded [NDim]bool
	dims     [NDim]*dimIndex
	child    [NDim]*subIndex
}

type dimIndex struct {
	ivs   []ivEntry // sorted by Lo
	maxHi []u128    // maxHi[i]: largest Hi in the subtree whose root is i
	minE  []int32   // minE[i]: smallest entry in the subtree whose root is i
	his   []u128    // every Hi, sorted
	whole []int32   // entries that do not restrict this dimension
}

type ivEntry struct {
	iv
	e int32
}

func newIndex(s *Space, rules []*ruleInfo) *index {
	x := &index{}
	groups := map[string][]int{} // geometry key -> entries of its first rule
	for _, r := range rules {
		if r == nil {
			continue
		}
		key, ok := geometryKey(r)
		if ok {
			if es, seen := groups[key]; seen {
				for _, e := range es {
					x.cubes[e].rules = append(x.cubes[e].rules, r.pos)
				}
				continue
			}
		}
		var es []int
		for i := range r.indexed {
			es = append(es, len(x.cubes))
			x.cubes = append(x.cubes, entry{[]int{r.pos}, &r.indexed[i]})
		}
		if ok {
			groups[key] = es
		}
	}
	x.stamp = make([]uint32, len(x.cubes))
	all := make([]int32, len(x.cubes))
	for i := range all {
		all[i] = int32(i)
	}
	x.root = x.newSub(s, all, [NDim]bool{})
	return x
}

func (x *index) newSub(s *Space, members []int32, excluded [NDim]bool) *subIndex {
	si := &subIndex{members: members, excluded: excluded}
	if len(members) <= leafSize {
		return si
	}
	for d := range NDim {
		if excluded[d] {
			continue
		}
		// A dimension that few members restrict is not worth an index:
		// its "whole" child would be the same set again.
		restricting := 0
		for _, e := range members {
			if !s.IsFull(x.cubes[e].cube, Dim(d)) {
				restricting++
			}
		}
		if restricting < len(members)/8 {
			continue
		}
		di := &dimIndex{}
		si.dims[d] = di
		for _, e := range members {
			c := x.cubes[e].cube
			if s.IsFull(c, Dim(d)) {
				di.whole = append(di.whole, e)
				continue
			}
			for _, v := range c[d] {
				di.ivs = append(di.ivs, ivEntry{v, e})
				di.his = append(di.his, v.Hi)
			}
		}
		slices.SortFunc(di.ivs, func(a, b ivEntry) int { return a.Lo.Cmp(b.Lo) })
		slices.SortFunc(di.his, func(a, b u128) int { return a.Cmp(b) })
		di.maxHi = make([]u128, len(di.ivs))
		di.minE = make([]int32, len(di.ivs))
		di.build(0, len(di.ivs))
	}
	return si
}

func (di *dimIndex) build(l, r int) (u128, int32) {
	if l >= r {
		return u128{}, math.MaxInt32
	}
	m := (l + r) / 2
	h, e := di.ivs[m].Hi, di.ivs[m].e
	a, ea := di.build(l, m)
	b, eb := di.build(m+1, r)
	if h.Less(a) {
		h = a
	}
	if h.Less(b) {
		h = b
	}
	e = min(e, ea, eb)
	di.maxHi[m], di.minE[m] = h, e
	return h, e
}

// count returns how many intervals meet [a, b].
func (di *dimIndex) count(a, b u128) int {
	loLE, _ := slices.BinarySearchFunc(di.ivs, b, func(x ivEntry, b u128) int {
		if b.Less(x.Lo) {
			return 1
		}
		return -1
	})
	hiLT, _ := slices.BinarySearchFunc(di.his, a, func(x u128, a u128) int {
		if x.Less(a) {
			return -1
		}
		return 1
	})
	return loLE - hiLT
}

// visit calls f for the entries below eHi whose intervals meet [a, b].
func (di *dimIndex) visit(l, r int, a, b u128, eHi int32, f func(int32)) {
	for l < r {
		m := (l + r) / 2
		if di.maxHi[m].Less(a) || di.minE[m] >= eHi {
			return
		}
		di.visit(l, m, a, b, eHi, f)
		if b.Less(di.ivs[m].Lo) {
			return
		}
		if !di.ivs[m].Hi.Less(a) && di.ivs[m].e < eHi {
			f(di.ivs[m].e)
		}
		l = m + 1
	}
}

// geometryKey identifies the packets a rule is indexed by and judged on in
// every context. Jumps (indexed by a cut of their region) and rules that
// match marks (judged on another region once a mark may have changed) keep
// an entry of their own.
func geometryKey(r *ruleInfo) (string, bool) {
	if r.kind == actJump || r.usesMark {
		return "", false
	}
	var b []byte
	for k := range r.indexed {
		for d := range NDim {
			for _, v := range r.indexed[k][d] {
				b = binary.LittleEndian.AppendUint64(b, v.Lo.Hi)
				b = binary.LittleEndian.AppendUint64(b, v.Lo.Lo)
				b = binary.LittleEndian.AppendUint64(b, v.Hi.Hi)
				b = binary.LittleEndian.AppendUint64(b, v.Hi.Lo)
			}
			b = append(b, 0xff) // ends the dimension
		}
		b = append(b, 0xfe) // ends the cube
	}
	return string(b), true
}

// query calls f for each indexed cube that meets q, once per cube, in no
// particular order, with the first rule of the cube's group that lies in
// [lo, hi) and that keep accepts (cubes with none are skipped). Callers
// may take that rule for the whole group: every later rule of the group
// matches the same packets after it.
func (x *index) query(s *Space, q *Cube, lo, hi int, keep func(int) bool, f func(rule int, c *Cube)) {
	x.gen++
	if x.gen == 0 {
		clear(x.stamp)
		x.gen = 1
	}
	emit := func(e int32) {
		if x.stamp[e] == x.gen {
			return
		}
		x.stamp[e] = x.gen
		en := &x.cubes[e]
		if en.rules[0] >= hi || en.rules[len(en.rules)-1] < lo || !en.cube.Intersects(q) {
			return
		}
		k := 0
		if lo > en.rules[0] {
			k, _ = slices.BinarySearch(en.rules, lo)
		}
		for ; k < len(en.rules) && en.rules[k] < hi; k++ {
			if keep(en.rules[k]) {
				f(en.rules[k], en.cube)
				return
			}
		}
	}
	// Entries are numbered in the order of their first rules, so the
	// entries before hi are a prefix, which the trees below prune by.
	eHi, _ := slices.BinarySearchFunc(x.cubes, hi, func(en entry, hi int) int { return cmp.Compare(en.rules[0], hi) })
	x.root.query(x, s, q, int32(eHi), emit)
}

func (si *subIndex) query(x *index, s *Space, q *Cube, eHi int32, emit func(int32)) {
	best, bestN := -1, len(si.members)+1
	if len(si.members) > leafSize {
		for d := range NDim {
			if si.dims[d] == nil || s.IsFull(q, Dim(d)) {
				continue
			}
			di := si.dims[d]
			n := min(len(di.whole), leafSize)
			for _, v := range q[d] {
				n += di.count(v.Lo, v.Hi)
				if n >= bestN {
					break
				}
			}
			if n < bestN {
				best, bestN = int(d), n
			}
		}
	}
	if best < 0 {
		scan(si.members, eHi, emit)
		return
	}
	di := si.dims[best]
	for _, v := range q[best] {
		di.visit(0, len(di.ivs), v.Lo, v.Hi, eHi, emit)
	}
	if len(di.whole) <= leafSize {
		scan(di.whole, eHi, emit)
		return
	}
	if si.child[best] == nil {
		ex := si.excluded
		ex[best] = true
		si.child[best] = x.newSub(s, di.whole, ex)
	}
	si.child[best].query(x, s, q, eHi, emit)
}

// scan emits the entries of es, which is sorted, below eHi.
func scan(es []int32, eHi int32, emit func(int32)) {
	for _, e := range es {
		if e >= eHi {
			return
		}
		emit(e)
	}
}
