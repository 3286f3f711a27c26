package sem

// SubtractAll returns q minus the union of cs as disjoint cubes, in any
// order. The cubes that are narrower than q in only one dimension d are
// "slabs": together they remove the union of their d-sets from q[d] at once
// (q minus slabs in several dimensions is the product of the per-dimension
// differences), which keeps the common case, many rules that differ from
// the query in one field, at O(k log k) instead of splitting k times. The
// remaining cubes split q recursively (at most NDim pieces each), and the
// pieces are filtered again, so most of them become slabs.
//
// budget, when not nil, bounds the cube operations; when it runs out the
// remaining part is returned unsubtracted, which over-approximates the
// result (a caller that asks "is anything left?" then errs towards "yes").
func (s *Space) SubtractAll(q Cube, cs []*Cube, budget *int) Region {
	var out Region
	s.subtract(q, cs, budget, false, &out)
	return out
}

// AnyLeft reports whether q minus the union of cs holds a packet; it stops
// at the first piece found.
func (s *Space) AnyLeft(q Cube, cs []*Cube, budget *int) bool {
	var out Region
	s.subtract(q, cs, budget, true, &out)
	return len(out) > 0
}

func (s *Space) subtract(q Cube, cs []*Cube, budget *int, one bool, out *Region) {
	var slabs [NDim][]Interval
	var multi []*Cube
	for _, c := range cs {
		if budget != nil {
			if *budget <= 0 {
				*out = append(*out, q)
				return
			}
			*budget--
		}
		narrow, dim := 0, Dim(0)
		disjoint := false
		for d := range NDim {
			if q[d].Subset(c[d]) {
				continue
			}
			if !q[d].Intersects(c[d]) {
				disjoint = true
				break
			}
			narrow++
			dim = Dim(d)
		}
		switch {
		case disjoint:
		case narrow == 0:
			return // q ⊆ c
		case narrow == 1:
			slabs[dim] = append(slabs[dim], c[dim]...)
		default:
			multi = append(multi, c)
		}
	}
	for d := range NDim {
		if len(slabs[d]) == 0 {
			continue
		}
		q[d] = q[d].Minus(Normalize(slabs[d]))
		if q[d].Empty() {
			return
		}
	}
	if len(multi) == 0 {
		*out = append(*out, q)
		return
	}
	c, rest := multi[0], multi[1:]
	for _, p := range q.Minus(c) {
		s.subtract(p, rest, budget, one, out)
		if one && len(*out) > 0 {
			return
		}
	}
}

// witness looks for a packet of q outside every cube of cs cheaply: in
// each dimension it picks a value of q that the cubes narrowing that
// dimension leave out, if there is one, and checks the resulting point
// against all cubes. A true answer is certain; false means "don't know".
// It settles most live rules at O(k log k) whatever their overlaps.
func (s *Space) Witness(q *Cube, cs []*Cube) bool {
	var p [NDim]U128
	for d := range NDim {
		var used []Interval
		for _, c := range cs {
			if !q[d].Subset(c[d]) {
				used = append(used, c[d]...)
			}
		}
		free := q[d]
		if len(used) > 0 {
			free = q[d].Minus(Normalize(used))
		}
		if free.Empty() {
			free = q[d]
		}
		p[d] = free.Min()
	}
	for _, c := range cs {
		in := true
		for d := range NDim {
			if !c[d].Has(p[d]) {
				in = false
				break
			}
		}
		if in {
			return false
		}
	}
	return true
}
