package space

import (
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

type entry struct {
	rule int // position in the chain
	cube *Cube
}

// leafSize is the size under which a set of cubes is scanned, not indexed.
const leafSize = 24

type subIndex struct {
	members  []int32 // entries of this index
	excluded [NDim]bool
	dims     [NDim]*dimIndex
	child    [NDim]*subIndex
}

type dimIndex struct {
	ivs   []ivEntry // sorted by Lo
	maxHi []u128    // maxHi[i]: largest Hi in the subtree whose root is i
	his   []u128    // every Hi, sorted
	whole []int32   // entries that do not restrict this dimension
}

type ivEntry struct {
	iv
	e int32
}

func newIndex(s *Space, rules []*ruleInfo) *index {
	x := &index{}
	for _, r := range rules {
		if r == nil {
			continue
		}
		for i := range r.indexed {
			x.cubes = append(x.cubes, entry{r.pos, &r.indexed[i]})
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
		slices.SortFunc(di.ivs, func(a, b ivEntry) int { return a.Lo.cmp(b.Lo) })
		slices.SortFunc(di.his, func(a, b u128) int { return a.cmp(b) })
		di.maxHi = make([]u128, len(di.ivs))
		di.build(0, len(di.ivs))
	}
	return si
}

func (di *dimIndex) build(l, r int) u128 {
	if l >= r {
		return u128{}
	}
	m := (l + r) / 2
	h := di.ivs[m].Hi
	if a := di.build(l, m); h.less(a) {
		h = a
	}
	if b := di.build(m+1, r); h.less(b) {
		h = b
	}
	di.maxHi[m] = h
	return h
}

// count returns how many intervals meet [a, b].
func (di *dimIndex) count(a, b u128) int {
	loLE, _ := slices.BinarySearchFunc(di.ivs, b, func(x ivEntry, b u128) int {
		if b.less(x.Lo) {
			return 1
		}
		return -1
	})
	hiLT, _ := slices.BinarySearchFunc(di.his, a, func(x u128, a u128) int {
		if x.less(a) {
			return -1
		}
		return 1
	})
	return loLE - hiLT
}

func (di *dimIndex) visit(l, r int, a, b u128, f func(int32)) {
	for l < r {
		m := (l + r) / 2
		if di.maxHi[m].less(a) {
			return
		}
		di.visit(l, m, a, b, f)
		if b.less(di.ivs[m].Lo) {
			return
		}
		if !di.ivs[m].Hi.less(a) {
			f(di.ivs[m].e)
		}
		l = m + 1
	}
}

// query calls f for each indexed cube that meets q, once per cube, in no
// particular order.
func (x *index) query(s *Space, q *Cube, f func(entry)) {
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
		if en := x.cubes[e]; en.cube.intersects(q) {
			f(en)
		}
	}
	x.root.query(x, s, q, emit)
}

func (si *subIndex) query(x *index, s *Space, q *Cube, emit func(int32)) {
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
		for _, e := range si.members {
			emit(e)
		}
		return
	}
	di := si.dims[best]
	for _, v := range q[best] {
		di.visit(0, len(di.ivs), v.Lo, v.Hi, emit)
	}
	if len(di.whole) <= leafSize {
		for _, e := range di.whole {
			emit(e)
		}
		return
	}
	if si.child[best] == nil {
		ex := si.excluded
		ex[best] = true
		si.child[best] = x.newSub(s, di.whole, ex)
	}
	si.child[best].query(x, s, q, emit)
}
