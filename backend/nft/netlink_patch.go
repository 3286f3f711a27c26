package nft

import (
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

var (
	newSetType     = netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWSET)
	newSetElemType = netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWSETELEM)
)

// patch adjusts m, as google/nftables v0.3.0 encoded it, when it creates or
// fills one of the anonymous sets of b:
//
//   - a set keyed in host byte order (interface names, numgen maps) is
//     marked so. google/nftables writes "key byte order: big endian" into
//     the userdata of every anonymous or constant set and has no way to say
//     otherwise. The kernel does not read that userdata, but nft does when
//     it lists the ruleset: an interface-name set would list as { "", "" }
//     and a numgen map's keys 1, 2 as 16777216, 33554432. The fix is one
//     32-bit value inside the userdata.
//   - a set-element message loses its set name and keeps the set ID. The
//     kernel looks a set up by name first, walking every set of the table,
//     and by ID only when that fails; the ID lookup starts from the sets
//     added last, where this one is. With thousands of anonymous sets the
//     name walk is a cost that grows with the square of their number (nft
//     sends the template name "__set%d", which never matches, and pays
//     the walk and the ID lookup).
func (b *builder) patch(m *netlink.Message) error {
	if len(b.anon) == 0 || (m.Header.Type != newSetType && m.Header.Type != newSetElemType) {
		return nil
	}
	data := m.Data
	var userdata []byte
	id, hasID := uint32(0), false
	nameOff, nameLen := -1, 0
	idAttr := uint16(unix.NFTA_SET_ID)
	if m.Header.Type == newSetElemType {
		idAttr = unix.NFTA_SET_ELEM_LIST_SET_ID
	}
	// The payload is a 4-byte nfgenmsg, then attributes; the set name is
	// attribute 2 (NFTA_SET_NAME, NFTA_SET_ELEM_LIST_SET) in both.
	for off := 4; off+4 <= len(data); {
		l := int(binary.NativeEndian.Uint16(data[off:]))
		typ := binary.NativeEndian.Uint16(data[off+2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if l < 4 || off+l > len(data) {
			return fmt.Errorf("malformed attribute in a set message")
		}
		alen := (l + 3) &^ 3
		switch {
		case typ == idAttr:
			if l == 8 {
				id, hasID = binary.BigEndian.Uint32(data[off+4:]), true
			}
		case typ == unix.NFTA_SET_NAME:
			nameOff, nameLen = off, min(alen, len(data)-off)
		case typ == unix.NFTA_SET_USERDATA && m.Header.Type == newSetType:
			userdata = data[off+4 : off+l]
		}
		off += alen
	}
	if !hasID {
		return nil
	}
	hostOrder, ok := b.anon[id]
	if !ok {
		return nil
	}
	if m.Header.Type == newSetElemType {
		if nameOff >= 0 {
			m.Data = append(data[:nameOff], data[nameOff+nameLen:]...)
		}
		return nil
	}
	if !hostOrder {
		return nil
	}
	// TLV: type NFTNL_UDATA_SET_KEYBYTEORDER (0), length 4, value as
	// google/nftables' userdata package writes it.
	if len(userdata) < 6 || userdata[0] != 0 || userdata[1] != 4 {
		return fmt.Errorf("anonymous set %d has no key byte order to mark", id)
	}
	binary.LittleEndian.PutUint32(userdata[2:], 1) // host endian, in nft's terms
	return nil
}
