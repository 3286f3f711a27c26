package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Reading the kernel's tables happens here too, beside Commit, so that one
// package owns every nftables netlink socket fwc opens: a caller that
// digests or lists a table gets the kernel's raw answers (the attributes
// after the nfgenmsg header) and never dials netlink itself.

// ErrTooManySets is returned by DumpTable when the table has more sets
// than DumpOptions.MaxSets.
var ErrTooManySets = errors.New("too many sets to dump quickly")

// TableDump is one inet table as the kernel dumps it: each entry is the
// attribute payload of one message (after the nfgenmsg header), in the
// kernel's order.
type TableDump struct {
	Table      []byte
	Chains     [][]byte
	Rules      [][]byte
	Sets       []SetDump
	Objects    [][]byte
	Flowtables [][]byte
}

// SetDump is one set of a TableDump.
type SetDump struct {
	Name  string
	Flags uint32 // NFTA_SET_FLAGS
	Attrs []byte
	// Elements are the NFTA_LIST_ELEM payloads of its elements (each a
	// list of NFTA_SET_ELEM_* attributes), when they were asked for.
	Elements [][]byte
}

// DumpOptions tune DumpTable.
type DumpOptions struct {
	// MaxSets > 0 refuses a table with more sets (ErrTooManySets) before
	// reading their elements: the kernel answers each set's element dump
	// after a linear search through the table's sets, so the cost is
	// quadratic in the sets.
	MaxSets int
	// Elements says whose elements to read; nil reads none.
	Elements func(name string, flags uint32) bool
	// SetsOnly reads the table and its sets, nothing else: the kernel's
	// dump of rules costs about the square of their number (50,000 take
	// seconds), and a caller after set elements need not pay it.
	SetsOnly bool
}

// DumpTable reads the inet table name: the table, its chains, rules, sets
// (with the elements o asks for), stateful objects and flowtables. It
// returns nil and no error when there is no such table.
func (c *Conn) DumpTable(name string, o DumpOptions) (*TableDump, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tables, err := c.request(unix.NFT_MSG_GETTABLE, false, strAttr(unix.NFTA_TABLE_NAME, name))
	if errors.Is(err, syscall.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read table inet %s: %w", name, err)
	}
	d := &TableDump{}
	if len(tables) > 0 {
		d.Table = tables[0]
	}
	if o.SetsOnly {
		return d, c.dumpSets(d, name, o)
	}
	chains, err := c.request(unix.NFT_MSG_GETCHAIN, true, nil)
	if err != nil {
		return nil, fmt.Errorf("read chains: %w", err)
	}
	for _, m := range chains {
		if AttrString(m, unix.NFTA_CHAIN_TABLE) == name {
			d.Chains = append(d.Chains, m)
		}
	}
	if d.Rules, err = c.request(unix.NFT_MSG_GETRULE, true, strAttr(unix.NFTA_RULE_TABLE, name)); err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	if err := c.dumpSets(d, name, o); err != nil {
		return nil, err
	}
	objs, err := c.request(unix.NFT_MSG_GETOBJ, true, strAttr(unix.NFTA_OBJ_TABLE, name))
	if err != nil {
		return nil, fmt.Errorf("read stateful objects: %w", err)
	}
	for _, m := range objs {
		if AttrString(m, unix.NFTA_OBJ_TABLE) == name {
			d.Objects = append(d.Objects, m)
		}
	}
	const nftaFlowtableTable = 1
	fts, err := c.request(unix.NFT_MSG_GETFLOWTABLE, true, strAttr(nftaFlowtableTable, name))
	if err != nil {
		return nil, fmt.Errorf("read flowtables: %w", err)
	}
	for _, m := range fts {
		if AttrString(m, nftaFlowtableTable) == name {
			d.Flowtables = append(d.Flowtables, m)
		}
	}
	return d, nil
}

// dumpSets reads the sets of table name into d, with the elements o asks
// for.
func (c *Conn) dumpSets(d *TableDump, name string, o DumpOptions) error {
	sets, err := c.request(unix.NFT_MSG_GETSET, true, strAttr(unix.NFTA_SET_TABLE, name))
	if err != nil {
		return fmt.Errorf("read sets: %w", err)
	}
	if o.MaxSets > 0 && len(sets) > o.MaxSets {
		return ErrTooManySets
	}
	for _, m := range sets {
		s := SetDump{Name: AttrString(m, unix.NFTA_SET_NAME), Flags: AttrU32(m, unix.NFTA_SET_FLAGS), Attrs: m}
		if o.Elements != nil && o.Elements(s.Name, s.Flags) {
			if s.Elements, err = c.setElements(name, s.Name); err != nil {
				return err
			}
		}
		d.Sets = append(d.Sets, s)
	}
	return nil
}

// SetElements reads the elements of the set named set in the inet table
// table: the NFTA_LIST_ELEM payloads, each a list of NFTA_SET_ELEM_*
// attributes, as the kernel holds them now.
func (c *Conn) SetElements(table, set string) ([][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setElements(table, set)
}

func (c *Conn) setElements(table, set string) ([][]byte, error) {
	req := append(strAttr(unix.NFTA_SET_ELEM_LIST_TABLE, table), strAttr(unix.NFTA_SET_ELEM_LIST_SET, set)...)
	msgs, err := c.request(unix.NFT_MSG_GETSETELEM, true, req)
	if err != nil {
		return nil, fmt.Errorf("read elements of set %s: %w", set, err)
	}
	var out [][]byte
	for _, m := range msgs {
		for _, a := range attrs(m) {
			if a.Type&^unix.NLA_F_NESTED != unix.NFTA_SET_ELEM_LIST_ELEMENTS {
				continue
			}
			for _, el := range attrs(a.Data) {
				out = append(out, el.Data)
			}
		}
	}
	return out, nil
}

// TableExists reports whether the inet table name exists (one GETTABLE).
func (c *Conn) TableExists(name string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.request(unix.NFT_MSG_GETTABLE, false, strAttr(unix.NFTA_TABLE_NAME, name))
	if errors.Is(err, syscall.ENOENT) {
		return false, nil
	}
	return err == nil, err
}

// NetNSCookie returns the kernel's cookie of the Conn's network namespace
// (unique within a boot, unlike names and inode numbers), or 0 if unknown.
func (c *Conn) NetNSCookie() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	rc, err := c.nl.SyscallConn()
	if err != nil {
		return 0
	}
	var cookie uint64
	_ = rc.Control(func(fd uintptr) {
		v, err := unix.GetsockoptUint64(int(fd), unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
		if err == nil {
			cookie = v
		}
	})
	return cookie
}

// request sends one nftables request for the inet family and returns the
// attribute payloads of its answers (a dump when dump is set). It reads
// the socket itself: for a dump of tens of thousands of rules,
// mdlayher/netlink's per-message receive costs ten times what the kernel
// does. c.mu must be held.
func (c *Conn) request(typ int, dump bool, attrs []byte) ([][]byte, error) {
	flags := netlink.Request
	if dump {
		flags |= netlink.Dump
	}
	req := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | typ), Flags: flags, Sequence: c.nextSeq(1)},
		Data:   append(nfgenmsg(unix.NFPROTO_INET, 0), attrs...),
	}
	sent, err := c.nl.Send(req)
	if err != nil {
		return nil, err
	}
	rc, err := c.nl.SyscallConn()
	if err != nil {
		return nil, err
	}
	// The deadline bounds the whole answer: rc.Read returns
	// os.ErrDeadlineExceeded once it passes.
	if err := c.nl.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, err
	}
	defer func() { _ = c.nl.SetReadDeadline(time.Time{}) }()
	// One receive buffer per Conn: a table with a thousand meters asks
	// for a thousand element dumps.
	if c.rbuf == nil {
		c.rbuf = make([]byte, 64<<10)
	}
	var (
		out  [][]byte
		done bool
		rerr error
		buf  = c.rbuf
	)
	for !done && rerr == nil {
		err := rc.Read(func(fd uintptr) bool {
			n, _, err := unix.Recvfrom(int(fd), buf, 0)
			if err == unix.EAGAIN || err == unix.EINTR {
				return false
			}
			if err != nil {
				rerr = os.NewSyscallError("recvfrom", err)
				return true
			}
			b := buf[:n]
			for len(b) >= 16 {
				l := int(binary.NativeEndian.Uint32(b))
				if l < 16 || l > len(b) {
					break
				}
				typ := netlink.HeaderType(binary.NativeEndian.Uint16(b[4:]))
				seq := binary.NativeEndian.Uint32(b[8:])
				data := b[16:l]
				b = b[min((l+3)&^3, len(b)):]
				if seq != sent.Header.Sequence {
					continue // a stale answer to an earlier request
				}
				switch {
				case typ == netlink.Done:
					done = true
				case typ == netlink.Error:
					if len(data) >= 4 {
						if code := int32(binary.NativeEndian.Uint32(data)); code != 0 {
							rerr = syscall.Errno(-code)
						}
					}
					done = true
				case len(data) >= 4:
					out = append(out, append([]byte(nil), data[4:]...))
					if !dump {
						done = true
					}
				}
			}
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("no complete answer from the kernel: %w", err)
		}
	}
	return out, rerr
}

func strAttr(typ uint16, s string) []byte {
	b, _ := netlink.MarshalAttributes([]netlink.Attribute{{Type: typ, Data: append([]byte(s), 0)}})
	return b
}

// attrs decodes one level of attributes; it returns nil on malformed data.
func attrs(b []byte) []netlink.Attribute {
	as, err := netlink.UnmarshalAttributes(b)
	if err != nil {
		return nil
	}
	return as
}

// AttrString returns the string attribute typ of an attribute list, ""
// when absent.
func AttrString(b []byte, typ uint16) string {
	for _, a := range attrs(b) {
		if a.Type&^unix.NLA_F_NESTED == typ {
			return string(trimNUL(a.Data))
		}
	}
	return ""
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// AttrU32 returns the big-endian 32-bit attribute typ of an attribute
// list, 0 when absent.
func AttrU32(b []byte, typ uint16) uint32 {
	for _, a := range attrs(b) {
		if a.Type&^unix.NLA_F_NESTED == typ && len(a.Data) == 4 {
			return binary.BigEndian.Uint32(a.Data)
		}
	}
	return 0
}
