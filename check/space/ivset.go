package space

import "slices"

// iv is the closed interval [Lo, Hi].
type iv struct{ Lo, Hi u128 }

// ivs is a set of points as sorted, disjoint, non-adjacent closed
// intervals. Values are immutable once built: operations return new slices
// (or share an operand when the result equals it), so cubes can share them.
type ivs []iv

func point(v u128) ivs     { return ivs{{v, v}} }
func span(lo, hi u128) ivs { return ivs{{lo, hi}} }
func (s ivs) empty() bool  { return len(s) == 0 }
func (s ivs) min() u128    { return s[0].Lo }
func (s ivs) has(v u128) bool {
	i, _ := slices.BinarySearchFunc(s, v, func(x iv, v u128) int {
		if x.Hi.less(v) {
			return -1
		}
		if v.less(x.Lo) {
			return 1
		}
		return 0
	})
	return i < len(s) && !v.less(s[i].Lo) && !s[i].Hi.less(v)
}

// normalize sorts and merges overlapping or adjacent intervals in place.
func normalize(s []iv) ivs {
	if len(s) == 0 {
		return nil
	}
	slices.SortFunc(s, func(a, b iv) int { return a.Lo.cmp(b.Lo) })
	out := s[:1]
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		if !last.Hi.less(x.Lo) || last.Hi.inc() == x.Lo && last.Hi != (u128{^uint64(0), ^uint64(0)}) {
			if last.Hi.less(x.Hi) {
				last.Hi = x.Hi
			}
			continue
		}
		out = append(out, x)
	}
	return ivs(out)
}

func (s ivs) intersects(t ivs) bool {
	i, j := 0, 0
	for i < len(s) && j < len(t) {
		if s[i].Hi.less(t[j].Lo) {
			i++
		} else if t[j].Hi.less(s[i].Lo) {
			j++
		} else {
			return true
		}
	}
	return false
}

func (s ivs) intersect(t ivs) ivs {
	if len(s) == 1 && len(t) == 1 {
		lo, hi := s[0].Lo, s[0].Hi
		if lo.less(t[0].Lo) {
			lo = t[0].Lo
		}
		if t[0].Hi.less(hi) {
			hi = t[0].Hi
		}
		if hi.less(lo) {
			return nil
		}
		if lo == s[0].Lo && hi == s[0].Hi {
			return s
		}
		if lo == t[0].Lo && hi == t[0].Hi {
			return t
		}
		return ivs{{lo, hi}}
	}
	var out ivs
	i, j := 0, 0
	for i < len(s) && j < len(t) {
		lo, hi := s[i].Lo, s[i].Hi
		if lo.less(t[j].Lo) {
			lo = t[j].Lo
		}
		if t[j].Hi.less(hi) {
			hi = t[j].Hi
		}
		if !hi.less(lo) {
			out = append(out, iv{lo, hi})
		}
		if s[i].Hi.less(t[j].Hi) {
			i++
		} else {
			j++
		}
	}
	return out
}

// subset reports whether s ⊆ t.
func (s ivs) subset(t ivs) bool {
	j := 0
	for _, x := range s {
		for j < len(t) && t[j].Hi.less(x.Lo) {
			j++
		}
		if j == len(t) || x.Lo.less(t[j].Lo) || t[j].Hi.less(x.Hi) {
			return false
		}
	}
	return true
}

// minus returns s \ t.
func (s ivs) minus(t ivs) ivs {
	if !s.intersects(t) {
		return s
	}
	var out ivs
	j := 0
	for _, x := range s {
		lo := x.Lo
		done := false
		for j < len(t) && t[j].Hi.less(lo) {
			j++
		}
		for k := j; k < len(t) && !x.Hi.less(t[k].Lo); k++ {
			if lo.less(t[k].Lo) {
				out = append(out, iv{lo, t[k].Lo.dec()})
			}
			if !t[k].Hi.less(x.Hi) {
				done = true
				break
			}
			lo = t[k].Hi.inc()
		}
		if !done {
			out = append(out, iv{lo, x.Hi})
		}
	}
	return out
}
