package space

// Index finds, among a list of regions, those that meet a query cube: the
// chain index the walker uses (index.go), for later stages that walk a
// chain themselves (package equiv evaluates a chain piece by piece and
// asks, for each piece, which rules can match it).
type Index struct {
	s *Space
	x *index
}

// NewIndex indexes regions[i] as position i. Positions whose decides[i] is
// true and whose regions are equal are grouped: a query meets the group once
// and reports its first position in the asked range, which is right only
// when such a rule takes every packet it matches out of the chain (an exact
// terminal rule), since a later copy then never sees a packet. A nil
// region is left out.
func NewIndex(s *Space, regions []Region, decides []bool) *Index {
	rules := make([]*ruleInfo, len(regions))
	for i, r := range regions {
		if r == nil {
			continue
		}
		ri := &ruleInfo{pos: i, indexed: r, region: r, loose: r, exact: true, kind: actVerdict}
		if !decides[i] {
			ri.kind = actJump // not grouped: see geometryKey
		}
		rules[i] = ri
	}
	return &Index{s: s, x: newIndex(s, rules)}
}

// Query calls f once for each position in [lo, hi) whose region meets q
// (of a group of equal deciding regions, only the first such position), in
// no particular order.
func (ix *Index) Query(q *Cube, lo, hi int, f func(pos int)) {
	ix.x.query(ix.s, q, lo, hi, func(int) bool { return true }, func(j int, _ *Cube) { f(j) })
}
