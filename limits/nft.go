package limits

import (
	"fmt"

	"github.com/fwcproject/fwc/policy"
)

// NftRefuses returns what the nft backend cannot express in r, in the
// order of r's conditions then actions; nil when it can write r.
func NftRefuses(r Rule) []Refusal {
	var out []Refusal
	for _, c := range r.Conds {
		if f, ok := nftCond(c); ok {
			out = append(out, f)
		}
	}
	for _, a := range r.Actions {
		if f, ok := nftAction(a); ok {
			out = append(out, f)
		}
	}
	return out
}

func nftCond(c policy.Cond) (Refusal, bool) {
	switch x := c.(type) {
	case *policy.StringCond:
		return Refusal{Code: CodeNftString, At: x, Says: "cannot express a string match",
			Detail: "nftables has no payload string match; only the iptables backend can translate this rule."}, true
	case *policy.ICMPCond:
		// nft has a list of types, or a list of type . code pairs, but
		// not both in one match.
		with := 0
		for _, t := range x.Types {
			if t.Code >= 0 {
				with++
			}
		}
		if with > 0 && with < len(x.Types) {
			return Refusal{Code: CodeNftOther, At: x, Says: "cannot express a list of icmp types some with and some without codes"}, true
		}
	case *policy.TimeCond:
		// Each part is a meta match of its own; nft cannot negate their
		// conjunction as a whole.
		parts := 0
		for _, b := range []bool{x.HasHour, x.Days != 0, x.HasDate} {
			if b {
				parts++
			}
		}
		if x.Neg && parts > 1 {
			return Refusal{Code: CodeNftOther, At: x, Says: "cannot express a negated time condition with several parts"}, true
		}
	}
	return Refusal{}, false
}

func nftAction(a policy.Action) (Refusal, bool) {
	switch x := a.(type) {
	case *policy.Connmark:
		// ct mark set meta mark copies the whole mark: nft cannot combine
		// two marks in one statement.
		if x.Mask != 0xffffffff {
			return Refusal{Code: CodeNftOther, At: x, Says: fmt.Sprintf("cannot express a connmark copy under a partial mask (0x%x)", x.Mask)}, true
		}
	case *policy.SetTOS:
		// ip dscp set writes the DSCP bits only.
		if x.Value&3 != 0 {
			return Refusal{Code: CodeNftOther, At: x, Says: fmt.Sprintf("cannot express a tos value with ECN bits (0x%02x)", x.Value)}, true
		}
	}
	return Refusal{}, false
}
