package nft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// Selection names parts of a prepared ruleset, by their place in Text:
// the rules of a chain by their index among the chain's rules, the
// elements of a set by their index among its elements.
type Selection struct {
	Rules    map[string][]int // chain name → rule indexes, ascending
	Elements map[string][]int // set name → element indexes, ascending
}

// Part is the batch for a Selection, for a table that already holds the
// rest: no table, chain or named set is created.
type Part struct {
	// Rules holds, per chain and in the order of the selection, the
	// messages that add each selected rule: its anonymous sets with their
	// elements, then the rule (the last message), appended to the chain.
	// Anonymous sets are named by the kernel (the template "__set%d"),
	// so they cannot collide with those of the live table.
	Rules map[string][][]netlink.Message
	// Elements holds, per set, the messages that add the selected
	// elements (no NLM_F_EXCL: an element already there is no error).
	Elements map[string][]netlink.Message
}

// Partial encodes the parts of the ruleset that sel names (see Part).
// Rules are encoded as Messages encodes them, but for the names of
// anonymous sets.
func (pr *Prepared) Partial(sel Selection) (*Part, error) {
	rec, err := batch.NewRecorder()
	if err != nil {
		return nil, err
	}
	b := &builder{
		c:      rec.Conn,
		rec:    rec,
		sets:   map[string]*nftables.Set{},
		chains: map[*ir.Chain]*nftables.Chain{},
		anon:   map[uint32]bool{},
		// The kernel picks free names: the live table holds anonymous
		// sets of its own.
		nameAnon: false,
		sh:       pr.sh,
		t:        &nftables.Table{Name: Table, Family: nftables.TableFamilyINet},
	}
	b.exprs.init()
	out := &Part{Rules: map[string][][]netlink.Message{}, Elements: map[string][]netlink.Message{}}
	for _, s := range b.sh.allSets(pr.rs) {
		// Rules name a named set, which exists in the table: the kernel
		// finds it by name. Its ID is the one the full batch gives it
		// (in order, from 1), so that a rule encodes the same bytes.
		b.sets[s.Name] = &nftables.Set{Table: b.t, Name: s.Name, ID: b.setID()}
		idx, ok := sel.Elements[s.Name]
		if !ok {
			continue
		}
		if s.Interval {
			return nil, fmt.Errorf("set %s: elements of an interval set are not added one by one", s.Name)
		}
		all, err := setElements(s)
		if err != nil {
			return nil, fmt.Errorf("set %s: %v", s.Name, err)
		}
		enc := make([][]byte, 0, len(idx))
		for _, i := range idx {
			if i < 0 || i >= len(all) {
				return nil, fmt.Errorf("set %s has no element %d", s.Name, i)
			}
			enc = append(enc, EncodeElement(all[i]))
		}
		out.Elements[s.Name] = batch.ElementMessages(Table, s.Name, enc)
	}
	for _, t := range pr.rs.Tables {
		for _, ch := range t.Chains {
			name := ChainName(ch)
			b.chains[ch] = &nftables.Chain{Name: name, Table: b.t}
			for _, i := range sel.Rules[name] {
				if i < 0 || i >= len(ch.Rules) {
					return nil, fmt.Errorf("chain %s has no rule %d", name, i)
				}
				before := len(must(rec.Messages()))
				b.rule(ch, ch.Rules[i])
				if len(b.errs) > 0 {
					return nil, errors.Join(b.errs...)
				}
				msgs, err := rec.Messages()
				if err != nil {
					return nil, err
				}
				group := append([]netlink.Message(nil), msgs[before:]...)
				for j := range group {
					if err := b.patch(&group[j]); err != nil {
						return nil, err
					}
				}
				out.Rules[name] = append(out.Rules[name], group)
			}
		}
	}
	return out, nil
}

func must(msgs []netlink.Message, err error) []netlink.Message {
	if err != nil {
		return nil
	}
	return msgs
}

// SetElements returns the encoded elements of the named set of the
// prepared ruleset, all of them, in the order the batch adds them (for an
// interval set, the start and end elements nft makes of its ranges), each
// as the attributes of one NFTA_LIST_ELEM; false when there is no such
// set.
func (pr *Prepared) SetElements(name string) ([][]byte, bool, error) {
	for _, s := range pr.sh.allSets(pr.rs) {
		if s.Name != name {
			continue
		}
		all, err := setElements(s)
		if err != nil {
			return nil, true, fmt.Errorf("set %s: %v", s.Name, err)
		}
		out := make([][]byte, len(all))
		for i := range all {
			out[i] = EncodeElement(all[i])
		}
		return out, true, nil
	}
	return nil, false, nil
}

// EncodeElement encodes a set element as the attributes of one
// NFTA_LIST_ELEM, as google/nftables v0.3.0 encodes one of a set without
// data (key, key end, interval end flag, timeout).
func EncodeElement(e nftables.SetElement) []byte {
	var d []byte
	d = appendAttr(d, unix.NLA_F_NESTED|unix.NFTA_SET_ELEM_KEY, appendAttr(nil, unix.NFTA_DATA_VALUE, e.Key))
	if len(e.KeyEnd) > 0 {
		d = appendAttr(d, unix.NLA_F_NESTED|nftaSetElemKeyEnd, appendAttr(nil, unix.NFTA_DATA_VALUE, e.KeyEnd))
	}
	if e.IntervalEnd {
		d = appendAttr(d, unix.NFTA_SET_ELEM_FLAGS, binary.BigEndian.AppendUint32(nil, unix.NFT_SET_ELEM_INTERVAL_END))
	}
	if e.Timeout != 0 {
		d = appendAttr(d, unix.NFTA_SET_ELEM_TIMEOUT, binary.BigEndian.AppendUint64(nil, uint64(e.Timeout.Milliseconds())))
	}
	return d
}

// nftaSetElemKeyEnd is NFTA_SET_ELEM_KEY_END.
const nftaSetElemKeyEnd = 10

// ElementText is how Text writes element e of set s.
func ElementText(s *ir.Set, i int) string {
	e := s.Elements[i]
	var parts []string
	for j, v := range e.Parts {
		if j < len(s.Type) {
			parts = append(parts, value(s.Type[j], v))
		}
	}
	t := strings.Join(parts, " . ")
	if e.Timeout > 0 {
		t += " timeout " + Duration(e.Timeout)
	}
	return t
}

// Sets returns the named sets of the prepared ruleset, those of the
// policy and the shared ones, as Text declares them.
func (pr *Prepared) Sets() []*ir.Set { return pr.sh.allSets(pr.rs) }

// ElementKey encodes an element of set s given as Text writes it (see
// ElementText), for a set that is not an interval set: the key the
// kernel knows it by. false when the text is not such an element.
func ElementKey(s *ir.Set, text string) ([]byte, bool) {
	if s.Interval {
		return nil, false
	}
	if i := strings.Index(text, " timeout "); i >= 0 {
		text = text[:i]
	}
	parts := strings.Split(text, " . ")
	if len(parts) != len(s.Type) {
		return nil, false
	}
	var k []byte
	for i, t := range s.Type {
		p := parts[i]
		switch t {
		case policy.IPv4Addr, policy.IPv6Addr, policy.IPv4Net, policy.IPv6Net:
			a, err := netip.ParseAddr(p)
			if err != nil {
				return nil, false
			}
			k = append(k, a.AsSlice()...)
		case policy.PortType:
			v, err := strconv.ParseUint(p, 10, 16)
			if err != nil {
				return nil, false
			}
			k = binary.BigEndian.AppendUint16(k, uint16(v))
		case policy.IfaceT:
			v, err := strconv.Unquote(p)
			if err != nil || len(v) > 15 {
				return nil, false
			}
			k = append(k, ifname(v)...)
		case policy.MarkT:
			v, err := strconv.ParseUint(strings.TrimPrefix(p, "0x"), 16, 32)
			if err != nil || !strings.HasPrefix(p, "0x") {
				return nil, false
			}
			k = binary.NativeEndian.AppendUint32(k, uint32(v))
		default:
			return nil, false
		}
		if len(s.Type) > 1 {
			k = pad4(k)
		}
	}
	return k, true
}

// ChainRules counts the rules of each chain of the prepared ruleset, by
// chain name: the rules Text writes and Partial indexes.
func (pr *Prepared) ChainRules() map[string]int {
	out := map[string]int{}
	for _, t := range pr.rs.Tables {
		for _, c := range t.Chains {
			out[ChainName(c)] = len(c.Rules)
		}
	}
	return out
}
