package apply

import (
	"encoding/binary"
	"strings"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/nft/batch"
)

// Counters across a full replace. An incremental apply leaves the rules
// it does not touch alone, counters included. A full replace makes every
// rule anew; when the record of the last apply vouches for the live table
// and its handles, the rules that keep their identity (see ruleKey and
// matchRules) and count (a "counter" statement) start from the values
// the kernel holds for them: each such rule is read by handle (one rule,
// not a dump of the chain) and its counter's packets and bytes go into
// the new rule's counter expression, in the same batch. Packets counted
// between that read and the commit are lost, as with iptables-restore -c.

// carry is what a full replace needs to carry counters over: the last
// apply's script and the handles of its rules, want's script parsed.
type carry struct {
	have, want *Table
	handles    map[string][]uint64
}

// counterKey is the counter statement in a rule's text.
const counterKey = " counter"

// carryCounters sets, in msgs (the full batch of want), the counter values
// of the rules that keep their identity and count. It changes nothing on
// an error reading a rule: counters then start from zero, as they would
// without it.
func carryCounters(c *batch.Conn, cr *carry, msgs []netlink.Message) {
	if cr == nil || cr.handles == nil {
		return
	}
	hc := map[string]*ChainListing{}
	for _, ch := range cr.have.Chains {
		hc[ch.Name] = ch
	}
	// The batch's rule messages of each chain, in order: the chain's rules
	// in the script.
	ruleMsgs := map[string][]int{}
	newRule := netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWRULE)
	for i, m := range msgs {
		if m.Header.Type == newRule && len(m.Data) >= 4 {
			ch := batch.AttrString(m.Data[4:], unix.NFTA_RULE_CHAIN)
			ruleMsgs[ch] = append(ruleMsgs[ch], i)
		}
	}
	for _, w := range cr.want.Chains {
		h := hc[w.Name]
		hs := cr.handles[w.Name]
		if h == nil || len(hs) != len(h.Rules) || len(ruleMsgs[w.Name]) != len(w.Rules) {
			continue
		}
		counted := false
		for _, r := range w.Rules {
			counted = counted || strings.Contains(ruleKey(r), counterKey)
		}
		if !counted {
			continue
		}
		for j, i := range matchRules(h.Rules, w.Rules) {
			if i < 0 || !strings.Contains(ruleKey(w.Rules[j]), counterKey) {
				continue
			}
			live, err := c.Rule(nft.Table, w.Name, hs[i])
			if err != nil {
				return
			}
			packets, bytes, ok := ruleCounter(live)
			if !ok || packets == 0 && bytes == 0 {
				continue
			}
			k := ruleMsgs[w.Name][j]
			msgs[k].Data = setRuleCounter(msgs[k].Data, packets, bytes)
		}
	}
}

// ruleCounter returns the values of the first counter expression of a
// rule as the kernel dumps it.
func ruleCounter(rule []byte) (packets, bytes uint64, ok bool) {
	for _, a := range attrs(rule) {
		if a.Type&^unix.NLA_F_NESTED != unix.NFTA_RULE_EXPRESSIONS {
			continue
		}
		for _, el := range attrs(a.Data) {
			if batch.AttrString(el.Data, unix.NFTA_EXPR_NAME) != "counter" {
				continue
			}
			for _, d := range attrs(el.Data) {
				if d.Type&^unix.NLA_F_NESTED == unix.NFTA_EXPR_DATA {
					return batch.AttrU64(d.Data, unix.NFTA_COUNTER_PACKETS), batch.AttrU64(d.Data, unix.NFTA_COUNTER_BYTES), true
				}
			}
		}
	}
	return 0, 0, false
}

// setRuleCounter returns a rule message's payload (nfgenmsg and
// attributes) with the values of its first counter expression set.
func setRuleCounter(data []byte, packets, bytes uint64) []byte {
	as := attrs(data[4:])
	done := false
	for ai, a := range as {
		if a.Type&^unix.NLA_F_NESTED != unix.NFTA_RULE_EXPRESSIONS {
			continue
		}
		els := attrs(a.Data)
		for ei, el := range els {
			if done || batch.AttrString(el.Data, unix.NFTA_EXPR_NAME) != "counter" {
				continue
			}
			vals := []netlink.Attribute{
				{Type: unix.NFTA_COUNTER_BYTES, Data: binary.BigEndian.AppendUint64(nil, bytes)},
				{Type: unix.NFTA_COUNTER_PACKETS, Data: binary.BigEndian.AppendUint64(nil, packets)},
			}
			vb, err := netlink.MarshalAttributes(vals)
			if err != nil {
				return data
			}
			ex := []netlink.Attribute{
				{Type: unix.NFTA_EXPR_NAME, Data: []byte("counter\x00")},
				{Type: unix.NLA_F_NESTED | unix.NFTA_EXPR_DATA, Data: vb},
			}
			eb, err := netlink.MarshalAttributes(ex)
			if err != nil {
				return data
			}
			els[ei].Data = eb
			done = true
		}
		if !done {
			return data
		}
		lb, err := netlink.MarshalAttributes(els)
		if err != nil {
			return data
		}
		as[ai].Data = lb
	}
	if !done {
		return data
	}
	out, err := netlink.MarshalAttributes(as)
	if err != nil {
		return data
	}
	return append(append([]byte(nil), data[:4]...), out...)
}
