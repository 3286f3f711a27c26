package batch

import (
	"encoding/binary"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// DeleteRuleMessage returns the message that deletes the rule with handle
// from chain of the inet table table.
func DeleteRuleMessage(table, chain string, handle uint64) netlink.Message {
	data := nfgenmsg(unix.NFPROTO_INET, 0)
	data = append(data, strAttr(unix.NFTA_RULE_TABLE, table)...)
	data = append(data, strAttr(unix.NFTA_RULE_CHAIN, chain)...)
	data = appendAttr(data, unix.NFTA_RULE_HANDLE, binary.BigEndian.AppendUint64(nil, handle))
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_DELRULE), Flags: netlink.Request},
		Data:   data,
	}
}

// FlushSetMessage returns the message that removes every element of the
// set named set of the inet table table (a set-element delete without an
// element list).
func FlushSetMessage(table, set string) netlink.Message {
	data := nfgenmsg(unix.NFPROTO_INET, 0)
	data = append(data, strAttr(unix.NFTA_SET_ELEM_LIST_TABLE, table)...)
	data = append(data, strAttr(unix.NFTA_SET_ELEM_LIST_SET, set)...)
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_DELSETELEM), Flags: netlink.Request},
		Data:   data,
	}
}

// PlaceRule makes m, a message that appends a rule to its chain, put the
// rule next to the rule with handle instead: after it when after is set,
// before it otherwise (NFTA_RULE_POSITION, with or without
// NLM_F_APPEND). With handle 0 the rule is appended at the end.
func PlaceRule(m netlink.Message, handle uint64, after bool) netlink.Message {
	m.Header.Flags = netlink.Request | netlink.Create
	if after || handle == 0 {
		m.Header.Flags |= unix.NLM_F_APPEND
	}
	if handle != 0 {
		m.Data = appendAttr(append([]byte(nil), m.Data...), unix.NFTA_RULE_POSITION, binary.BigEndian.AppendUint64(nil, handle))
	}
	return m
}
