package batch

import (
	"encoding/binary"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
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

// ElementMessages returns the messages that add elements, each a list of
// NFTA_SET_ELEM_* attributes as SetElements reads them, to the set named
// set of the inet table table, split so that each element list fits in
// one attribute (see maxElemListBytes). It is how elements read from the
// kernel go back into a batch unchanged (their flags, timeouts, remaining
// lifetimes and expressions included). The messages carry no NLM_F_EXCL:
// an element the batch already adds is no error.
func ElementMessages(table, set string, elems [][]byte) []netlink.Message {
	var out []netlink.Message
	for len(elems) > 0 {
		var list []byte
		n := 0
		for n < len(elems) {
			sz := 4 + (len(elems[n])+3)&^3
			if n > 0 && len(list)+sz > maxElemListBytes {
				break
			}
			list = appendAttr(list, unix.NLA_F_NESTED|unix.NFTA_LIST_ELEM, elems[n])
			n++
		}
		elems = elems[n:]
		data := nfgenmsg(unix.NFPROTO_INET, 0)
		data = append(data, strAttr(unix.NFTA_SET_ELEM_LIST_TABLE, table)...)
		data = append(data, strAttr(unix.NFTA_SET_ELEM_LIST_SET, set)...)
		data = appendAttr(data, unix.NLA_F_NESTED|unix.NFTA_SET_ELEM_LIST_ELEMENTS, list)
		out = append(out, netlink.Message{
			Header: netlink.Header{
				Type:  netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWSETELEM),
				Flags: netlink.Request | netlink.Create,
			},
			Data: data,
		})
	}
	return out
}

// appendAttr appends one netlink attribute, padded to 4 bytes.
func appendAttr(b []byte, typ uint16, payload []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(payload)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// DeleteElementMessages returns the messages that delete elements (each
// a list of NFTA_SET_ELEM_* attributes, the key at least) from the set
// named set of the inet table table, split as ElementMessages splits.
func DeleteElementMessages(table, set string, elems [][]byte) []netlink.Message {
	out := ElementMessages(table, set, elems)
	for i := range out {
		out[i].Header.Type = netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_DELSETELEM)
		out[i].Header.Flags = netlink.Request
	}
	return out
}
