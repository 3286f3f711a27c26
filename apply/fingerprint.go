package apply

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/nft/batch"
)

// Attribute numbers newer than golang.org/x/sys/unix's list.
const (
	nftaTableHandle       = 4
	nftaTablePad          = 5
	nftaChainID           = 0xb
	nftaSetHandle         = 0x10
	nftaSetCount          = 0x14
	nftaSetElemExpression = 0xb
	nftaObjHandle         = 6
	nftaObjPad            = 7
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
const fingerprintVersion = "fwc fingerprint 4\n"

// fingerprint reads fwc's table from the kernel as raw netlink dumps (fast:
// no nft process, no text; see batch.Conn.DumpTable) and returns a digest
// of what makes it what it is: the table with its flags, chains, rules with
// their expressions, sets and their elements, stateful objects (counters,
// quotas, limits, ct helpers, ...) and flowtables, without handles, use
// counts, counter and quota values, element expiry times and the contents
// of dynamic sets. Two tables with the same fingerprint behave the same.
// "" means there is no table.
//
// Its cost is dominated by one element dump per set, anonymous ones
// included, each of which the kernel answers after a linear search through
// the table's sets: quadratic in the number of sets (50,000 generated rules
// with 12,000 anonymous sets take 30 s; `nft list` pays the same). With
// maxSets > 0, a table with more sets is not fingerprinted:
// batch.ErrTooManySets.
func fingerprint(c *batch.Conn, maxSets int) (string, error) {
	t, err := dumpForFingerprint(c, maxSets)
	if err != nil || t == nil {
		return "", err
	}
	full, _ := digests(t, nil)
	return full, nil
}

// dumpForFingerprint reads what fingerprint digests; nil when there is
// no table.
func dumpForFingerprint(c *batch.Conn, maxSets int) (*batch.TableDump, error) {
	return c.DumpTable(nft.Table, batch.DumpOptions{
		MaxSets:  maxSets,
		Elements: func(_ string, flags uint32) bool { return flags&unix.NFT_SET_EVAL == 0 },
	})
}

// digests digests a table dump as fingerprint says (full), and the same
// way but for the elements of the named sets skip holds, which it counts
// as empty (static: the digest says the set is there, not what run time
// put in it; see Status). One pass normalises the dump for both.
func digests(t *batch.TableDump, skip map[string]bool) (full, static string) {
	f, st := sha256.New(), sha256.New()
	var d io.Writer = f
	if len(skip) > 0 {
		d = io.MultiWriter(f, st)
	}
	d.Write([]byte(fingerprintVersion))
	d.Write(normalise(t.Table, tableDrop, nil))

	cs := make([][]byte, 0, len(t.Chains))
	for _, m := range t.Chains {
		cs = append(cs, normalise(m, chainDrop, nil))
	}
	slices.SortFunc(cs, bytes.Compare)
	for _, x := range cs {
		d.Write(x)
	}

	byChain := map[string][][]byte{}
	for _, m := range t.Rules {
		ch := batch.AttrString(m, unix.NFTA_RULE_CHAIN)
		byChain[ch] = append(byChain[ch], normalise(m, ruleDrop, map[uint16]func([]byte) []byte{unix.NFTA_RULE_EXPRESSIONS: normaliseExprs}))
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

	type setDump struct {
		norm  []byte
		elems [][]byte
		skip  bool
	}
	ss := make([]setDump, 0, len(t.Sets))
	for _, s := range t.Sets {
		sd := setDump{norm: normalise(s.Attrs, setDrop, nil), skip: skip[s.Name]}
		for _, e := range s.Elements {
			sd.elems = append(sd.elems, normaliseElem(e))
		}
		slices.SortFunc(sd.elems, bytes.Compare)
		ss = append(ss, sd)
	}
	slices.SortFunc(ss, func(a, b setDump) int { return bytes.Compare(a.norm, b.norm) })
	for _, s := range ss {
		if s.skip {
			fmt.Fprintf(f, "set %d\n", len(s.elems))
			f.Write(s.norm)
			for _, e := range s.elems {
				f.Write(e)
			}
			fmt.Fprintf(st, "set %d\n", 0)
			st.Write(s.norm)
			continue
		}
		fmt.Fprintf(d, "set %d\n", len(s.elems))
		d.Write(s.norm)
		for _, e := range s.elems {
			d.Write(e)
		}
	}

	// Objects and flowtables: fwc makes none, so any there was put there
	// by someone else and is a difference.
	obs := make([][]byte, 0, len(t.Objects))
	for _, m := range t.Objects {
		obs = append(obs, normalise(m, objDrop, map[uint16]func([]byte) []byte{unix.NFTA_OBJ_DATA: objData(batch.AttrU32(m, unix.NFTA_OBJ_TYPE))}))
	}
	slices.SortFunc(obs, bytes.Compare)
	fmt.Fprintf(d, "objects %d\n", len(obs))
	for _, x := range obs {
		d.Write(x)
	}
	fs := make([][]byte, 0, len(t.Flowtables))
	for _, m := range t.Flowtables {
		fs = append(fs, normalise(m, flowtableDrop, nil))
	}
	slices.SortFunc(fs, bytes.Compare)
	fmt.Fprintf(d, "flowtables %d\n", len(fs))
	for _, x := range fs {
		d.Write(x)
	}
	full = hex.EncodeToString(f.Sum(nil))
	if len(skip) == 0 {
		return full, full
	}
	return full, hex.EncodeToString(st.Sum(nil))
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
	ruleDrop  = []uint16{unix.NFTA_RULE_HANDLE, unix.NFTA_RULE_POSITION, unix.NFTA_RULE_PAD, unix.NFTA_RULE_ID, unix.NFTA_RULE_USERDATA}
	// NFTA_SET_COUNT (Linux 6.14 on) is the number of elements: state,
	// and for dynamic sets the very thing left out.
	setDrop = []uint16{unix.NFTA_SET_ID, unix.NFTA_SET_PAD, nftaSetHandle, nftaSetCount}
)

// attrs decodes one level of attributes; it returns nil on malformed data.
func attrs(b []byte) []netlink.Attribute {
	as, err := netlink.UnmarshalAttributes(b)
	if err != nil {
		return nil
	}
	return as
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
	drop, isVolatile := volatile[batch.AttrString(b, unix.NFTA_EXPR_NAME)]
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

// normaliseElem normalises one set element (a list of NFTA_SET_ELEM_*
// attributes) without its expiry time.
func normaliseElem(b []byte) []byte {
	return normalise(b, []uint16{unix.NFTA_SET_ELEM_EXPIRATION, unix.NFTA_SET_ELEM_PAD},
		map[uint16]func([]byte) []byte{unix.NFTA_SET_ELEM_EXPR: normaliseExpr, nftaSetElemExpression: normaliseExprs})
}

// maxFingerprintSets bounds the sets of a table fingerprinted after an
// apply (about a second's work).
const maxFingerprintSets = 2000
