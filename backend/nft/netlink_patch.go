package nft

import (
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// markHostOrder marks m, when it creates one of the anonymous sets in ids,
// as keyed in host byte order, the way nft marks interface-name sets and
// numgen maps.
//
// google/nftables v0.3.0 writes "key byte order: big endian" into the
// userdata of every anonymous or constant set and has no way to say
// otherwise. The kernel does not read that userdata, but nft does when it
// lists the ruleset: an interface-name set would list as { "", "" } and a
// numgen map's keys 1, 2 as 16777216, 33554432. So the encoded message is
// adjusted here, before it is sent: one 32-bit value inside the userdata.
func markHostOrder(m *netlink.Message, ids map[uint32]bool) error {
	if len(ids) == 0 || m.Header.Type != netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_NEWSET) {
		return nil
	}
	data := m.Data
	var userdata []byte
	id, hasID := uint32(0), false
	// The payload is a 4-byte nfgenmsg, then attributes.
	for off := 4; off+4 <= len(data); {
		l := int(binary.NativeEndian.Uint16(data[off:]))
		typ := binary.NativeEndian.Uint16(data[off+2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if l < 4 || off+l > len(data) {
			return fmt.Errorf("malformed attribute in a new-set message")
		}
		switch typ {
		case unix.NFTA_SET_ID:
			if l == 8 {
				id, hasID = binary.BigEndian.Uint32(data[off+4:]), true
			}
		case unix.NFTA_SET_USERDATA:
			userdata = data[off+4 : off+l]
		}
		off += (l + 3) &^ 3
	}
	if !hasID || !ids[id] {
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
