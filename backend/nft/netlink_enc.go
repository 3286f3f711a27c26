package nft

import (
	"encoding/binary"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ruleHeader is the header google/nftables v0.3.0 gives an appended rule.
var ruleHeader = netlink.Header{
	Type:  netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWRULE),
	Flags: netlink.Request | netlink.Acknowledge | netlink.Create | unix.NLM_F_ECHO | unix.NLM_F_APPEND,
}

// appendRule adds to the batch the new-rule message google/nftables v0.3.0's
// AddRule encodes for a rule of chain ch with exprs and userdata (fwc's
// rules have no handle, position or xtables compat attributes), byte for
// byte (TestRuleEncoderMatchesConn), with the expressions still encoded by
// expr.Marshal.
//
// Why by hand: AddRule spends about 60 allocations per rule marshalling
// each attribute list into its own buffer and copying it into the next,
// and encodes the same protocol checks and verdicts again for every rule:
// most of the Go side of a large apply, and what kept it from the target
// of 0.75x the time of nft -f. Here the envelope is one buffer, and shared
// expressions (exprCache) are encoded once per batch.
func (b *builder) appendRule(ch *nftables.Chain, exprs []expr.Any, userdata []byte) error {
	fam := byte(b.t.Family)
	d := make([]byte, 0, 64+len(b.t.Name)+len(ch.Name)+len(userdata)+48*len(exprs))
	d = append(d, fam, unix.NFNETLINK_V0, 0, 0) // nfgenmsg, resource ID 0
	d = appendAttrZ(d, unix.NFTA_RULE_TABLE, b.t.Name)
	d = appendAttrZ(d, unix.NFTA_RULE_CHAIN, ch.Name)
	list := len(d)
	d = append(d, 0, 0, 0, 0)
	for _, e := range exprs {
		enc, err := b.exprs.marshal(fam, e)
		if err != nil {
			return err
		}
		d = appendAttr(d, unix.NLA_F_NESTED|unix.NFTA_LIST_ELEM, enc)
	}
	binary.NativeEndian.PutUint16(d[list:], uint16(len(d)-list))
	binary.NativeEndian.PutUint16(d[list+2:], unix.NLA_F_NESTED|unix.NFTA_RULE_EXPRESSIONS)
	if userdata != nil {
		d = appendAttr(d, unix.NFTA_RULE_USERDATA, userdata)
	}
	return b.rec.Append(netlink.Message{Header: ruleHeader, Data: d})
}

// appendAttr appends a netlink attribute: header, data, padding to four.
func appendAttr(d []byte, typ uint16, data []byte) []byte {
	d = binary.NativeEndian.AppendUint16(d, uint16(4+len(data)))
	d = binary.NativeEndian.AppendUint16(d, typ)
	d = append(d, data...)
	return append(d, make([]byte, (4-len(data)%4)%4)...)
}

// appendAttrZ appends a NUL-terminated string attribute.
func appendAttrZ(d []byte, typ uint16, s string) []byte {
	d = binary.NativeEndian.AppendUint16(d, uint16(5+len(s)))
	d = binary.NativeEndian.AppendUint16(d, typ)
	d = append(d, s...)
	return append(d, make([]byte, 4-len(s)%4)...) // the NUL and padding
}
