package batch

import (
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// echoes are the messages of a batch sent with NLM_F_ECHO and what the
// kernel echoed of them.
type echoes struct {
	want map[int]bool
	got  map[int][]byte
}

// collect keeps the object notifications among replies that answer the
// messages of want (the batch's messages are numbered from seq first).
func (e *echoes) collect(replies []netlink.Message, first uint32, n int) {
	for _, r := range replies {
		if r.Header.Type == netlink.Error || r.Header.Type == netlink.Done || len(r.Data) < 4 {
			continue
		}
		i := int(r.Header.Sequence - first)
		if i < 0 || i >= n || !e.want[i] {
			continue
		}
		e.got[i] = r.Data[4:]
	}
}

// CommitEcho is CommitMessages (genid must not be 0) for a batch some of
// whose messages, those echo lists by index, ask the kernel to echo the
// object they make: it returns, by index, the attributes of each echo (a
// new rule's, with the handle the kernel gave it, NFTA_RULE_HANDLE). An
// echo is sent only when the batch is committed; on Applied, an echo that
// is missing is an error, and the outcome stays Applied.
func (c *Conn) CommitEcho(genid uint32, msgs []netlink.Message, echo []int) (Outcome, map[int][]byte, error) {
	if genid == 0 {
		return NotApplied, nil, fmt.Errorf("CommitEcho needs the generation the batch is based on")
	}
	if len(msgs) == 0 {
		return Applied, nil, nil
	}
	ec := &echoes{want: map[int]bool{}, got: map[int][]byte{}}
	for _, i := range echo {
		ec.want[i] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.commit(genid, msgs, ec)
	if out == Applied && err == nil && len(ec.got) != len(ec.want) {
		return out, ec.got, fmt.Errorf("the batch was applied but the kernel echoed %d of the %d objects asked for", len(ec.got), len(ec.want))
	}
	return out, ec.got, err
}

// Rule returns the attributes of the rule with handle in chain of the inet
// table table, as the kernel dumps it (NFT_MSG_GETRULE for one rule: a walk
// of the chain to the handle, not a dump of the chain).
func (c *Conn) Rule(table, chain string, handle uint64) ([]byte, error) {
	a := strAttr(unix.NFTA_RULE_TABLE, table)
	a = append(a, strAttr(unix.NFTA_RULE_CHAIN, chain)...)
	h := make([]byte, 8)
	binary.BigEndian.PutUint64(h, handle)
	b, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: unix.NFTA_RULE_HANDLE, Data: h}})
	if err != nil {
		return nil, err
	}
	a = append(a, b...)
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.request(unix.NFT_MSG_GETRULE, false, a)
	if err != nil {
		return nil, err
	}
	if len(out) != 1 {
		return nil, fmt.Errorf("the kernel answered %d rules for one handle", len(out))
	}
	return out[0], nil
}

// AttrU64 returns the big-endian 64-bit attribute typ of an attribute
// list, 0 when absent.
func AttrU64(b []byte, typ uint16) uint64 {
	for _, a := range attrs(b) {
		if a.Type&^unix.NLA_F_NESTED == typ && len(a.Data) == 8 {
			return binary.BigEndian.Uint64(a.Data)
		}
	}
	return 0
}
