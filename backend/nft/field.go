package nft

import (
	"strconv"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// loadKind is the nft expression that loads a simple field.
type loadKind int

const (
	loadMeta    loadKind = iota // meta WORD
	loadFib                     // fib WORD type (WORD: saddr, daddr)
	loadCt                      // ct WORD
	loadPayload                 // WORD is the header field, e.g. "ip ttl"
)

// nftField says how nft loads one simple field (policy/field.go). The text
// and the netlink expressions are both derived from it, so they agree.
type nftField struct {
	kind loadKind
	word string
	meta expr.MetaKey
	ct   expr.CtKey
	fib  expr.Fib // its Flag* and Result* fields; the register is set here
	// Payload: base, byte offset and length; mask selects the bits, and
	// values are compared shifted left by lshift, as nft does (it masks
	// and never shifts the header field itself).
	base      expr.PayloadBase
	off, plen uint32
	mask      []byte
	lshift    uint
	// size is the byte length the load leaves in the register; host: the
	// value is in host byte order (meta, ct, fib) rather than the
	// network's (payload).
	size int
	host bool
	// dtype is the key type of an anonymous set of values, the one nft
	// gives such a set (it decides how nft lists the elements).
	dtype nftables.SetDatatype
	// names are nft's names of values where they differ from fwc's; nil:
	// fwc's names (policy.Field.Names), or numbers for a numeric field.
	names map[uint64]string
	// family, if set, is the only family whose rules can carry the field.
	family ir.Family
	// numeric: print values as numbers even where fwc has names for them.
	numeric bool
}

// nftFields: one row per simple field and sub-keyword (policy.FieldCond.Key).
var nftFields = map[string]nftField{
	"addrtype src": {kind: loadFib, word: "saddr", fib: expr.Fib{FlagSADDR: true, ResultADDRTYPE: true}, size: 4, host: true, dtype: nftables.TypeFIBAddr},
	"addrtype dst": {kind: loadFib, word: "daddr", fib: expr.Fib{FlagDADDR: true, ResultADDRTYPE: true}, size: 4, host: true, dtype: nftables.TypeFIBAddr},
	"pkttype":      {kind: loadMeta, word: "pkttype", meta: expr.MetaKeyPKTTYPE, size: 1, host: true, dtype: nftables.TypePktType, names: map[uint64]string{0: "host", 3: "other"}},
	"ttl":          {kind: loadPayload, word: "ip ttl", base: expr.PayloadBaseNetworkHeader, off: 8, plen: 1, size: 1, dtype: nftables.TypeInteger, family: ir.IPv4},
	"hoplimit":     {kind: loadPayload, word: "ip6 hoplimit", base: expr.PayloadBaseNetworkHeader, off: 7, plen: 1, size: 1, dtype: nftables.TypeInteger, family: ir.IPv6},
	"ct direction": {kind: loadCt, word: "direction", ct: expr.CtKeyDIRECTION, size: 1, host: true, dtype: nftables.TypeCTDir},
	"ct zone":      {kind: loadCt, word: "zone", ct: expr.CtKeyZONE, size: 2, host: true, dtype: nftables.TypeInteger},
	"dscp":         {kind: loadPayload, word: "ip dscp", base: expr.PayloadBaseNetworkHeader, off: 1, plen: 1, mask: []byte{0xfc}, lshift: 2, size: 1, dtype: nftables.TypeDSCP, numeric: true},
	"dscp ip6":     {kind: loadPayload, word: "ip6 dscp", base: expr.PayloadBaseNetworkHeader, off: 0, plen: 2, mask: []byte{0x0f, 0xc0}, lshift: 6, size: 2, dtype: nftables.TypeDSCP, numeric: true},
	"ct helper":    {kind: loadCt, word: "helper", ct: expr.CtKeyHELPER, size: 16, host: true, dtype: nftables.TypeString},
	"owner uid":    {kind: loadMeta, word: "skuid", meta: expr.MetaKeySKUID, size: 4, host: true, dtype: nftables.TypeUID},
	"owner gid":    {kind: loadMeta, word: "skgid", meta: expr.MetaKeySKGID, size: 4, host: true, dtype: nftables.TypeGID},
	"length":       {kind: loadMeta, word: "length", meta: expr.MetaKeyLEN, size: 4, host: true, dtype: nftables.TypeInteger},
}

// fieldRow returns the row of m for a rule of family fam: "KEY ip6" is an
// IPv6 rule's where the field lies elsewhere in IPv6 (policy.Field.PerFamily).
func fieldRow(m *policy.FieldCond, fam ir.Family) (nftField, bool) {
	if fam == ir.IPv6 {
		if f, ok := nftFields[m.Key()+" ip6"]; ok {
			return f, true
		}
	}
	f, ok := nftFields[m.Key()]
	return f, ok
}

// text is the nft expression that loads the field.
func (f nftField) text() string {
	switch f.kind {
	case loadMeta:
		return "meta " + f.word
	case loadFib:
		return "fib " + f.word + " type"
	case loadCt:
		return "ct " + f.word
	}
	return f.word
}

// valueText prints one number of the field as nft does.
func (f nftField) valueText(fd *policy.Field, n uint64) string {
	if s, ok := f.names[n]; ok {
		return s
	}
	if fd.Kind == policy.FieldEnum && !f.numeric {
		if s := fd.NameOf(n); s != "" {
			return s
		}
	}
	return strconv.FormatUint(n, 10)
}

func (p *printer) field(r *ir.Rule, m *policy.FieldCond) (string, bool) {
	f, ok := fieldRow(m, r.Family)
	if !ok {
		p.errorf(r, "%s", m.Key())
		return "", false
	}
	if f.family != 0 && r.Family != f.family {
		p.errorf(r, "%s in a rule for both families", m.Key())
		return "", false
	}
	var vs []string
	for _, s := range m.Strings {
		vs = append(vs, Quote(s))
	}
	for _, iv := range m.Values {
		s := f.valueText(m.Field, iv.Lo)
		if iv.Hi != iv.Lo {
			s += "-" + f.valueText(m.Field, iv.Hi)
		}
		vs = append(vs, s)
	}
	return f.text() + " " + op(m.Neg) + list(vs), true
}

// bytes encodes n as the register holds it: size bytes, in host or
// network order.
func (f nftField) bytes(n uint64, host bool) []byte {
	n <<= f.lshift
	order := binaryutil.ByteOrder(binaryutil.BigEndian)
	if host {
		order = binaryutil.NativeEndian
	}
	switch f.size {
	case 1:
		return []byte{byte(n)}
	case 2:
		return order.PutUint16(uint16(n))
	}
	return order.PutUint32(uint32(n))
}

// field encodes m as nft encodes the text field() prints.
func (e *ruleEnc) field(m *policy.FieldCond) {
	f, ok := fieldRow(m, e.r.Family)
	if !ok {
		e.fail("%s", m.Key())
		return
	}
	switch f.kind {
	case loadMeta:
		e.meta(f.meta)
	case loadFib:
		x := f.fib
		x.Register = 1
		e.add(&x)
	case loadCt:
		e.add(&expr.Ct{Key: f.ct, Register: 1})
	case loadPayload:
		e.payload(f.base, f.off, f.plen)
		if f.mask != nil {
			e.bitwise(f.mask)
		}
	}
	if m.Strings != nil {
		e.strings(f, m)
		return
	}
	ranged := false
	for _, iv := range m.Values {
		ranged = ranged || iv.Lo != iv.Hi
	}
	// Ranges compare in network order: nft turns a host-order value
	// around first.
	host := f.host
	if ranged && host && f.size > 1 {
		e.add(&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: uint32(f.size), Size: uint32(f.size)})
		host = false
	}
	if len(m.Values) == 1 {
		iv := m.Values[0]
		e.inRange(m.Neg, f.bytes(iv.Lo, host), f.bytes(iv.Hi, host))
		return
	}
	var es []nftables.SetElement
	var ivs []interval
	for _, iv := range m.Values {
		es = append(es, nftables.SetElement{Key: f.bytes(iv.Lo, host)})
		ivs = append(ivs, interval{lo: f.bytes(iv.Lo, host), hi: f.bytes(iv.Hi, host)})
	}
	if ranged {
		es = intervalElements(ivs, true)
	}
	// integer is a type of any width: the key is as long as the load.
	kt := f.dtype
	kt.Bytes = uint32(f.size)
	s := &nftables.Set{KeyType: kt, Interval: ranged}
	if host {
		s.KeyByteOrder = binaryutil.NativeEndian
	}
	e.lookup(e.b.anonSet(e.r, s, es), m.Neg)
}

// strings compares a string field, NUL-padded to the load's size as nft
// pads a string constant.
func (e *ruleEnc) strings(f nftField, m *policy.FieldCond) {
	pad := func(s string) []byte {
		b := make([]byte, f.size)
		copy(b, s)
		return b
	}
	if len(m.Strings) == 1 {
		e.cmp(eqOp(m.Neg), pad(m.Strings[0]))
		return
	}
	var es []nftables.SetElement
	for _, s := range m.Strings {
		es = append(es, nftables.SetElement{Key: pad(s)})
	}
	kt := f.dtype
	kt.Bytes = uint32(f.size)
	e.lookup(e.b.anonSet(e.r, &nftables.Set{KeyType: kt, KeyByteOrder: binaryutil.NativeEndian}, es), m.Neg)
}
