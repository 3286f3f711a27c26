package nft

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

func op(neg bool) string {
	if neg {
		return "!= "
	}
	return ""
}

// list prints one value bare and several as an anonymous set.
func list(vs []string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	return "{ " + strings.Join(vs, ", ") + " }"
}

func dirKw(d policy.Dir, src, dst string) string {
	if d == policy.Src {
		return src
	}
	return dst
}

func portKw(p policy.Proto, d policy.Dir) string {
	pr := "th"
	if p != 0 {
		pr = p.Name()
	}
	return pr + " " + dirKw(d, "sport", "dport")
}

// key returns the left-hand side expression of a match usable as a
// verdict map key.
func key(r *ir.Rule, m policy.Cond) string {
	switch m := m.(type) {
	case *policy.AddrCond:
		if r.Family == ir.IPv6 {
			return dirKw(m.Dir, "ip6 saddr", "ip6 daddr")
		}
		return dirKw(m.Dir, "ip saddr", "ip daddr")
	case *policy.PortCond:
		return portKw(r.PortProto(), m.Dir)
	case *policy.IfaceCond:
		return dirKw(m.Dir, "iifname", "oifname")
	case *policy.ProtoCond:
		return "meta l4proto"
	}
	return ""
}

// values returns the right-hand side values of a key match.
func values(m policy.Cond) []string {
	var vs []string
	switch m := m.(type) {
	case *policy.AddrCond:
		for _, it := range m.Items {
			vs = append(vs, ir.AddrString(it))
		}
	case *policy.PortCond:
		for _, r := range m.Ranges {
			vs = append(vs, portRange(r))
		}
	case *policy.IfaceCond:
		for _, i := range m.Ifaces {
			n := i.Name
			if i.Wildcard {
				n += "*"
			}
			vs = append(vs, Quote(n))
		}
	case *policy.ProtoCond:
		for _, p := range m.Protos {
			vs = append(vs, p.Name())
		}
	}
	return vs
}

func portRange(r policy.PortRange) string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return strconv.Itoa(int(r.Lo)) + "-" + strconv.Itoa(int(r.Hi))
}

func setOr(s *policy.Set, vs []string) string {
	if s != nil {
		return "@" + s.Name
	}
	return list(vs)
}

func (p *printer) match(r *ir.Rule, m policy.Cond) (string, bool) {
	switch m := m.(type) {
	case *policy.AddrCond:
		if m.Set == nil && len(m.Items) == 1 {
			return key(r, m) + " " + op(m.Neg) + ir.AddrString(m.Items[0]), true
		}
		return key(r, m) + " " + op(m.Neg) + setOr(m.Set, values(m)), true
	case *policy.ProtoCond:
		return key(r, m) + " " + op(m.Neg) + list(values(m)), true
	case *policy.PortCond:
		if s := p.sh.set(m); s != nil {
			return key(r, m) + " " + op(m.Neg) + "@" + s.Name, true
		}
		if m.Set == nil && len(m.Ranges) == 1 {
			return key(r, m) + " " + op(m.Neg) + portRange(m.Ranges[0]), true
		}
		return key(r, m) + " " + op(m.Neg) + setOr(m.Set, values(m)), true
	case *policy.IfaceCond:
		return key(r, m) + " " + op(m.Neg) + setOr(m.Set, values(m)), true
	case *policy.ICMPCond:
		return p.icmp(r, m)
	case *policy.TCPFlagsCond:
		return fmt.Sprintf("tcp flags & (%s) %s %s", tcpFlags(m.Mask, "|"), map[bool]string{false: "==", true: "!="}[m.Neg], tcpFlags(m.Flags, "|")), true
	case *policy.CtStateCond:
		return ctBits("ct state", m.Neg, m.Bits, []string{"invalid", "established", "related", "new", "untracked"}, true), true
	case *policy.CtStatusCond:
		return ctBits("ct status", m.Neg, m.Bits, []string{"expected", "seen-reply", "assured", "confirmed", "snat", "dnat", "dying"}, false), true
	case *policy.MarkCond:
		kw := "meta mark"
		if m.Ct {
			kw = "ct mark"
		}
		if m.Set != nil {
			return kw + " " + op(m.Neg) + "@" + m.Set.Name, true
		}
		if m.Mask == 0xffffffff {
			return fmt.Sprintf("%s %s0x%08x", kw, op(m.Neg), m.Value), true
		}
		return fmt.Sprintf("%s & 0x%08x %s 0x%08x", kw, m.Mask, map[bool]string{false: "==", true: "!="}[m.Neg], m.Value), true
	case *policy.LimitCond:
		return limit(m.Over, m.Rate, m.Burst), true
	case *ir.Meter:
		return fmt.Sprintf("update @%s { %s %s }", m.Set.Name, maskedAddr(r.Family, m.Per, m.MaskLen), limit(m.Over, m.Rate, m.Burst)), true
	case *ir.Connlimit:
		over := ""
		if m.Over {
			over = "over "
		}
		return fmt.Sprintf("add @%s { %s ct count %s%d }", m.Set.Name, maskedAddr(r.Family, policy.Src, m.MaskLen), over, m.Count), true
	case *policy.TimeCond:
		return p.time(r, m)
	case *policy.ProbCond:
		// numgen random mod 2^31 gives a uniform value; below P*2^31 holds
		// with probability P.
		const mod = 1 << 31
		return fmt.Sprintf("numgen random mod %d < %d", mod, int64(math.Round(m.P*mod))), true
	case *policy.FieldCond:
		return p.field(r, m)
	case *policy.ConcatCond:
		var ks []string
		for _, k := range m.Keys {
			switch k {
			case policy.KeySaddr, policy.KeyDaddr:
				ks = append(ks, ipKw(ir.Family(m.Set.Family)&r.Family)+" "+string(k))
			case policy.KeySport:
				ks = append(ks, portKw(r.PortProto(), policy.Src))
			case policy.KeyDport:
				ks = append(ks, portKw(r.PortProto(), policy.Dst))
			case policy.KeyIif:
				ks = append(ks, "iifname")
			case policy.KeyOif:
				ks = append(ks, "oifname")
			case policy.KeyMark:
				ks = append(ks, "meta mark")
			}
		}
		return strings.Join(ks, " . ") + " " + op(m.Neg) + "@" + m.Set.Name, true
	}
	p.errorf(r, "match %T", m)
	return "", false
}

func (p *printer) icmp(r *ir.Rule, m *policy.ICMPCond) (string, bool) {
	kw := "icmp"
	if m.V6 {
		kw = "icmpv6"
	}
	withCode := 0
	var types, pairs []string
	for _, t := range m.Types {
		n := t.Name
		if n == "" {
			n = strconv.Itoa(int(t.Type))
		}
		types = append(types, n)
		if t.Code >= 0 {
			withCode++
			pairs = append(pairs, fmt.Sprintf("%d . %d", t.Type, t.Code))
		}
	}
	switch {
	case withCode == 0:
		return kw + " type " + op(m.Neg) + list(types), true
	case len(m.Types) == 1 && !m.Neg:
		return fmt.Sprintf("%s type %d %s code %d", kw, m.Types[0].Type, kw, m.Types[0].Code), true
	case withCode == len(m.Types):
		return fmt.Sprintf("%s type . %s code %s{ %s }", kw, kw, op(m.Neg), strings.Join(pairs, ", ")), true
	}
	p.errorf(r, "this %s match (limits.NftRefuses lets it through)", kw)
	return "", false
}

var flagNames = []string{"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"}

func tcpFlags(b uint8, sep string) string {
	var s []string
	for i, n := range flagNames {
		if b&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	if len(s) == 0 {
		return "0x0"
	}
	return strings.Join(s, sep)
}

// ctBits prints a conntrack state or status match. nft reads "!= a,b" as
// "the value is not exactly a|b", so a negation is written as "none of the
// bits is set", except for one state: a packet has exactly one.
func ctBits(kw string, neg bool, b uint32, names []string, oneHot bool) string {
	if !neg {
		return kw + " " + bits(b, names)
	}
	if oneHot && b&(b-1) == 0 {
		return kw + " != " + bits(b, names)
	}
	return kw + " & (" + strings.ReplaceAll(bits(b, names), ",", "|") + ") == 0"
}

func bits(b uint32, names []string) string {
	var s []string
	for i, n := range names {
		if b&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	return strings.Join(s, ",")
}

func rateUnit(u time.Duration) string {
	switch u {
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	case 24 * time.Hour:
		return "day"
	}
	return "second"
}

func limit(over bool, r policy.Rate, burst uint32) string {
	o := ""
	if over {
		o = "over "
	}
	if burst == 0 {
		burst = 5
	}
	return fmt.Sprintf("limit rate %s%d/%s burst %d packets", o, r.Count, rateUnit(r.Unit), burst)
}

// maskedAddr is the meter key: the address, under a prefix mask if given.
func maskedAddr(f ir.Family, d policy.Dir, maskLen int) string {
	s := ipKw(f) + " " + dirKw(d, "saddr", "daddr")
	bitsLen := 32
	if f == ir.IPv6 {
		bitsLen = 128
	}
	if maskLen < 0 || maskLen >= bitsLen {
		return s
	}
	pfx := netip.PrefixFrom(netip.IPv4Unspecified(), maskLen)
	if f == ir.IPv6 {
		pfx = netip.PrefixFrom(netip.IPv6Unspecified(), maskLen)
	}
	_, hi := ir.Bounds(policy.AddrItem{Prefix: pfx})
	// hi has the host bits set; the mask is its complement.
	b := hi.AsSlice()
	for i := range b {
		b[i] = ^b[i]
	}
	m, _ := netip.AddrFromSlice(b)
	return s + " & " + m.String()
}

func (p *printer) time(r *ir.Rule, m *policy.TimeCond) (string, bool) {
	var parts []string
	// Times are numbers, not "HH:MM" or "YYYY-MM-DD HH:MM:SS": nft reads
	// those in the time zone of the process that loads the file, and
	// shifts them to UTC, so the same file would mean another window on
	// a host (or under a TZ) other than UTC. Numbers (seconds since
	// midnight UTC, seconds since the epoch) it stores as they are, as the
	// netlink batch does; it lists them back as times in its own zone.
	if m.HasHour {
		parts = append(parts, fmt.Sprintf("meta hour %s%d-%d", op(m.Neg), seconds(m.HourFrom), seconds(m.HourTo)))
	}
	if m.Days != 0 {
		var d []string
		for i, n := range []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"} {
			if m.Days&(1<<i) != 0 {
				d = append(d, Quote(n))
			}
		}
		parts = append(parts, "meta day "+op(m.Neg)+list(d))
	}
	if m.HasDate {
		parts = append(parts, fmt.Sprintf("meta time %s%d-%d", op(m.Neg), m.DateFrom.Unix(), m.DateTo.Unix()))
	}
	if m.Neg && len(parts) > 1 {
		p.errorf(r, "this time match (limits.NftRefuses lets it through)")
		return "", false
	}
	return strings.Join(parts, " "), true
}

// seconds is a time of day as nft's meta hour holds it: whole seconds
// since midnight UTC.
func seconds(d time.Duration) int64 {
	return int64(d.Round(time.Second) / time.Second)
}
