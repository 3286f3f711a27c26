package limits

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/policy"
)

// IPTablesRefuses returns what iptables-restore (fam IPv4) or
// ip6tables-restore (fam IPv6) cannot express in r, in the order of r's
// conditions then actions; nil when it can write r.
func IPTablesRefuses(r Rule, fam policy.Family) []Refusal {
	var out []Refusal
	var excl policy.Cond // the first condition written as exclusions
	for _, c := range r.Conds {
		out = iptCond(out, c, fam)
		if excl == nil && Excludes(c, fam) {
			excl = c
		}
	}
	for _, a := range r.Actions {
		if f, ok := iptAction(a, r.Conds); ok {
			out = append(out, f)
		}
	}
	if excl != nil && r.Leaves {
		// The exclusions are RETURNs in a sub-chain, which must be entered
		// with -g for the final return or goto to act for the rule's own
		// chain; an excluded packet's RETURN would then leave that chain.
		out = append(out, Refusal{Code: CodeIptOther, At: excl,
			Says:   "cannot express a negated list or time in a rule that returns or goes to a chain",
			Detail: "iptables negates a list of values (or a time) through a sub-chain holding a RETURN per value; for a rule that returns or goes to a chain that sub-chain must be entered with a goto, and an excluded packet's RETURN would then leave the rule's chain too. Split the rule, negate one value, or translate with --to nft."})
	}
	return out
}

func iptCond(out []Refusal, c policy.Cond, fam policy.Family) []Refusal {
	switch x := c.(type) {
	case *policy.CtStatusCond:
		if x.Bits&policy.StatusDying != 0 {
			out = append(out, Refusal{Code: CodeCtStatus, At: x, Says: "cannot match ct status dying"})
		}
		// snat and dnat are ct states to iptables, the others statuses:
		// two matches, which cannot be ORed in one rule.
		nat := policy.StatusSNAT | policy.StatusDNAT
		if x.Bits&nat != 0 && x.Bits&^(nat|policy.StatusDying) != 0 {
			out = append(out, Refusal{Code: CodeIptOther, At: x, Says: "cannot match ct status snat or dnat together with other status bits"})
		}
	case *policy.TCPFlagsCond:
		if (x.Flags|x.Mask)&(policy.ECE|policy.CWR) != 0 {
			out = append(out, Refusal{Code: CodeIptOther, At: x, Says: "cannot match the tcp flags ece and cwr"})
		}
	case *policy.MarkCond:
		if x.Set != nil && expires(x.Set) {
			out = append(out, listed(x, x.Set))
		}
	case *policy.IfaceCond:
		if x.Set != nil && expires(x.Set) {
			out = append(out, listed(x, x.Set))
		}
	case *policy.ConcatCond:
		if x.Set != nil && !ipsetHolds(x.Set.Type) {
			var names []string
			for _, t := range x.Set.Type {
				names = append(names, string(t))
			}
			out = append(out, Refusal{Code: CodeIpset, At: x, Set: x.Set,
				Says:   fmt.Sprintf("cannot look up set %s: no ipset type holds %s elements", x.Set.Name, strings.Join(names, " . ")),
				Detail: fmt.Sprintf("ipset has no set type for %s; iptables matches named sets only through ipset.", strings.Join(names, " . "))})
		}
	case *policy.FieldCond:
		if iptNoField[x.Key()] {
			out = append(out, Refusal{Code: CodeIptOther, At: x, Says: "cannot express " + x.Key()})
			break
		}
		if vs, ok := iptV6Values[x.Key()]; ok && fam == policy.IPv6 {
			for _, iv := range x.Values {
				for n := iv.Lo; n <= iv.Hi; n++ {
					if !slices.Contains(vs, n) {
						return append(out, Refusal{Code: CodeIptOther, At: x,
							Says: fmt.Sprintf("cannot express %s %s (its %s match cannot test it for IPv6)", x.Key(), valueName(x.Field, n), x.Field.Name)})
					}
				}
			}
		}
	}
	return out
}

// iptNoField: the simple fields (policy/field.go) iptables has no match
// for (it can set a conntrack zone, CT --zone, but not test one).
var iptNoField = map[string]bool{"ct zone": true}

// iptV6Values: the only values ip6tables can test, for the fields where
// that is less than iptables can. The kernel's addrtype match refuses the
// other route types (broadcast, blackhole, prohibit and later) for IPv6.
var iptV6Values = map[string][]uint64{
	"addrtype src": addrtype6,
	"addrtype dst": addrtype6,
}

var addrtype6 = []uint64{0, 1, 2, 4, 5, 7} // unspec unicast local anycast multicast unreachable

// valueName is a field's value as iptables writes it: its name in capitals
// (addrtype's LOCAL), or its number.
func valueName(fd *policy.Field, n uint64) string {
	if s := fd.NameOf(n); s != "" {
		return strings.ToUpper(s)
	}
	return strconv.FormatUint(n, 10)
}

// iptAction refuses a port in a NAT target (or a balance endpoint) of a
// udplite rule. The kernel translates udplite ports, but the iptables NAT
// targets take ports only with -p tcp, udp, sctp or dccp, and
// iptables-restore refuses the whole file.
func iptAction(a policy.Action, conds []policy.Cond) (Refusal, bool) {
	ports := false
	switch x := a.(type) {
	case *policy.NAT:
		ports = x.PortLo != 0
	case *policy.Balance:
		ports = true
	}
	if !ports || !udplite(conds) {
		return Refusal{}, false
	}
	return Refusal{Code: CodeIptOther, At: a, Says: "cannot translate ports of udplite packets",
		Detail: "The iptables NAT targets take a port only in a tcp, udp, sctp or dccp rule. Translate with --to nft, or NAT the address alone."}, true
}

// udplite reports whether conds match udplite packets only (one positive
// protocol match of udplite: the protocol iptables writes with -p).
func udplite(conds []policy.Cond) bool {
	for _, c := range conds {
		if p, ok := c.(*policy.ProtoCond); ok && !p.Neg && len(p.Protos) == 1 {
			return p.Protos[0] == policy.ProtoUDPLite
		}
	}
	return false
}

// listed refuses a lookup in a set of marks or interfaces whose elements
// time out: ipset has no such set types, so the iptables backend writes one
// rule per element, and those rules never expire.
func listed(x policy.Cond, s *policy.Set) Refusal {
	return Refusal{Code: CodeIpset, At: x,
		Says:   fmt.Sprintf("cannot look up set %s: its elements time out, and iptables lists them as rules", s.Name),
		Detail: "ipset has no set of " + string(s.Type[0]) + "s alone, so the iptables backend writes one rule per element, which would never expire. Drop the timeouts or translate with --to nft."}
}

func expires(s *policy.Set) bool {
	if s.Timeout > 0 {
		return true
	}
	for _, e := range s.Elements {
		if e.Timeout > 0 {
			return true
		}
	}
	return false
}

// IpsetType returns the ipset type that holds elements of types (one, or
// the parts of a concatenation in order), or false when none does.
func IpsetType(types []policy.SetType) (string, bool) {
	var parts []string
	for _, t := range types {
		switch t {
		case policy.IPv4Addr, policy.IPv6Addr:
			parts = append(parts, "ip")
		case policy.IPv4Net, policy.IPv6Net:
			parts = append(parts, "net")
		case policy.PortType:
			parts = append(parts, "port")
		case policy.IfaceT:
			parts = append(parts, "iface")
		case policy.MarkT:
			parts = append(parts, "mark")
		default:
			return "", false
		}
	}
	switch k := strings.Join(parts, ","); k {
	case "ip", "net", "ip,port", "net,port", "net,iface", "ip,mark", "ip,port,ip", "ip,port,net", "net,port,net", "net,net":
		return "hash:" + k, true
	case "ip,iface":
		return "hash:net,iface", true
	case "ip,ip", "ip,net", "net,ip":
		return "hash:net,net", true
	case "port":
		return "bitmap:port", true
	}
	return "", false
}

// ipsetHolds reports whether iptables can look a set of types up: in an
// ipset, or, for interfaces or marks alone (which no ipset holds), as one
// rule per element.
func ipsetHolds(types []policy.SetType) bool {
	if len(types) == 1 && (types[0] == policy.IfaceT || types[0] == policy.MarkT) {
		return true
	}
	_, ok := IpsetType(types)
	return ok
}
