package match

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/fwcproject/fwc/policy"
)

// Implies reports whether every packet that satisfies all of conds also
// satisfies all of must, judged condition by condition: each condition of
// must needs a condition of conds of the same kind that is at least as
// narrow. Named sets, negations and kinds it does not know make it answer
// false (unless the two conditions are equal).
func Implies(conds, must []policy.Cond) bool {
	for _, m := range must {
		if !slices.ContainsFunc(conds, func(c policy.Cond) bool { return Subsumes(c, m) }) {
			return false
		}
	}
	return true
}

// Subsumes reports whether every packet satisfying x satisfies y.
func Subsumes(x, y policy.Cond) bool {
	if Equal(x, y) {
		return true
	}
	switch x := x.(type) {
	case *policy.ProtoCond:
		y, ok := y.(*policy.ProtoCond)
		return ok && !x.Neg && !y.Neg && subset(x.Protos, y.Protos, func(a, b policy.Proto) bool { return a == b })
	case *policy.PortCond:
		y, ok := y.(*policy.PortCond)
		return ok && x.Dir == y.Dir && !x.Neg && !y.Neg && x.Set == nil && y.Set == nil &&
			subset(x.Ranges, y.Ranges, func(a, b policy.PortRange) bool { return b.Lo <= a.Lo && a.Hi <= b.Hi })
	case *policy.AddrCond:
		y, ok := y.(*policy.AddrCond)
		return ok && x.Dir == y.Dir && !x.Neg && !y.Neg && x.Set == nil && y.Set == nil && subset(x.Items, y.Items, AddrWithin)
	case *policy.IfaceCond:
		y, ok := y.(*policy.IfaceCond)
		return ok && x.Dir == y.Dir && !x.Neg && !y.Neg && x.Set == nil && y.Set == nil && subset(x.Ifaces, y.Ifaces, ifaceWithin)
	case *policy.ICMPCond:
		y, ok := y.(*policy.ICMPCond)
		return ok && x.V6 == y.V6 && !x.Neg && !y.Neg && subset(x.Types, y.Types, func(a, b policy.ICMPType) bool {
			return a.Type == b.Type && (b.Code < 0 || a.Code == b.Code)
		})
	case *policy.CtStateCond:
		y, ok := y.(*policy.CtStateCond)
		return ok && !x.Neg && !y.Neg && x.Bits&^y.Bits == 0
	}
	return false
}

func subset[T any](xs, ys []T, within func(x, y T) bool) bool {
	for _, x := range xs {
		if !slices.ContainsFunc(ys, func(y T) bool { return within(x, y) }) {
			return false
		}
	}
	return true
}

// bounds returns the first and last address of an item.
func bounds(a policy.AddrItem) (lo, hi netip.Addr) {
	if !a.Prefix.IsValid() {
		return a.Lo, a.Hi
	}
	p := a.Prefix.Masked()
	lo = p.Addr()
	b := lo.AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	hi, _ = netip.AddrFromSlice(b)
	return lo, hi
}

// AddrWithin reports whether every address of item x is in item y.
func AddrWithin(x, y policy.AddrItem) bool {
	xl, xh := bounds(x)
	yl, yh := bounds(y)
	return xl.IsValid() && yl.IsValid() && xl.BitLen() == yl.BitLen() && yl.Compare(xl) <= 0 && xh.Compare(yh) <= 0
}

func ifaceWithin(x, y policy.Iface) bool {
	if y.Wildcard {
		return strings.HasPrefix(x.Name, y.Name)
	}
	return !x.Wildcard && x.Name == y.Name
}

// AddrContains reports whether item a holds address ip.
func AddrContains(a policy.AddrItem, ip netip.Addr) bool {
	lo, hi := bounds(a)
	return lo.IsValid() && lo.BitLen() == ip.BitLen() && lo.Compare(ip) <= 0 && ip.Compare(hi) <= 0
}

// IfaceMatches reports whether the interface pattern i matches name.
func IfaceMatches(i policy.Iface, name string) bool {
	if i.Wildcard {
		return strings.HasPrefix(name, i.Name)
	}
	return i.Name == name
}
