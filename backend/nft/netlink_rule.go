package nft

import (
	"math"
	"net/netip"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// Meta keys google/nftables v0.3.0 does not name.
const (
	metaTimeNS   expr.MetaKey = 30
	metaTimeDay  expr.MetaKey = 31
	metaTimeHour expr.MetaKey = 32
)

// ruleEnc encodes one rule, tracking the protocol context the way nft's
// evaluator does: a match on a header field needs the network (meta
// nfproto) or transport protocol (meta l4proto) checked first, once.
type ruleEnc struct {
	b  *builder
	r  *ir.Rule
	ex []expr.Any
	nf ir.Family    // network protocol known: IPv4, IPv6 or 0
	l4 policy.Proto // transport protocol known, or 0
	ok bool
}

func (b *builder) rule(c *ir.Chain, r *ir.Rule) {
	if refused(&b.diags, r) {
		return
	}
	// AddRule encodes the expressions before it returns, so one ruleEnc
	// and its expression slice serve every rule.
	e := &b.enc
	*e = ruleEnc{b: b, r: r, ex: e.ex[:0], ok: true}
	if r.Family != ir.Both && !impliesFamily(r) {
		e.needFamily(r.Family)
	}
	for _, m := range r.Matches {
		if !skipProto(r, m) {
			e.match(m)
		}
	}
	for _, a := range r.Actions {
		e.action(a)
	}
	switch ch := b.chains[c]; {
	case !e.ok:
	case ch == nil:
		b.fail(r, "chain %s is not part of the ruleset", ChainName(c))
	case b.viaConn:
		b.c.AddRule(&nftables.Rule{Table: b.t, Chain: ch, Exprs: e.ex, UserData: b.comment(r)})
	default:
		if err := b.appendRule(ch, e.ex, b.comment(r)); err != nil {
			b.fail(r, "%v", err)
		}
	}
	clear(e.ex) // let the expressions go
}

// exprCache holds expressions that recur from rule to rule (a protocol
// check, a header load), made once: google/nftables only reads them. It
// also keeps their encodings.
type exprCache struct {
	metas    map[expr.MetaKey]*expr.Meta
	cmps     [expr.CmpOpGte + 1]map[string]*expr.Cmp
	payloads map[expr.Payload]*expr.Payload
	// enc maps each shared expression to its encoding, nil until the
	// first use.
	enc map[expr.Any][]byte
}

func (x *exprCache) init() {
	x.enc = map[expr.Any][]byte{verdictAccept: nil, verdictDrop: nil, verdictReturn: nil}
}

// marshal encodes e as expr.Marshal does, once per shared expression.
func (x *exprCache) marshal(fam byte, e expr.Any) ([]byte, error) {
	b, shared := x.enc[e]
	if b != nil {
		return b, nil
	}
	b, err := expr.Marshal(fam, e)
	if shared && err == nil {
		x.enc[e] = b
	}
	return b, err
}

func (x *exprCache) meta(k expr.MetaKey) *expr.Meta {
	m := x.metas[k]
	if m == nil {
		if x.metas == nil {
			x.metas = map[expr.MetaKey]*expr.Meta{}
		}
		m = &expr.Meta{Key: k, Register: 1}
		x.metas[k] = m
		x.enc[m] = nil
	}
	return m
}

func (x *exprCache) cmp(op expr.CmpOp, data []byte) *expr.Cmp {
	if int(op) >= len(x.cmps) {
		return &expr.Cmp{Op: op, Register: 1, Data: data}
	}
	c := x.cmps[op][string(data)]
	if c == nil {
		if x.cmps[op] == nil {
			x.cmps[op] = map[string]*expr.Cmp{}
		}
		c = &expr.Cmp{Op: op, Register: 1, Data: data}
		x.cmps[op][string(data)] = c
		x.enc[c] = nil
	}
	return c
}

func (x *exprCache) payload(p expr.Payload) *expr.Payload {
	c := x.payloads[p]
	if c == nil {
		if x.payloads == nil {
			x.payloads = map[expr.Payload]*expr.Payload{}
		}
		c = &p
		x.payloads[p] = c
		x.enc[c] = nil
	}
	return c
}

// oneByte[v] is a 1-byte slice holding v, without an allocation per use.
var oneByte = func() (t [256][]byte) {
	var all [256]byte
	for i := range all {
		all[i] = byte(i)
		t[i] = all[i : i+1 : i+1]
	}
	return t
}()

func (e *ruleEnc) fail(format string, args ...any) {
	e.ok = false
	e.b.fail(e.r, format, args...)
}

func (e *ruleEnc) add(xs ...expr.Any) { e.ex = append(e.ex, xs...) }

func (e *ruleEnc) meta(k expr.MetaKey) { e.add(e.b.exprs.meta(k)) }

func (e *ruleEnc) cmp(op expr.CmpOp, data []byte) { e.add(e.b.exprs.cmp(op, data)) }

func (e *ruleEnc) payload(base expr.PayloadBase, off, n uint32) {
	e.add(e.b.exprs.payload(expr.Payload{DestRegister: 1, Base: base, Offset: off, Len: n}))
}

func (e *ruleEnc) bitwise(mask []byte) {
	e.add(&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: uint32(len(mask)), Mask: mask, Xor: make([]byte, len(mask))})
}

func eqOp(neg bool) expr.CmpOp {
	if neg {
		return expr.CmpOpNeq
	}
	return expr.CmpOpEq
}

func nfprotoOf(f ir.Family) byte {
	if f == ir.IPv6 {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

func (e *ruleEnc) needFamily(f ir.Family) {
	if e.nf == f {
		return
	}
	e.meta(expr.MetaKeyNFPROTO)
	e.cmp(expr.CmpOpEq, oneByte[nfprotoOf(f)])
	e.nf = f
}

func (e *ruleEnc) needL4(p policy.Proto) {
	if p == 0 || e.l4 == p {
		return
	}
	e.meta(expr.MetaKeyL4PROTO)
	e.cmp(expr.CmpOpEq, oneByte[byte(p)])
	e.l4 = p
}

// inRange matches the loaded value against lo..hi (big-endian, inclusive)
// as nft does: two comparisons, or a range expression when negated.
func (e *ruleEnc) inRange(neg bool, lo, hi []byte) {
	switch {
	case string(lo) == string(hi):
		e.cmp(eqOp(neg), lo)
	case neg:
		e.add(&expr.Range{Op: expr.CmpOpNeq, Register: 1, FromData: lo, ToData: hi})
	default:
		e.cmp(expr.CmpOpGte, lo)
		e.cmp(expr.CmpOpLte, hi)
	}
}

func (e *ruleEnc) lookup(s *nftables.Set, neg bool) {
	e.add(&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID, Invert: neg})
}

func (e *ruleEnc) namedSet(name string) *nftables.Set {
	ns := e.b.sets[name]
	if ns == nil {
		e.fail("set %s is not part of the ruleset", name)
	}
	return ns
}

// addrField returns the payload offset and length of an address.
func addrField(f ir.Family, d policy.Dir) (off, n uint32) {
	if f == ir.IPv6 {
		if d == policy.Src {
			return 8, 16
		}
		return 24, 16
	}
	if d == policy.Src {
		return 12, 4
	}
	return 16, 4
}

func (e *ruleEnc) family() (ir.Family, bool) {
	if e.r.Family != ir.IPv4 && e.r.Family != ir.IPv6 {
		e.fail("an address match in a rule for both families")
		return 0, false
	}
	return e.r.Family, true
}

func portOff(d policy.Dir) uint32 {
	if d == policy.Src {
		return 0
	}
	return 2
}

func (e *ruleEnc) match(m policy.Cond) {
	switch m := m.(type) {
	case *policy.AddrCond:
		e.addr(m)
	case *policy.ProtoCond:
		e.meta(expr.MetaKeyL4PROTO)
		if len(m.Protos) == 1 {
			e.cmp(eqOp(m.Neg), oneByte[byte(m.Protos[0])])
			if !m.Neg {
				e.l4 = m.Protos[0]
			}
			return
		}
		var es []nftables.SetElement
		for _, p := range m.Protos {
			es = append(es, nftables.SetElement{Key: []byte{byte(p)}})
		}
		e.lookup(e.b.anonSet(e.r, &nftables.Set{KeyType: nftables.TypeInetProto}, es), m.Neg)
	case *policy.PortCond:
		e.port(m)
	case *policy.IfaceCond:
		e.iface(m)
	case *policy.ICMPCond:
		e.icmp(m)
	case *policy.TCPFlagsCond:
		e.needL4(policy.ProtoTCP)
		e.payload(expr.PayloadBaseTransportHeader, 13, 1)
		e.bitwise([]byte{m.Mask})
		e.cmp(eqOp(m.Neg), []byte{m.Flags})
	case *policy.CtStateCond:
		e.ctBits(expr.CtKeySTATE, m.Neg, ctStateBits(m.Bits))
	case *policy.CtStatusCond:
		e.ctBits(expr.CtKeySTATUS, m.Neg, ctStatusBits(m.Bits))
	case *policy.MarkCond:
		if m.Ct {
			e.add(&expr.Ct{Key: expr.CtKeyMARK, Register: 1})
		} else {
			e.meta(expr.MetaKeyMARK)
		}
		if m.Set != nil {
			if s := e.namedSet(m.Set.Name); s != nil {
				e.lookup(s, m.Neg)
			}
			return
		}
		if m.Mask != 0xffffffff {
			e.bitwise(binaryutil.NativeEndian.PutUint32(m.Mask))
		}
		e.cmp(eqOp(m.Neg), binaryutil.NativeEndian.PutUint32(m.Value))
	case *policy.LimitCond:
		e.add(limitExpr(m.Over, m.Rate, m.Burst))
	case *ir.Meter:
		e.dynset(m.Set, m.Per, m.MaskLen, unix.NFT_DYNSET_OP_UPDATE, limitExpr(m.Over, m.Rate, m.Burst))
	case *ir.Connlimit:
		var flags uint32
		if m.Over {
			flags = 1 // NFT_CONNLIMIT_F_INV
		}
		e.dynset(m.Set, policy.Src, m.MaskLen, unix.NFT_DYNSET_OP_ADD, &expr.Connlimit{Count: m.Count, Flags: flags})
	case *policy.TimeCond:
		e.time(m)
	case *policy.ProbCond:
		const mod = 1 << 31
		e.add(&expr.Numgen{Register: 1, Modulus: mod, Type: unix.NFT_NG_RANDOM},
			&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4})
		e.cmp(expr.CmpOpLt, binaryutil.BigEndian.PutUint32(uint32(math.Round(m.P*mod))))
	case *policy.FieldCond:
		e.field(m)
	case *policy.ConcatCond:
		e.concat(m)
	default:
		e.fail("match %T", m)
	}
}

func (e *ruleEnc) addr(m *policy.AddrCond) {
	f, ok := e.family()
	if !ok {
		return
	}
	e.needFamily(f)
	off, n := addrField(f, m.Dir)
	if m.Set != nil {
		e.payload(expr.PayloadBaseNetworkHeader, off, n)
		if s := e.namedSet(m.Set.Name); s != nil {
			e.lookup(s, m.Neg)
		}
		return
	}
	if len(m.Items) == 1 {
		it := m.Items[0]
		if it.IsRange() {
			e.payload(expr.PayloadBaseNetworkHeader, off, n)
			e.inRange(m.Neg, it.Lo.AsSlice(), it.Hi.AsSlice())
			return
		}
		p := it.Prefix.Masked()
		bits := p.Bits()
		a := p.Addr().AsSlice()
		switch {
		case bits == int(n)*8:
			e.payload(expr.PayloadBaseNetworkHeader, off, n)
			// A host address seldom recurs the way a zone's network does:
			// keeping it in the cache costs more than encoding it again.
			e.add(&expr.Cmp{Op: eqOp(m.Neg), Register: 1, Data: a})
			return
		case bits > 0 && bits%8 == 0:
			e.payload(expr.PayloadBaseNetworkHeader, off, uint32(bits/8))
			a = a[:bits/8]
		default:
			e.payload(expr.PayloadBaseNetworkHeader, off, n)
			e.bitwise(prefixMask(int(n), bits))
		}
		e.cmp(eqOp(m.Neg), a)
		return
	}
	e.payload(expr.PayloadBaseNetworkHeader, off, n)
	kt := nftables.TypeIPAddr
	if f == ir.IPv6 {
		kt = nftables.TypeIP6Addr
	}
	isInterval := false
	var ivs []interval
	var es []nftables.SetElement
	for _, it := range m.Items {
		lo, hi := ir.Bounds(it)
		isInterval = isInterval || lo != hi
		ivs = append(ivs, interval{lo: lo.AsSlice(), hi: hi.AsSlice()})
		es = append(es, nftables.SetElement{Key: lo.AsSlice()})
	}
	if isInterval {
		es = intervalElements(ivs, true)
	}
	e.lookup(e.b.anonSet(e.r, &nftables.Set{KeyType: kt, Interval: isInterval}, es), m.Neg)
}

// prefixMask is the mask of a bits-long prefix in an n-byte field.
func prefixMask(n, bits int) []byte {
	m := make([]byte, n)
	for i := 0; i < bits; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return m
}

func (e *ruleEnc) port(m *policy.PortCond) {
	e.needL4(e.r.PortProto())
	e.payload(expr.PayloadBaseTransportHeader, portOff(m.Dir), 2)
	if s := e.b.sh.set(m); s != nil {
		if ns := e.namedSet(s.Name); ns != nil {
			e.lookup(ns, m.Neg)
		}
		return
	}
	if m.Set != nil {
		if s := e.namedSet(m.Set.Name); s != nil {
			e.lookup(s, m.Neg)
		}
		return
	}
	be := binaryutil.BigEndian.PutUint16
	if len(m.Ranges) == 1 {
		e.inRange(m.Neg, be(m.Ranges[0].Lo), be(m.Ranges[0].Hi))
		return
	}
	isInterval := false
	var ivs []interval
	var es []nftables.SetElement
	for _, r := range m.Ranges {
		isInterval = isInterval || r.Lo != r.Hi
		ivs = append(ivs, interval{lo: be(r.Lo), hi: be(r.Hi)})
		es = append(es, nftables.SetElement{Key: be(r.Lo)})
	}
	if isInterval {
		es = intervalElements(ivs, true)
	}
	e.lookup(e.b.anonSet(e.r, &nftables.Set{KeyType: nftables.TypeInetService, Interval: isInterval}, es), m.Neg)
}

func (e *ruleEnc) iface(m *policy.IfaceCond) {
	key := expr.MetaKeyIIFNAME
	if m.Dir == policy.Dst {
		key = expr.MetaKeyOIFNAME
	}
	e.meta(key)
	if m.Set != nil {
		if s := e.namedSet(m.Set.Name); s != nil {
			e.lookup(s, m.Neg)
		}
		return
	}
	if len(m.Ifaces) == 1 {
		i := m.Ifaces[0]
		if i.Wildcard {
			e.cmp(eqOp(m.Neg), []byte(i.Name))
		} else {
			e.cmp(eqOp(m.Neg), ifname(i.Name))
		}
		return
	}
	// A wildcard in a list makes the set an interval set: "eth*" is the
	// range of names starting with eth.
	isInterval := hasWildcard(m.Ifaces)
	var ivs []interval
	var es []nftables.SetElement
	for _, i := range m.Ifaces {
		lo, hi := ifname(i.Name), ifname(i.Name)
		if i.Wildcard {
			for k := len(i.Name); k < len(hi); k++ {
				hi[k] = 0xff
			}
		}
		ivs = append(ivs, interval{lo: lo, hi: hi})
		es = append(es, nftables.SetElement{Key: lo})
	}
	if isInterval {
		es = intervalElements(ivs, true)
	}
	e.lookup(e.b.anonSet(e.r, &nftables.Set{KeyType: nftables.TypeIFName, Interval: isInterval, KeyByteOrder: binaryutil.NativeEndian}, es), m.Neg)
}

func hasWildcard(is []policy.Iface) bool {
	for _, i := range is {
		if i.Wildcard {
			return true
		}
	}
	return false
}

func (e *ruleEnc) icmp(m *policy.ICMPCond) {
	f, p := ir.IPv4, policy.ProtoICMP
	tt, ct := nftables.TypeICMPType, nftables.TypeICMPCode
	if m.V6 {
		f, p = ir.IPv6, policy.ProtoICMPv6
		tt, ct = nftables.TypeICMP6Type, nftables.TypeICMPV6Code
	}
	e.needFamily(f)
	e.needL4(p)
	withCode := 0
	for _, t := range m.Types {
		if t.Code >= 0 {
			withCode++
		}
	}
	switch {
	case withCode == 0:
		e.payload(expr.PayloadBaseTransportHeader, 0, 1)
		if len(m.Types) == 1 {
			e.cmp(eqOp(m.Neg), []byte{m.Types[0].Type})
			return
		}
		var es []nftables.SetElement
		for _, t := range m.Types {
			es = append(es, nftables.SetElement{Key: []byte{t.Type}})
		}
		e.lookup(e.b.anonSet(e.r, &nftables.Set{KeyType: tt}, es), m.Neg)
	case len(m.Types) == 1 && !m.Neg:
		// nft merges the adjacent type and code comparisons into one.
		e.payload(expr.PayloadBaseTransportHeader, 0, 2)
		e.cmp(expr.CmpOpEq, []byte{m.Types[0].Type, byte(m.Types[0].Code)})
	case withCode == len(m.Types):
		e.add(&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
			&expr.Payload{DestRegister: register(4), Base: expr.PayloadBaseTransportHeader, Offset: 1, Len: 1})
		kt, err := nftables.ConcatSetType(tt, ct)
		if err != nil {
			e.fail("%v", err)
			return
		}
		var es []nftables.SetElement
		for _, t := range m.Types {
			es = append(es, nftables.SetElement{Key: []byte{t.Type, 0, 0, 0, byte(t.Code), 0, 0, 0}})
		}
		e.lookup(e.b.anonSet(e.r, &nftables.Set{KeyType: kt}, es), m.Neg)
	default:
		e.fail("this icmp match (limits.NftRefuses lets it through)")
	}
}

// register is the register nft uses for data at byte offset off of a
// concatenation: a 128-bit register number when aligned to one, a 32-bit
// one otherwise.
func register(off int) uint32 {
	k := off / 4
	if k%4 == 0 {
		return uint32(unix.NFT_REG_1 + k/4)
	}
	return uint32(unix.NFT_REG32_00 + k)
}

// Kernel conntrack state bits (NF_CT_STATE_*_BIT) and status bits (IPS_*).
func ctStateBits(b uint32) uint32 {
	var out uint32
	for i, k := range []uint32{1, 2, 4, 8, 64} {
		if b&(1<<i) != 0 {
			out |= k
		}
	}
	return out
}

func ctStatusBits(b uint32) uint32 {
	var out uint32
	for i, k := range []uint32{1, 2, 4, 8, 16, 32, 512} {
		if b&(1<<i) != 0 {
			out |= k
		}
	}
	return out
}

// ctBits matches any of bits, or with neg none of them; a negated single
// state is a plain comparison, as nft writes it (a packet has one state).
func (e *ruleEnc) ctBits(k expr.CtKey, neg bool, bits uint32) {
	e.add(&expr.Ct{Key: k, Register: 1})
	if neg && k == expr.CtKeySTATE && bits&(bits-1) == 0 {
		e.cmp(expr.CmpOpNeq, binaryutil.NativeEndian.PutUint32(bits))
		return
	}
	e.bitwise(binaryutil.NativeEndian.PutUint32(bits))
	e.cmp(map[bool]expr.CmpOp{false: expr.CmpOpNeq, true: expr.CmpOpEq}[neg], make([]byte, 4))
}

func limitExpr(over bool, r policy.Rate, burst uint32) *expr.Limit {
	if burst == 0 {
		burst = 5
	}
	unit := expr.LimitTimeSecond
	switch r.Unit {
	case time.Minute:
		unit = expr.LimitTimeMinute
	case time.Hour:
		unit = expr.LimitTimeHour
	case 24 * time.Hour:
		unit = expr.LimitTimeDay
	}
	return &expr.Limit{Type: expr.LimitTypePkts, Rate: r.Count, Unit: unit, Burst: burst, Over: over}
}

// dynset keys s by the packet's address (masked to maskLen bits) and runs
// x on the element: a meter's limit or a connection count.
func (e *ruleEnc) dynset(s *ir.Set, d policy.Dir, maskLen int, op uint32, x expr.Any) {
	f, ok := e.family()
	if !ok {
		return
	}
	e.needFamily(f)
	off, n := addrField(f, d)
	e.payload(expr.PayloadBaseNetworkHeader, off, n)
	if maskLen >= 0 && maskLen < int(n)*8 {
		e.bitwise(prefixMask(int(n), maskLen))
	}
	ns := e.namedSet(s.Name)
	if ns == nil {
		return
	}
	e.add(&expr.Dynset{SrcRegKey: 1, SetName: ns.Name, SetID: ns.ID, Operation: op, Exprs: []expr.Any{x}})
}

func (e *ruleEnc) time(m *policy.TimeCond) {
	parts := 0
	for _, b := range []bool{m.HasHour, m.Days != 0, m.HasDate} {
		if b {
			parts++
		}
	}
	if m.Neg && parts > 1 {
		e.fail("this time match (limits.NftRefuses lets it through)")
		return
	}
	hton := func(n uint32) expr.Any {
		return &expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: n, Size: n}
	}
	if m.HasHour {
		from := uint32(m.HourFrom.Round(time.Second) / time.Second)
		to := uint32(m.HourTo.Round(time.Second) / time.Second)
		neg := m.Neg
		if from > to {
			// nft turns a range across midnight into the negation of
			// the range between.
			from, to, neg = to, from, !neg
		}
		e.meta(metaTimeHour)
		e.add(hton(4))
		e.inRange(neg, binaryutil.BigEndian.PutUint32(from), binaryutil.BigEndian.PutUint32(to))
	}
	if m.Days != 0 {
		var days []byte
		for i := 0; i < 7; i++ {
			if m.Days&(1<<i) != 0 {
				days = append(days, byte((i+1)%7)) // nft: Sunday is 0
			}
		}
		e.meta(metaTimeDay)
		if len(days) == 1 {
			e.cmp(eqOp(m.Neg), days)
		} else {
			var es []nftables.SetElement
			for _, d := range days {
				es = append(es, nftables.SetElement{Key: []byte{d}})
			}
			e.lookup(e.b.anonSet(e.r, &nftables.Set{KeyType: nftables.TypeTimeDay}, es), m.Neg)
		}
	}
	if m.HasDate {
		ns := func(t time.Time) []byte {
			return binaryutil.BigEndian.PutUint64(uint64(t.UTC().Truncate(time.Second).UnixNano()))
		}
		e.meta(metaTimeNS)
		e.add(hton(8))
		e.inRange(m.Neg, ns(m.DateFrom), ns(m.DateTo))
	}
}

// concat loads the keys into consecutive registers, after the protocol
// checks they need, and looks them up in the set.
func (e *ruleEnc) concat(m *policy.ConcatCond) {
	f := ir.Family(m.Set.Family) & e.r.Family
	for _, k := range m.Keys {
		switch k {
		case policy.KeySaddr, policy.KeyDaddr:
			if f != ir.IPv4 && f != ir.IPv6 {
				e.fail("an address key of a set for both families")
				return
			}
			e.needFamily(f)
		case policy.KeySport, policy.KeyDport:
			e.needL4(e.r.PortProto())
		}
	}
	off := 0
	for _, k := range m.Keys {
		reg := register(off)
		var n uint32
		switch k {
		case policy.KeySaddr, policy.KeyDaddr:
			var o uint32
			o, n = addrField(f, map[policy.Key]policy.Dir{policy.KeySaddr: policy.Src, policy.KeyDaddr: policy.Dst}[k])
			e.add(&expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: o, Len: n})
		case policy.KeySport, policy.KeyDport:
			n = 2
			d := policy.Src
			if k == policy.KeyDport {
				d = policy.Dst
			}
			e.add(&expr.Payload{DestRegister: reg, Base: expr.PayloadBaseTransportHeader, Offset: portOff(d), Len: n})
		case policy.KeyIif, policy.KeyOif:
			n = 16
			key := expr.MetaKeyIIFNAME
			if k == policy.KeyOif {
				key = expr.MetaKeyOIFNAME
			}
			e.add(&expr.Meta{Key: key, Register: reg})
		case policy.KeyMark:
			n = 4
			e.add(&expr.Meta{Key: expr.MetaKeyMARK, Register: reg})
		default:
			e.fail("concatenation key %q", k)
			return
		}
		off += int(n+3) &^ 3
	}
	if s := e.namedSet(m.Set.Name); s != nil {
		e.lookup(s, m.Neg)
	}
}

// The verdicts without a chain, shared: google/nftables only reads them.
var (
	verdictAccept = &expr.Verdict{Kind: expr.VerdictAccept}
	verdictDrop   = &expr.Verdict{Kind: expr.VerdictDrop}
	verdictReturn = &expr.Verdict{Kind: expr.VerdictReturn}
)

func verdictExpr(a policy.Action) (*expr.Verdict, bool) {
	switch a := a.(type) {
	case *policy.Verdict:
		switch a.Kind {
		case policy.Accept:
			return verdictAccept, true
		case policy.Drop:
			return verdictDrop, true
		case policy.Return:
			return verdictReturn, true
		}
	case *ir.Jump:
		k := expr.VerdictJump
		if a.Goto {
			k = expr.VerdictGoto
		}
		return &expr.Verdict{Kind: k, Chain: ChainName(a.Target)}, true
	}
	return nil, false
}

func (e *ruleEnc) action(a policy.Action) {
	switch a := a.(type) {
	case *policy.Verdict:
		if a.Kind == policy.Reject {
			e.reject(ir.RejectOf(a))
			return
		}
		v, ok := verdictExpr(a)
		if !ok {
			e.fail("verdict %v", a.Kind)
			return
		}
		e.add(v)
	case *ir.Jump:
		v, _ := verdictExpr(a)
		e.add(v)
	case *ir.VerdictMap:
		e.vmap(a)
	case *policy.Log:
		l := &expr.Log{}
		if a.Prefix != "" {
			l.Key |= 1 << unix.NFTA_LOG_PREFIX
			l.Data = []byte(a.Prefix)
		}
		if a.Level != 4 && a.Level >= 0 && a.Level < len(logLevels) {
			l.Key |= 1 << unix.NFTA_LOG_LEVEL
			l.Level = expr.LogLevel(a.Level)
		}
		if a.TCPSequence {
			l.Flags |= expr.LogFlagsTCPSeq
		}
		if a.TCPOptions {
			l.Flags |= expr.LogFlagsTCPOpt
		}
		if a.IPOptions {
			l.Flags |= expr.LogFlagsIPOpt
		}
		if l.Flags != 0 {
			l.Key |= 1 << unix.NFTA_LOG_FLAGS
		}
		e.add(l)
	case *policy.Counter:
		e.add(&expr.Counter{})
	case *policy.SetMark:
		e.setMark(a)
	case *policy.Connmark:
		if a.Mask != 0xffffffff {
			e.fail("this connmark (limits.NftRefuses lets it through)")
			return
		}
		if a.Restore {
			e.add(&expr.Ct{Key: expr.CtKeyMARK, Register: 1},
				&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: 1})
		} else {
			e.add(&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
				&expr.Ct{Key: expr.CtKeyMARK, SourceRegister: true, Register: 1})
		}
	case *policy.NAT:
		e.nat(a)
	case *policy.Balance:
		e.balance(a)
	case *policy.Notrack:
		e.add(&expr.Notrack{})
	case *policy.Trace:
		e.add(&expr.Immediate{Register: 1, Data: []byte{1}},
			&expr.Meta{Key: expr.MetaKeyNFTRACE, SourceRegister: true, Register: 1})
	case *policy.SetTOS:
		e.setTOS(a)
	case *policy.SetTTL:
		e.setTTL(a)
	default:
		e.fail("action %T", a)
	}
}

// Reject codes: ICMP (RFC 792), ICMPv6 (RFC 4443) and nft's icmpx.
var (
	rejectV4 = map[ir.RejectKind]uint8{
		ir.RejectDefault: 3, ir.RejectPortUnreachable: 3, ir.RejectHostUnreachable: 1,
		ir.RejectNetUnreachable: 0, ir.RejectProtoUnreachable: 2, ir.RejectHostProhibited: 10,
		ir.RejectNetProhibited: 9, ir.RejectAdminProhibited: 13,
	}
	rejectV6 = map[ir.RejectKind]uint8{
		ir.RejectDefault: 4, ir.RejectPortUnreachable: 4, ir.RejectHostUnreachable: 3,
		ir.RejectNetUnreachable: 0, ir.RejectProtoUnreachable: 4, ir.RejectHostProhibited: 1,
		ir.RejectNetProhibited: 1, ir.RejectAdminProhibited: 1,
	}
	rejectX = map[ir.RejectKind]uint8{
		ir.RejectDefault: 1, ir.RejectPortUnreachable: 1, ir.RejectHostUnreachable: 2,
		ir.RejectNetUnreachable: 0, ir.RejectAdminProhibited: 3,
	}
)

func (e *ruleEnc) reject(k ir.RejectKind) {
	var code uint8
	var ok bool
	typ := uint32(unix.NFT_REJECT_ICMP_UNREACH)
	switch {
	case k == ir.RejectTCPReset:
		e.needL4(policy.ProtoTCP)
		e.add(&expr.Reject{Type: unix.NFT_REJECT_TCP_RST})
		return
	case e.r.Family == ir.IPv4:
		code, ok = rejectV4[k]
	case e.r.Family == ir.IPv6:
		code, ok = rejectV6[k]
	default:
		typ = unix.NFT_REJECT_ICMPX_UNREACH
		code, ok = rejectX[k]
	}
	if !ok {
		e.fail("this reject type in a rule for both families")
		return
	}
	e.add(&expr.Reject{Type: typ, Code: code})
}

func (e *ruleEnc) vmap(vm *ir.VerdictMap) {
	var kt nftables.SetDatatype
	var order binaryutil.ByteOrder
	var key func(policy.Cond) []byte
	switch k := vm.Key.(type) {
	case *policy.AddrCond:
		f, ok := e.family()
		if !ok {
			return
		}
		e.needFamily(f)
		off, n := addrField(f, k.Dir)
		e.payload(expr.PayloadBaseNetworkHeader, off, n)
		kt = nftables.TypeIPAddr
		if f == ir.IPv6 {
			kt = nftables.TypeIP6Addr
		}
		key = func(m policy.Cond) []byte { return m.(*policy.AddrCond).Items[0].Prefix.Addr().AsSlice() }
	case *policy.PortCond:
		e.needL4(e.r.PortProto())
		e.payload(expr.PayloadBaseTransportHeader, portOff(k.Dir), 2)
		kt = nftables.TypeInetService
		key = func(m policy.Cond) []byte { return binaryutil.BigEndian.PutUint16(m.(*policy.PortCond).Ranges[0].Lo) }
	case *policy.IfaceCond:
		mk := expr.MetaKeyIIFNAME
		if k.Dir == policy.Dst {
			mk = expr.MetaKeyOIFNAME
		}
		e.meta(mk)
		kt = nftables.TypeIFName
		order = binaryutil.NativeEndian
		key = func(m policy.Cond) []byte { return ifname(m.(*policy.IfaceCond).Ifaces[0].Name) }
	case *policy.ProtoCond:
		e.meta(expr.MetaKeyL4PROTO)
		kt = nftables.TypeInetProto
		key = func(m policy.Cond) []byte { return []byte{byte(m.(*policy.ProtoCond).Protos[0])} }
	default:
		e.fail("verdict map keyed by %T", vm.Key)
		return
	}
	var es []nftables.SetElement
	for _, en := range vm.Entries {
		v, ok := verdictExpr(en.Verdict)
		if !ok {
			e.fail("verdict map value %T", en.Verdict)
			return
		}
		es = append(es, nftables.SetElement{Key: key(en.Match), VerdictData: v})
	}
	s := e.b.anonSet(e.r, &nftables.Set{KeyType: kt, IsMap: true, DataType: nftables.TypeVerdict, KeyByteOrder: order}, es)
	e.add(&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: s.Name, SetID: s.ID})
}

func (e *ruleEnc) setMark(a *policy.SetMark) {
	load := expr.Any(&expr.Meta{Key: expr.MetaKeyMARK, Register: 1})
	store := expr.Any(&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: 1})
	if a.Ct {
		load = &expr.Ct{Key: expr.CtKeyMARK, Register: 1}
		store = &expr.Ct{Key: expr.CtKeyMARK, SourceRegister: true, Register: 1}
	}
	ne := binaryutil.NativeEndian.PutUint32
	if a.Mask == 0xffffffff {
		e.add(&expr.Immediate{Register: 1, Data: ne(a.Value)}, store)
		return
	}
	// mark & ^Mask | Value, as nft folds it: (mark & (^Mask &^ Value)) ^ Value.
	e.add(load, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: ne(^a.Mask &^ a.Value), Xor: ne(a.Value)}, store)
}

func natFamily(f ir.Family) uint32 { return uint32(nfprotoOf(f)) }

func (e *ruleEnc) nat(a *policy.NAT) {
	be16 := binaryutil.BigEndian.PutUint16
	reg := uint32(0)
	imm := func(data []byte) uint32 {
		reg++
		e.add(&expr.Immediate{Register: reg, Data: data})
		return reg
	}
	switch a.Kind {
	case policy.SNAT, policy.DNAT:
		f, ok := e.family()
		if !ok {
			return
		}
		n := &expr.NAT{Type: expr.NATTypeSourceNAT, Family: natFamily(f),
			Random: a.Random, FullyRandom: a.RandomFully, Persistent: a.Persistent}
		if a.Kind == policy.DNAT {
			n.Type = expr.NATTypeDestNAT
		}
		if a.AddrLo.IsValid() {
			n.RegAddrMin = imm(a.AddrLo.AsSlice())
			if a.AddrHi.IsValid() && a.AddrHi != a.AddrLo {
				n.RegAddrMax = imm(a.AddrHi.AsSlice())
			}
		}
		if a.PortLo != 0 {
			n.Specified = true
			n.RegProtoMin = imm(be16(a.PortLo))
			if a.PortHi != a.PortLo {
				n.RegProtoMax = imm(be16(a.PortHi))
			}
		}
		e.add(n)
	case policy.Masquerade:
		if a.PortLo != 0 {
			lo := imm(be16(a.PortLo))
			hi := lo
			if a.PortHi != a.PortLo {
				hi = imm(be16(a.PortHi))
			}
			e.masqPorts(a, lo, hi)
			return
		}
		e.add(&expr.Masq{Random: a.Random, FullyRandom: a.RandomFully, Persistent: a.Persistent})
	case policy.Redirect:
		r := &expr.Redir{}
		if a.PortLo != 0 {
			r.Flags |= unix.NF_NAT_RANGE_PROTO_SPECIFIED
			r.RegisterProtoMin = imm(be16(a.PortLo))
			if a.PortHi != a.PortLo {
				r.RegisterProtoMax = imm(be16(a.PortHi))
			}
		}
		if a.Random {
			r.Flags |= unix.NF_NAT_RANGE_PROTO_RANDOM
		}
		if a.RandomFully {
			r.Flags |= unix.NF_NAT_RANGE_PROTO_RANDOM_FULLY
		}
		e.add(r)
	default:
		e.fail("nat kind %v", a.Kind)
	}
}

// masqPorts adds a masquerade to the ports in registers lo and hi, encoded
// as nft encodes it: google/nftables v0.3.0 encodes a masquerade with
// ports without its flags (NF_NAT_RANGE_PROTO_SPECIFIED, which makes the
// kernel use the ports at all, and random, fully-random, persistent), so
// the encoding is made here and handed to appendRule through the
// expression cache, which returns a known expression's bytes as they are.
func (e *ruleEnc) masqPorts(a *policy.NAT, lo, hi uint32) {
	flags := uint32(unix.NF_NAT_RANGE_PROTO_SPECIFIED)
	if a.Random {
		flags |= unix.NF_NAT_RANGE_PROTO_RANDOM
	}
	if a.RandomFully {
		flags |= unix.NF_NAT_RANGE_PROTO_RANDOM_FULLY
	}
	if a.Persistent {
		flags |= unix.NF_NAT_RANGE_PERSISTENT
	}
	be32 := binaryutil.BigEndian.PutUint32
	data, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_MASQ_FLAGS, Data: be32(flags)},
		{Type: unix.NFTA_MASQ_REG_PROTO_MIN, Data: be32(lo)},
		{Type: unix.NFTA_MASQ_REG_PROTO_MAX, Data: be32(hi)},
	})
	if err == nil {
		data, err = netlink.MarshalAttributes([]netlink.Attribute{
			{Type: unix.NFTA_EXPR_NAME, Data: []byte("masq\x00")},
			{Type: unix.NLA_F_NESTED | unix.NFTA_EXPR_DATA, Data: data},
		})
	}
	if err != nil {
		e.fail("%v", err)
		return
	}
	m := &expr.Masq{ToPorts: true, RegProtoMin: lo, RegProtoMax: hi, Random: a.Random, FullyRandom: a.RandomFully, Persistent: a.Persistent}
	e.b.exprs.enc[m] = data
	e.add(m)
}

func (e *ruleEnc) balance(a *policy.Balance) {
	f, ok := e.family()
	if !ok {
		return
	}
	at, alen := nftables.TypeIPAddr, 4
	if f == ir.IPv6 {
		at, alen = nftables.TypeIP6Addr, 16
	}
	dt, err := nftables.ConcatSetType(at, nftables.TypeInetService)
	if err != nil {
		e.fail("%v", err)
		return
	}
	var es []nftables.SetElement
	for i, ep := range a.Endpoints {
		addr := ep.Addr()
		if addr.Is4In6() {
			addr = netip.AddrFrom4(addr.As4())
		}
		if addr.BitLen()/8 != alen {
			e.fail("balance endpoint %s of another family", ep)
			return
		}
		val := append(addr.AsSlice(), binaryutil.BigEndian.PutUint16(ep.Port())...)
		es = append(es, nftables.SetElement{Key: binaryutil.NativeEndian.PutUint32(uint32(i)), Val: pad4(val)})
	}
	e.add(&expr.Numgen{Register: 1, Modulus: uint32(len(a.Endpoints)), Type: unix.NFT_NG_RANDOM})
	s := e.b.anonSet(e.r, &nftables.Set{KeyType: nftables.TypeInteger, IsMap: true, DataType: dt, KeyByteOrder: binaryutil.NativeEndian}, es)
	e.add(&expr.Lookup{SourceRegister: 1, DestRegister: 1, IsDestRegSet: true, SetName: s.Name, SetID: s.ID},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: natFamily(f), RegAddrMin: 1, RegProtoMin: register(alen)})
}

func (e *ruleEnc) setTOS(a *policy.SetTOS) {
	if a.Value&3 != 0 {
		e.fail("this tos value (limits.NftRefuses lets it through)")
		return
	}
	f, ok := e.family()
	if !ok {
		return
	}
	dscp := a.Value >> 2
	mask, xor := []byte{0xff, 0x03}, []byte{0, dscp << 2}
	csum := expr.CsumTypeInet
	if f == ir.IPv6 {
		mask, xor = []byte{0xf0, 0x3f}, []byte{dscp >> 2, (dscp & 3) << 6}
		csum = expr.CsumTypeNone
	}
	e.write(0, mask, xor, csum)
}

func (e *ruleEnc) setTTL(a *policy.SetTTL) {
	f, ok := e.family()
	if !ok {
		return
	}
	if f == ir.IPv6 {
		e.add(&expr.Immediate{Register: 1, Data: []byte{a.Value}},
			&expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 7, Len: 1})
		return
	}
	e.write(8, []byte{0x00, 0xff}, []byte{a.Value, 0}, expr.CsumTypeInet)
}

// write rewrites two bytes of the network header at off: (old & mask) ^
// xor, fixing the IPv4 header checksum when csum says so.
func (e *ruleEnc) write(off uint32, mask, xor []byte, csum expr.PayloadCsumType) {
	w := &expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 2}
	if csum == expr.CsumTypeInet {
		w.CsumType, w.CsumOffset = csum, 10
	}
	e.payload(expr.PayloadBaseNetworkHeader, off, 2)
	e.add(&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 2, Mask: mask, Xor: xor}, w)
}
