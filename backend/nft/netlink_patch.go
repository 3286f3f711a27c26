package nft

import (
	"encoding/binary"
	"errors"
	"reflect"
	"unsafe"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// hostOrderKey records the anonymous set just queued on c (by AddSet with
// no elements, so its NEWSET is the last message) as keyed in host byte
// order, as nft does for interface names and numgen keys.
//
// google/nftables v0.3.0 writes "key byte order: big endian" into the
// userdata of every anonymous or constant set, and has no way to say
// otherwise. The kernel does not read that userdata, but nft does when it
// lists the ruleset: an interface-name set would list as { "", "" } and a
// numgen map's keys 1, 2 as 16777216, 33554432. The queued message is only
// reachable through the Conn's unexported field, so this edits its bytes
// in place (one 32-bit value inside the userdata attribute), and fails
// rather than guesses if the Conn or the message is not as expected.
func hostOrderKey(c *nftables.Conn) error {
	f := reflect.ValueOf(c).Elem().FieldByName("messages")
	if !f.IsValid() || f.Type() != reflect.TypeOf([]netlink.Message(nil)) {
		return errors.New("google/nftables Conn has no message queue to fix up")
	}
	msgs := *(*[]netlink.Message)(unsafe.Pointer(f.UnsafeAddr()))
	if len(msgs) == 0 || msgs[len(msgs)-1].Header.Type != netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_NEWSET) {
		return errors.New("the last queued message is not the set")
	}
	data := msgs[len(msgs)-1].Data
	for off := 4; off+4 <= len(data); {
		l := int(binary.NativeEndian.Uint16(data[off:]))
		typ := binary.NativeEndian.Uint16(data[off+2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if l < 4 || off+l > len(data) {
			break
		}
		if typ == unix.NFTA_SET_USERDATA {
			ud := data[off+4 : off+l]
			// TLV: type NFTNL_UDATA_SET_KEYBYTEORDER (0), length 4, value
			// as google/nftables' userdata package writes it.
			if len(ud) >= 6 && ud[0] == 0 && ud[1] == 4 {
				binary.LittleEndian.PutUint32(ud[2:], 1) // NFT_BYTEORDER_HOST_ENDIAN in nft's terms
				return nil
			}
			break
		}
		off += (l + 3) &^ 3
	}
	return errors.New("the set message has no key byte order to fix up")
}
