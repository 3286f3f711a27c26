package apply

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft"
)

// Attribute numbers newer than golang.org/x/sys/unix's list.
const (
	nftaTableHandle       = 4
	nftaTablePad          = 5
	nftaChainID           = 0xb
	nftaSetHandle         = 0x10
	nftaSetElemExpression = 0xb
	nftaObjHandle         = 6
	nftaObjPad            = 7
	nftaFlowtableTable    = 1
	nftaFlowtableUse      = 4
	nftaFlowtableHandle   = 5
	nftaFlowtablePad      = 6
	nftObjectCounter      = 1
	nftObjectQuota        = 2
	nftaQuotaConsumed     = 4
	nftaQuotaPad          = 3
)

// fingerprintVersion starts every digest: a record written with another
// way of digesting never matches.
const fingerprintVersion = "fwc fingerprint 2\n"

// fingerprint reads fwc's table from the kernel as raw netlink dumps (fast:
// no nft process, no text) and returns a digest of what makes it what it
// is: the table with its flags, chains, rules with their expressions, sets
// and their elements, stateful objects (counters, quotas, limits, ct
// helpers, ...) and flowtables, without handles, use counts, counter and
// quota values, element expiry times and the contents of dynamic sets. Two
// tables with the same fingerprint behave the same. "" means there is no
// table.
//
// Its cost is dominated by one element dump per set, anonymous ones
// included, each of which the kernel answers after a linear search through
// the table's sets: quadratic in the number of sets (50,000 generated rules
// with 12,000 anonymous sets take 30 s; `nft list` pays the same). With
// maxSets > 0, a table with more sets is not fingerprinted:
// errTooManySets.
func (h *Host) fingerprint(maxSets int) (string, error) {
	cfg := &netlink.Config{}
	if h.ns >= 0 {
		cfg.NetNS = int(h.ns)
	}
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	name := attr(unix.NFTA_TABLE_NAME, nft.Table)

	tables, err := nfRequest(c, unix.NFT_MSG_GETTABLE, false, name)
	if errors.Is(err, syscall.ENOENT) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read table inet %s: %w", nft.Table, err)
	}
	d := sha256.New()
	d.Write([]byte(fingerprintVersion))
	for _, m := range tables {
		d.Write(normalise(m.Data[4:], tableDrop, nil))
	}

	chains, err := nfRequest(c, unix.NFT_MSG_GETCHAIN, true, nil)
	if err != nil {
		return "", fmt.Errorf("read chains: %w", err)
	}
	var cs [][]byte
	for _, m := range chains {
		if attrString(m.Data[4:], unix.NFTA_CHAIN_TABLE) == nft.Table {
			cs = append(cs, normalise(m.Data[4:], chainDrop, nil))
		}
	}
	slices.SortFunc(cs, bytes.Compare)
	for _, x := range cs {
		d.Write(x)
	}

	rules, err := nfRequest(c, unix.NFT_MSG_GETRULE, true, attr(unix.NFTA_RULE_TABLE, nft.Table))
	if err != nil {
		return "", fmt.Errorf("read rules: %w", err)
	}
	byChain := map[string][][]byte{}
	for _, m := range rules {
		ch := attrString(m.Data[4:], unix.NFTA_RULE_CHAIN)
		byChain[ch] = append(byChain[ch], normalise(m.Data[4:], ruleDrop, map[uint16]func([]byte) []byte{unix.NFTA_RULE_EXPRESSIONS: normaliseExprs}))
	}
	names := make([]string, 0, len(byChain))
	for n := range byChain {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(d, "chain %q %d\n", n, len(byChain[n]))
		for _, r := range byChain[n] {
			d.Write(r)
		}
	}

	sets, err := nfRequest(c, unix.NFT_MSG_GETSET, true, attr(unix.NFTA_SET_TABLE, nft.Table))
	if err != nil {
		return "", fmt.Errorf("read sets: %w", err)
	}
	if maxSets > 0 && len(sets) > maxSets {
		return "", errTooManySets
	}
	type setDump struct {
		name  string
		norm  []byte
		elems [][]byte
	}
	var ss []setDump
	for _, m := range sets {
		s := setDump{name: attrString(m.Data[4:], unix.NFTA_SET_NAME), norm: normalise(m.Data[4:], setDrop, nil)}
		if attrU32(m.Data[4:], unix.NFTA_SET_FLAGS)&unix.NFT_SET_EVAL == 0 {
			req := append(attr(unix.NFTA_SET_ELEM_LIST_TABLE, nft.Table), attr(unix.NFTA_SET_ELEM_LIST_SET, s.name)...)
			msgs, err := nfRequest(c, unix.NFT_MSG_GETSETELEM, true, req)
			if err != nil {
				return "", fmt.Errorf("read elements of set %s: %w", s.name, err)
			}
			for _, em := range msgs {
				s.elems = append(s.elems, elements(em.Data[4:])...)
			}
			slices.SortFunc(s.elems, bytes.Compare)
		}
		ss = append(ss, s)
	}
	slices.SortFunc(ss, func(a, b setDump) int { return bytes.Compare(a.norm, b.norm) })
	for _, s := range ss {
		fmt.Fprintf(d, "set %d\n", len(s.elems))
		d.Write(s.norm)
		for _, e := range s.elems {
			d.Write(e)
		}
	}

	// Objects and flowtables: fwc makes none, so any there was put there
	// by someone else and is a difference.
	objs, err := nfRequest(c, unix.NFT_MSG_GETOBJ, true, attr(unix.NFTA_OBJ_TABLE, nft.Table))
	if err != nil {
		return "", fmt.Errorf("read stateful objects: %w", err)
	}
	var obs [][]byte
	for _, m := range objs {
		if attrString(m.Data[4:], unix.NFTA_OBJ_TABLE) != nft.Table {
			continue
		}
		obs = append(obs, normalise(m.Data[4:], objDrop, map[uint16]func([]byte) []byte{unix.NFTA_OBJ_DATA: objData(attrU32(m.Data[4:], unix.NFTA_OBJ_TYPE))}))
	}
	slices.SortFunc(obs, bytes.Compare)
	fmt.Fprintf(d, "objects %d\n", len(obs))
	for _, x := range obs {
		d.Write(x)
	}
	fts, err := nfRequest(c, unix.NFT_MSG_GETFLOWTABLE, true, attr(nftaFlowtableTable, nft.Table))
	if err != nil {
		return "", fmt.Errorf("read flowtables: %w", err)
	}
	var fs [][]byte
	for _, m := range fts {
		if attrString(m.Data[4:], nftaFlowtableTable) == nft.Table {
			fs = append(fs, normalise(m.Data[4:], flowtableDrop, nil))
		}
	}
	slices.SortFunc(fs, bytes.Compare)
	fmt.Fprintf(d, "flowtables %d\n", len(fs))
	for _, x := range fs {
		d.Write(x)
	}
	return hex.EncodeToString(d.Sum(nil)), nil
}

// objData returns the normaliser of a stateful object's data: what the
// packet path changes (a counter's values, a quota's consumed bytes) is
// left out, as nft -s leaves it out.
func objData(typ uint32) func([]byte) []byte {
	switch typ {
	case nftObjectCounter:
		return func([]byte) []byte { return nil }
	case nftObjectQuota:
		return func(b []byte) []byte { return normalise(b, []uint16{nftaQuotaConsumed, nftaQuotaPad}, nil) }
	}
	return func(b []byte) []byte { return normalise(b, nil, nil) }
}

var (
	objDrop       = []uint16{unix.NFTA_OBJ_USE, nftaObjHandle, nftaObjPad}
	flowtableDrop = []uint16{nftaFlowtableUse, nftaFlowtableHandle, nftaFlowtablePad}
)

var (
	tableDrop = []uint16{unix.NFTA_TABLE_USE, nftaTableHandle, nftaTablePad}
	chainDrop = []uint16{unix.NFTA_CHAIN_HANDLE, unix.NFTA_CHAIN_USE, unix.NFTA_CHAIN_COUNTERS, unix.NFTA_CHAIN_PAD, nftaChainID}
	ruleDrop  = []uint16{unix.NFTA_RULE_HANDLE, unix.NFTA_RULE_POSITION, unix.NFTA_RULE_PAD, unix.NFTA_RULE_ID}
	setDrop   = []uint16{unix.NFTA_SET_ID, unix.NFTA_SET_PAD, nftaSetHandle}
)

// nfRequest sends one nftables request for the inet family and returns
// the data of its answers (a dump when dump is set). It reads the socket
// itself: for a dump of tens of thousands of rules, mdlayher/netlink's
// per-message receive costs ten times what the kernel does.
func nfRequest(c *netlink.Conn, typ int, dump bool, attrs []byte) ([]netlink.Message, error) {
	flags := netlink.Request
	if dump {
		flags |= netlink.Dump
	}
	req := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | typ), Flags: flags},
		Data:   append([]byte{unix.NFPROTO_INET, unix.NFNETLINK_V0, 0, 0}, attrs...),
	}
	sent, err := c.Send(req)
	if err != nil {
		return nil, err
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var (
		out      []netlink.Message
		done     bool
		rerr     error
		buf      = make([]byte, 64<<10)
		deadline = time.Now().Add(30 * time.Second)
	)
	for !done && rerr == nil {
		if time.Now().After(deadline) {
			return nil, errors.New("no answer from the kernel within 30 s")
		}
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
					out = append(out, netlink.Message{Header: netlink.Header{Type: typ}, Data: append([]byte(nil), data...)})
					if !dump {
						done = true
					}
				}
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return out, rerr
}

func attr(typ uint16, s string) []byte {
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

func attrString(b []byte, typ uint16) string {
	for _, a := range attrs(b) {
		if a.Type&^(unix.NLA_F_NESTED) == typ {
			return string(bytes.TrimRight(a.Data, "\x00"))
		}
	}
	return ""
}

func attrU32(b []byte, typ uint16) uint32 {
	for _, a := range attrs(b) {
		if a.Type&^(unix.NLA_F_NESTED) == typ && len(a.Data) == 4 {
			return binary.BigEndian.Uint32(a.Data)
		}
	}
	return 0
}

// normalise re-encodes attributes without those in drop, passing nested
// ones listed in sub through their own normaliser.
func normalise(b []byte, drop []uint16, sub map[uint16]func([]byte) []byte) []byte {
	var out []byte
	for _, a := range attrs(b) {
		t := a.Type &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if slices.Contains(drop, t) {
			continue
		}
		data := a.Data
		if f := sub[t]; f != nil {
			data = f(data)
		}
		out = binary.BigEndian.AppendUint16(out, t)
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		out = append(out, data...)
	}
	return out
}

// volatile expressions hold state the packet path changes, not
// configuration: their data is left out, as nft -s leaves it out.
var volatile = map[string][]uint16{
	"counter": nil, // all of it
	"last":    nil,
	"quota":   {unix.NFTA_QUOTA_CONSUMED, unix.NFTA_QUOTA_PAD},
}

// normaliseExprs normalises an expression list (NFTA_LIST_ELEM nests).
func normaliseExprs(b []byte) []byte {
	var out []byte
	for _, el := range attrs(b) {
		e := normaliseExpr(el.Data)
		out = binary.BigEndian.AppendUint32(out, uint32(len(e)))
		out = append(out, e...)
	}
	return out
}

// normaliseExpr normalises one expression (NFTA_EXPR_NAME, NFTA_EXPR_DATA).
func normaliseExpr(b []byte) []byte {
	drop, isVolatile := volatile[attrString(b, unix.NFTA_EXPR_NAME)]
	var e []byte
	for _, a := range attrs(b) {
		t := a.Type &^ unix.NLA_F_NESTED
		data := a.Data
		if t == unix.NFTA_EXPR_DATA && isVolatile {
			if drop == nil {
				continue
			}
			data = normalise(data, drop, nil)
		}
		e = binary.BigEndian.AppendUint16(e, t)
		e = binary.BigEndian.AppendUint32(e, uint32(len(data)))
		e = append(e, data...)
	}
	return e
}

// elements returns the normalised elements of a set-element message.
func elements(b []byte) [][]byte {
	var out [][]byte
	for _, a := range attrs(b) {
		if a.Type&^unix.NLA_F_NESTED != unix.NFTA_SET_ELEM_LIST_ELEMENTS {
			continue
		}
		for _, el := range attrs(a.Data) {
			out = append(out, normalise(el.Data, []uint16{unix.NFTA_SET_ELEM_EXPIRATION, unix.NFTA_SET_ELEM_PAD},
				map[uint16]func([]byte) []byte{unix.NFTA_SET_ELEM_EXPR: normaliseExpr, nftaSetElemExpression: normaliseExprs}))
		}
	}
	return out
}

// errTooManySets: see fingerprint.
var errTooManySets = errors.New("too many sets to fingerprint quickly")

// maxFingerprintSets bounds the sets of a table fingerprinted after an
// apply (about a second's work).
const maxFingerprintSets = 2000

// tableExists reports whether fwc's table exists (one GETTABLE).
func (h *Host) tableExists() (bool, error) {
	cfg := &netlink.Config{}
	if h.ns >= 0 {
		cfg.NetNS = int(h.ns)
	}
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, cfg)
	if err != nil {
		return false, err
	}
	defer c.Close()
	_, err = nfRequest(c, unix.NFT_MSG_GETTABLE, false, attr(unix.NFTA_TABLE_NAME, nft.Table))
	if errors.Is(err, syscall.ENOENT) {
		return false, nil
	}
	return err == nil, err
}

// netnsCookie returns the kernel's cookie of h's network namespace (unique
// within a boot, unlike names and inode numbers), or 0 if unknown.
func (h *Host) netnsCookie() uint64 {
	cfg := &netlink.Config{}
	if h.ns >= 0 {
		cfg.NetNS = int(h.ns)
	}
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, cfg)
	if err != nil {
		return 0
	}
	defer c.Close()
	rc, err := c.SyscallConn()
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
