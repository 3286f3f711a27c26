package nft

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// Messages encodes, with the google/nftables API, the ruleset that Text(rs)
// describes as the netlink messages of one batch (for batch.Conn's
// CommitMessages), encoded the way `nft -f` (nftables 1.0.x) encodes
// that script, so that `nft list ruleset` shows the same text after either:
//
//   - the inet table fwc is replaced: added, deleted and added again in the
//     same batch (batch.ResetTable), so the batch works whether or not the
//     table exists and touches no other table;
//   - its chains (base chains with type, hook, priority and policy, then
//     user chains), in Text's order;
//   - its named sets with their flags, timeouts, sizes and elements (split
//     by batch.AddSetElements so that no message overflows);
//   - the rules of ir.Merge(rs), each with the implicit protocol checks
//     nft adds (meta nfproto, meta l4proto), its anonymous sets and verdict
//     maps, and its "file:line" comment as rule userdata.
//
// Where it makes the batch cheaper for the kernel with the same result, the
// batch differs from nft's: anonymous sets come named (__set0, __map0, …,
// the names the kernel would choose) and their elements address them by
// set ID alone (see builder.nameAnon and builder.patch). Tables, chains and
// sets are encoded by google/nftables; rules by appendRule, which writes
// the bytes google/nftables' AddRule would.
//
// A rule nft cannot express (package limits) is left out with an error
// diagnostic, the one Text reports for it; with any, no messages are
// returned and the error is a *RefusedError holding those diagnostics.
// Any other error is a construct the encoder failed to encode, a bug,
// named with its source position.
func Messages(rs *ir.Ruleset) ([]netlink.Message, error) { return Prepare(rs).Messages() }

// Messages returns the batch for the prepared ruleset (see the package
// function Messages).
func (pr *Prepared) Messages() ([]netlink.Message, error) {
	msgs, ds, err := pr.messages(false)
	if err == nil && ds.HasErrors() {
		err = &RefusedError{Diagnostics: ds}
	}
	return msgs, err
}

// Batch is Messages with the diagnostics apart: the messages, or none when
// the diagnostics hold an error (the same diagnostics Text returns for the
// ruleset), and an error for a failure to encode.
func (pr *Prepared) Batch() ([]netlink.Message, diag.Diagnostics, error) {
	return pr.messages(false)
}

// RefusedError is Messages's error for a ruleset with rules nft cannot
// express: their diagnostics, as Text and fwc check report them.
type RefusedError struct{ Diagnostics diag.Diagnostics }

func (e *RefusedError) Error() string {
	var b strings.Builder
	for i, d := range e.Diagnostics {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Error())
	}
	return b.String()
}

// messages is Batch; with viaConn, rules too are queued on the
// google/nftables Conn (the encoding appendRule must reproduce, for tests).
func (pr *Prepared) messages(viaConn bool) ([]netlink.Message, diag.Diagnostics, error) {
	rec, err := batch.NewRecorder()
	if err != nil {
		return nil, nil, err
	}
	b := &builder{
		c:        rec.Conn,
		rec:      rec,
		viaConn:  viaConn,
		sets:     map[string]*nftables.Set{},
		chains:   map[*ir.Chain]*nftables.Chain{},
		anon:     map[uint32]bool{},
		nameAnon: true,
	}
	b.exprs.init()
	b.build(pr)
	if len(b.errs) > 0 {
		return nil, b.diags, errors.Join(b.errs...)
	}
	if b.diags.HasErrors() {
		return nil, b.diags, nil
	}
	msgs, err := rec.Messages()
	if err != nil {
		return nil, b.diags, err
	}
	for i := range msgs {
		if err := b.patch(&msgs[i]); err != nil {
			return nil, b.diags, err
		}
	}
	return msgs, b.diags, nil
}

// build queues the prepared ruleset.
func (b *builder) build(pr *Prepared) {
	b.t = batch.ResetTable(b.c, &nftables.Table{Name: Table, Family: nftables.TableFamilyINet})
	m := pr.rs
	b.sh = pr.sh
	for _, t := range m.Tables {
		for _, ch := range t.Chains {
			b.chain(ch)
		}
	}
	for _, s := range m.Sets {
		if strings.HasPrefix(s.Name, "__") {
			b.nameAnon = false
		}
	}
	for _, s := range b.sh.allSets(m) {
		b.namedSet(s)
	}
	for _, t := range m.Tables {
		for _, ch := range t.Chains {
			for _, r := range ch.Rules {
				b.rule(ch, r)
			}
		}
	}
}

type builder struct {
	c       *nftables.Conn
	rec     *batch.Recorder // the batch; c is its Conn
	viaConn bool            // rules are queued on c instead of appendRule

	t      *nftables.Table
	sets   map[string]*nftables.Set // by name: a condition names a policy set, the ruleset declares an ir.Set
	chains map[*ir.Chain]*nftables.Chain
	// diags are the rules nft cannot express (left out), errs the
	// failures to encode.
	diags diag.Diagnostics
	errs  []error
	// anon holds the IDs of the anonymous sets, true for those keyed in
	// host byte order (see patch).
	anon map[uint32]bool
	// sh holds the port lists the rules share as named sets.
	sh *shared
	// nameAnon says anonymous sets are named here (__set0, __set1, …,
	// __map0, …: the names the kernel would pick in the fresh table)
	// instead of by the kernel from the template "__set%d": picking a
	// name scans every set of the table with sscanf, per new set. It is
	// off when a named set's name could collide.
	nameAnon bool
	nSets    int
	nMaps    int
	// enc is the rule being encoded, exprs the expressions rules share.
	enc   ruleEnc
	exprs exprCache
	// lastID is the last set ID given out. Every set gets an ID of this
	// batch (google/nftables would take one from its process-wide counter,
	// and only then replace an anonymous set's name by its template).
	lastID uint32
}

// setID returns a new set ID for this batch.
func (b *builder) setID() uint32 {
	b.lastID++
	return b.lastID
}

func (b *builder) fail(r *ir.Rule, format string, args ...any) {
	at := ""
	if r != nil && len(r.Pos) > 0 {
		at = fmt.Sprintf("%s:%d: ", r.Pos[0].File, r.Pos[0].Line)
	}
	b.errs = append(b.errs, fmt.Errorf("%snft netlink: %s", at, fmt.Sprintf(format, args...)))
}

var hooks = map[policy.Hook]*nftables.ChainHook{
	policy.Prerouting:  nftables.ChainHookPrerouting,
	policy.Input:       nftables.ChainHookInput,
	policy.Forward:     nftables.ChainHookForward,
	policy.Output:      nftables.ChainHookOutput,
	policy.Postrouting: nftables.ChainHookPostrouting,
}

func (b *builder) chain(c *ir.Chain) {
	nc := &nftables.Chain{Name: ChainName(c), Table: b.t}
	if c.IsBase() {
		h, ok := hooks[c.Hook]
		if !ok {
			b.fail(nil, "chain %s: unknown hook %q", nc.Name, c.Hook)
			return
		}
		pol := nftables.ChainPolicyAccept
		if c.Policy == policy.Drop {
			pol = nftables.ChainPolicyDrop
		}
		nc.Hooknum = h
		nc.Priority = nftables.ChainPriorityRef(nftables.ChainPriority(c.Priority))
		nc.Type = nftables.ChainType(c.Type)
		nc.Policy = &pol
	}
	b.chains[c] = b.c.AddChain(nc)
}

// keyType is the nft datatype of a set type part.
func keyType(t policy.SetType) (nftables.SetDatatype, bool) {
	switch t {
	case policy.IPv4Addr, policy.IPv4Net:
		return nftables.TypeIPAddr, true
	case policy.IPv6Addr, policy.IPv6Net:
		return nftables.TypeIP6Addr, true
	case policy.PortType:
		return nftables.TypeInetService, true
	case policy.IfaceT:
		return nftables.TypeIFName, true
	case policy.MarkT:
		return nftables.TypeMark, true
	}
	return nftables.TypeInvalid, false
}

// keyOrder is the byte order nft records in a set's userdata for its key:
// host order for marks, network order otherwise.
func keyOrder(ts []policy.SetType) binaryutil.ByteOrder {
	if len(ts) == 1 && (ts[0] == policy.MarkT || ts[0] == policy.IfaceT) {
		return binaryutil.NativeEndian
	}
	return binaryutil.BigEndian
}

func (b *builder) namedSet(s *ir.Set) {
	var parts []nftables.SetDatatype
	for _, t := range s.Type {
		kt, ok := keyType(t)
		if !ok {
			b.fail(nil, "set %s: element type %q", s.Name, t)
			return
		}
		parts = append(parts, kt)
	}
	kt := parts[0]
	if len(parts) > 1 {
		var err error
		if kt, err = nftables.ConcatSetType(parts...); err != nil {
			b.fail(nil, "set %s: %v", s.Name, err)
			return
		}
	}
	hasTimeout := s.Timeout > 0
	for _, e := range s.Elements {
		hasTimeout = hasTimeout || e.Timeout > 0
	}
	ns := &nftables.Set{
		ID:            b.setID(),
		Table:         b.t,
		Name:          s.Name,
		Interval:      s.Interval,
		Concatenation: s.Interval && len(parts) > 1,
		HasTimeout:    hasTimeout,
		Dynamic:       s.Dynamic,
		Timeout:       s.Timeout,
		KeyType:       kt,
		KeyByteOrder:  keyOrder(s.Type),
		Size:          s.Size,
	}
	if ns.Size == 0 && s.Dynamic {
		ns.Size = 65535
	}
	elems, err := setElements(s)
	if err != nil {
		b.fail(nil, "set %s: %v", s.Name, err)
		return
	}
	if err := b.c.AddSet(ns, nil); err != nil {
		b.fail(nil, "set %s: %v", s.Name, err)
		return
	}
	if err := batch.AddSetElements(b.c, ns, elems); err != nil {
		b.fail(nil, "set %s: %v", s.Name, err)
		return
	}
	b.sets[s.Name] = ns
}

// setElements encodes the elements of a named set as nft does: an interval
// set of one part as sorted [start, end+1) pairs, the end flagged
// IntervalEnd and left out at the top of the key space, after a leading
// end element at zero; a concatenation with intervals with KeyEnd (the
// inclusive end); other sets one key per element.
func setElements(s *ir.Set) ([]nftables.SetElement, error) {
	var out []nftables.SetElement
	if !s.Interval {
		for _, e := range s.Elements {
			k, err := concatKey(s.Type, e.Parts, false)
			if err != nil {
				return nil, err
			}
			out = append(out, nftables.SetElement{Key: k, Timeout: e.Timeout})
		}
		return out, nil
	}
	if len(s.Type) > 1 {
		for _, e := range s.Elements {
			lo, err := concatKey(s.Type, e.Parts, false)
			if err != nil {
				return nil, err
			}
			hi, err := concatKey(s.Type, e.Parts, true)
			if err != nil {
				return nil, err
			}
			out = append(out, nftables.SetElement{Key: lo, KeyEnd: hi, Timeout: e.Timeout})
		}
		return out, nil
	}
	var ivs []interval
	for _, e := range s.Elements {
		if len(e.Parts) != 1 {
			return nil, fmt.Errorf("element with %d parts in a set of one", len(e.Parts))
		}
		lo, hi := ir.Bounds(e.Parts[0].Addr)
		ivs = append(ivs, interval{lo: lo.AsSlice(), hi: hi.AsSlice(), timeout: e.Timeout})
	}
	return intervalElements(ivs, false), nil
}

// interval is an inclusive range of big-endian keys of one length.
type interval struct {
	lo, hi  []byte
	timeout time.Duration
}

// intervalElements sorts ivs and encodes them as start and end elements;
// with merge, overlapping and adjacent intervals become one (nft does that
// for anonymous sets).
func intervalElements(ivs []interval, merge bool) []nftables.SetElement {
	slices.SortStableFunc(ivs, func(a, b interval) int { return cmpBytes(a.lo, b.lo) })
	if merge {
		var m []interval
		for _, iv := range ivs {
			if n := len(m); n > 0 {
				last := &m[n-1]
				if end, ok := inc(last.hi); !ok || cmpBytes(iv.lo, end) <= 0 {
					if cmpBytes(iv.hi, last.hi) > 0 {
						last.hi = iv.hi
					}
					continue
				}
			}
			m = append(m, iv)
		}
		ivs = m
	}
	var out []nftables.SetElement
	if len(ivs) > 0 && !isZero(ivs[0].lo) {
		out = append(out, nftables.SetElement{Key: make([]byte, len(ivs[0].lo)), IntervalEnd: true})
	}
	for _, iv := range ivs {
		out = append(out, nftables.SetElement{Key: iv.lo, Timeout: iv.timeout})
		if end, ok := inc(iv.hi); ok {
			out = append(out, nftables.SetElement{Key: end, IntervalEnd: true})
		}
	}
	return out
}

func cmpBytes(a, b []byte) int { return strings.Compare(string(a), string(b)) }

func isZero(b []byte) bool { return !slices.ContainsFunc(b, func(x byte) bool { return x != 0 }) }

// inc returns b+1 as a big-endian number, and false when b is all ones.
func inc(b []byte) ([]byte, bool) {
	out := slices.Clone(b)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]++
		if out[i] != 0 {
			return out, true
		}
	}
	return nil, false
}

// concatKey encodes an element's parts, each padded to a multiple of four
// bytes when there are several; with hi, an address part is its last
// address.
func concatKey(ts []policy.SetType, parts []policy.SetValue, hi bool) ([]byte, error) {
	if len(parts) != len(ts) {
		return nil, fmt.Errorf("element with %d parts in a set of %d", len(parts), len(ts))
	}
	var k []byte
	for i, t := range ts {
		v := valueBytes(t, parts[i], hi)
		if v == nil {
			return nil, fmt.Errorf("element type %q", t)
		}
		k = append(k, v...)
		if len(ts) > 1 {
			k = pad4(k)
		}
	}
	return k, nil
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func valueBytes(t policy.SetType, v policy.SetValue, hi bool) []byte {
	switch t {
	case policy.IPv4Addr, policy.IPv6Addr, policy.IPv4Net, policy.IPv6Net:
		lo, h := ir.Bounds(v.Addr)
		if hi {
			return h.AsSlice()
		}
		return lo.AsSlice()
	case policy.PortType:
		return binaryutil.BigEndian.PutUint16(v.Port)
	case policy.IfaceT:
		return ifname(v.Iface)
	case policy.MarkT:
		return binaryutil.NativeEndian.PutUint32(v.Mark)
	}
	return nil
}

// ifname is an interface name as nft keys it: NUL-padded to IFNAMSIZ.
func ifname(s string) []byte {
	b := make([]byte, 16)
	copy(b, s)
	return b
}

// anonSet queues a constant anonymous set holding elems and returns it.
// The elements travel in their own messages (split as for named sets);
// the set's size is their count, as nft declares it.
func (b *builder) anonSet(r *ir.Rule, s *nftables.Set, elems []nftables.SetElement) *nftables.Set {
	s.Table = b.t
	s.Anonymous = true
	s.Constant = true
	s.Size = uint32(len(elems))
	s.ID = b.setID()
	switch {
	case !b.nameAnon && s.IsMap:
		s.Name = "__map%d"
	case !b.nameAnon:
		s.Name = "__set%d"
	case s.IsMap:
		s.Name = "__map" + strconv.Itoa(b.nMaps)
		b.nMaps++
	default:
		s.Name = "__set" + strconv.Itoa(b.nSets)
		b.nSets++
	}
	if err := b.c.AddSet(s, nil); err != nil {
		b.fail(r, "anonymous set: %v", err)
		return s
	}
	b.anon[s.ID] = s.KeyByteOrder == binaryutil.NativeEndian
	// google/nftables refuses to add elements to an anonymous set in a
	// separate call, but the kernel takes them (nft does the same): the
	// copy is only a way past that check.
	cp := *s
	cp.Anonymous = false
	if err := batch.AddSetElements(b.c, &cp, elems); err != nil {
		b.fail(r, "anonymous set: %v", err)
	}
	return s
}

func (b *builder) comment(r *ir.Rule) []byte {
	c := r.Comment(128)
	if c == "" {
		return nil
	}
	// nft stores the comment as typed as the rule's userdata; Quote
	// replaces the double quotes an nft string cannot hold.
	c = strings.ReplaceAll(c, `"`, `'`)
	return userdata.AppendString(nil, userdata.TypeComment, c)
}
