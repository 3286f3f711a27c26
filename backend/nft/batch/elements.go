package batch

import (
	"github.com/google/nftables"
)

// maxElemListBytes bounds the encoded element list of one set-element
// message. The list is one netlink attribute, whose length field is 16 bits:
// google/nftables v0.3.0 does not check it, and a longer list wraps the
// length and loads only part of the elements, without an error. The margin
// leaves room for the attribute headers around the list.
const maxElemListBytes = 60000

// AddSetElements queues the elements for s on c, split into as many
// set-element messages as needed so that each one fits (see
// maxElemListBytes). Use it instead of c.SetAddElements, and pass no
// elements to c.AddSet, which has the same limit. The messages travel in the
// same batch, so the set is loaded completely or not at all.
func AddSetElements(c *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	for len(elems) > 0 {
		n, size := 0, 0
		for n < len(elems) {
			sz := elemSize(s, &elems[n])
			if n > 0 && size+sz > maxElemListBytes {
				break
			}
			size += sz
			n++
		}
		if err := c.SetAddElements(s, elems[:n]); err != nil {
			return err
		}
		elems = elems[n:]
	}
	return nil
}

// elemSize is an upper bound on the encoded size of one element as
// google/nftables v0.3.0 encodes it (set.go, makeElemList).
func elemSize(s *nftables.Set, e *nftables.SetElement) int {
	align := func(n int) int { return (n + 3) &^ 3 }
	attr := func(payload int) int { return 4 + align(payload) }
	size := attr(attr(len(e.Key))) // NFTA_SET_ELEM_KEY{NFTA_DATA_VALUE}
	if e.IntervalEnd {
		size += attr(4)
	}
	if len(e.KeyEnd) > 0 {
		size += attr(attr(len(e.KeyEnd)))
	}
	if s.HasTimeout && e.Timeout != 0 {
		size += attr(8)
	}
	switch {
	case e.VerdictData != nil:
		size += attr(attr(attr(4) + attr(len(e.VerdictData.Chain)+1)))
	case len(e.Val) > 0:
		size += attr(attr(len(e.Val)))
	}
	if len(e.Comment) > 0 {
		size += attr(2 + len(e.Comment) + 1)
	}
	return attr(size) // the element's own nest
}

// ResetTable queues "add table; delete table; add table" for t, which leaves
// an empty table t whether or not it existed before (a plain DelTable fails
// the whole batch when the table is missing). Everything queued after it
// defines the table's whole content. It returns t.
func ResetTable(c *nftables.Conn, t *nftables.Table) *nftables.Table {
	c.AddTable(t)
	c.DelTable(t)
	return c.AddTable(t)
}
