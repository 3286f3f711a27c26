package sem

import "slices"

// Interval is the closed interval [Lo, Hi].
type Interval struct{ Lo, Hi U128 }

// Intervals is a set of points as sorted, disjoint, non-adjacent closed
// intervals. Values are immutable once built: operations return new slices
// (or share an operand when the result equals it), so cubes can share them.
type Intervals []Interval

func Single(v U128) Intervals    { return Intervals{{v, v}} }
func Span(lo, hi U128) Intervals { return Intervals{{lo, hi}} }
func (s Intervals) Empty() bool  { return len(s) == 0 }
func (s Intervals) Min() U128    { return s[0].Lo }
func (s Intervals) Has(v U128) bool {
	i, _ := slices.BinarySearchFunc(s, v, func(x Interval, v U128) int {
		if x.Hi.Less(v) {
			return -1
		}
		if v.Less(x.Lo) {
			return 1
		}
		return 0
	})
	return i < len(s) && !v.Less(s[i].Lo) && !s[i].Hi.Less(v)
}

// normalize sorts and merges overlapping or adjacent intervals in place.
func Normalize(s []Interval) Intervals {
	if len(s) == 0 {
		return nil
	}
	slices.SortFunc(s, func(a, b Interval) int { return a.Lo.Cmp(b.Lo) })
	out := s[:1]
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		if !last.Hi.Less(x.Lo) || last.Hi.Inc() == x.Lo && last.Hi != (U128{^uint64(0), ^uint64(0)}) {
			if last.Hi.Less(x.Hi) {
				last.Hi = x.Hi
			}
			continue
		}
		out = append(out, x)
	}
	return Intervals(out)
}

func (s Intervals) Intersects(t Intervals) bool {
	i, j := 0, 0
	for i < len(s) && j < len(t) {
		if s[i].Hi.Less(t[j].Lo) {
			i++
		} else if t[j].Hi.Less(s[i].Lo) {
			j++
		} else {
			return true
		}
	}
	return false
}

func (s Intervals) Intersect(t Intervals) Intervals {
	if len(s) == 1 && len(t) == 1 {
		lo, hi := s[0].Lo, s[0].Hi
		if lo.Less(t[0].Lo) {
			lo = t[0].Lo
		}
		if t[0].Hi.Less(hi) {
			hi = t[0].Hi
		}
		if hi.Less(lo) {
			return nil
		}
		if lo == s[0].Lo && hi == s[0].Hi {
			return s
		}
		if lo == t[0].Lo && hi == t[0].Hi {
			return t
		}
		return Intervals{{lo, hi}}
	}
	var out Intervals
	i, j := 0, 0
	for i < len(s) && j < len(t) {
		lo, hi := s[i].Lo, s[i].Hi
		if lo.Less(t[j].Lo) {
			lo = t[j].Lo
		}
		if t[j].Hi.Less(hi) {
			hi = t[j].Hi
		}
		if !hi.Less(lo) {
			out = append(out, Interval{lo, hi})
		}
		if s[i].Hi.Less(t[j].Hi) {
			i++
		} else {
			j++
		}
	}
	return out
}

// subset reports whether s ⊆ t.
func (s Intervals) Subset(t Intervals) bool {
	j := 0
	for _, x := range s {
		for j < len(t) && t[j].Hi.Less(x.Lo) {
			j++
		}
		if j == len(t) || x.Lo.Less(t[j].Lo) || t[j].Hi.Less(x.Hi) {
			return false
		}
	}
	return true
}

// minus returns s \ t.
func (s Intervals) Minus(t Intervals) Intervals {
	if !s.Intersects(t) {
		return s
	}
	var out Intervals
	j := 0
	for _, x := range s {
		lo := x.Lo
		done := false
		for j < len(t) && t[j].Hi.Less(lo) {
			j++
		}
		for k := j; k < len(t) && !x.Hi.Less(t[k].Lo); k++ {
			if lo.Less(t[k].Lo) {
				out = append(out, Interval{lo, t[k].Lo.Dec()})
			}
			if !t[k].Hi.Less(x.Hi) {
				done = true
				break
			}
			lo = t[k].Hi.Inc()
		}
		if !done {
			out = append(out, Interval{lo, x.Hi})
		}
	}
	return out
}
