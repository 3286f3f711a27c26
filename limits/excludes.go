package limits

import "github.com/fwcproject/fwc/policy"

// Excludes reports whether iptables (fam IPv4) or ip6tables (IPv6) can
// negate c only as exclusions: one match per value, each a RETURN in a
// sub-chain the rule enters, because its match takes one value and cannot
// be negated as a list. That is the case of a negated list of several
// protocols, interfaces, icmp types or marks of a set, of a negated time,
// and of a negated field of several values whose iptables option takes one
// (backend/restore's field table: addrtype takes a list, ct direction is
// written as the other direction, ttl and hoplimit as bounds).
func Excludes(c policy.Cond, fam policy.Family) bool {
	switch x := c.(type) {
	case *policy.ProtoCond:
		if !x.Neg {
			return false
		}
		n := 0
		for _, p := range x.Protos {
			// A rule of one family drops the other family's icmp (ir).
			if (p == policy.ProtoICMP && fam == policy.IPv6) || (p == policy.ProtoICMPv6 && fam == policy.IPv4) {
				continue
			}
			n++
		}
		return n > 1
	case *policy.IfaceCond:
		if x.Set != nil {
			return x.Neg && len(x.Set.Elements) > 1
		}
		return x.Neg && len(x.Ifaces) > 1
	case *policy.ICMPCond:
		return x.Neg && len(x.Types) > 1
	case *policy.MarkCond:
		return x.Neg && x.Set != nil && len(x.Set.Elements) > 1
	case *policy.TimeCond:
		return x.Neg
	case *policy.FieldCond:
		if !x.Neg {
			return false
		}
		switch x.Field.Name {
		case "addrtype": // --src-type A,B: a list, negated with !
			return false
		case "ct":
			if x.Sub == "direction" { // ! ORIGINAL is REPLY
				return false
			}
		case "ttl", "hoplimit": // --ttl-gt LO-1 --ttl-lt HI+1
			if len(x.Values) != 1 {
				return true
			}
			iv := x.Values[0]
			return iv.Lo != iv.Hi && iv.Lo > 0 && iv.Hi < x.Field.Max
		case "dscp": // one --dscp per value
			n := uint64(0)
			for _, iv := range x.Values {
				n += iv.Hi - iv.Lo + 1
			}
			return n > 1
		}
		return len(x.Values)+len(x.Strings) > 1
	}
	return false
}
