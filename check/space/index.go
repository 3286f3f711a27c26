package space

import (
	"slices"
)

// index finds, among the cubes of a chain's rules, those that meet a query
// cube. Per dimension it keeps the intervals of the cubes that restrict that
// dimension in a static interval tree (an array sorted by Lo, read as a
// balanced tree, each node knowing the largest Hi below it), plus the list
// of cubes that leave the dimension whole. A query picks the dimension with
// the fewest candidates, counted exactly in O(log n) from two sorted
// arrays, and enumerates only those: O(NDim log n + k log n) for k
// candidates.
type index struct {
	cubes []entry
	dims  [NDim]dimIndex
	stamp []uint32
	gen   uint32
}

type entry struct {
	rule int // position in the chain
	cube *Cube
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
		for i := range r.loose {
			x.cubes = append(x.cubes, entry{r.pos, &r.loose[i]})
		}
	}
	x.stamp = make([]uint32, len(x.cubes))
	for d := range NDim {
		di := &x.dims[d]
		for e, en := range x.cubes {
			if s.IsFull(en.cube, Dim(d)) {
				di.whole = append(di.whole, int32(e))
				continue
			}
			for _, v := range en.cube[d] {
				di.ivs = append(di.ivs, ivEntry{v, int32(e)})
				di.his = append(di.his, v.Hi)
			}
		}
		slices.SortFunc(di.ivs, func(a, b ivEntry) int { return a.Lo.cmp(b.Lo) })
		slices.SortFunc(di.his, func(a, b u128) int { return a.cmp(b) })
		di.maxHi = make([]u128, len(di.ivs))
		di.build(0, len(di.ivs))
	}
	return x
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
	best, bestN := -1, len(x.cubes)+1
	for d := range NDim {
		if s.IsFull(q, Dim(d)) {
			continue
		}
		di := &x.dims[d]
		n := len(di.whole)
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
	if best < 0 {
		for e := range x.cubes {
			emit(int32(e))
		}
		return
	}
	di := &x.dims[best]
	for _, v := range q[best] {
		di.visit(0, len(di.ivs), v.Lo, v.Hi, emit)
	}
	for _, e := range di.whole {
		emit(e)
	}
}
