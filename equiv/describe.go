package equiv

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"

	"github.com/fwcproject/fwc/sem"
)

// maxShown bounds the values written per field; more are elided as "…".
const maxShown = 4

// Describe writes the class's packets in fwc's match words, one
// condition per field its first cube restricts more than the hook does
// ("tcp saddr 198.51.100.0/24 dport 22"); a field whose values are
// everything but a few is written with "!=". "any packet" when it
// restricts nothing; "(and N more pieces)" when the class has more cubes.
func (df *Difference) Describe() string {
	out := describe(df.V6, &df.Class[0], domain(sem.SpaceOf(df.V6), df.Hook))
	if n := len(df.Class) - 1; n > 0 {
		out += fmt.Sprintf(" (and %d more pieces)", n)
	}
	return out
}

func describe(v6 bool, c *sem.Cube, dom sem.Cube) string {
	s := sem.SpaceOf(v6)
	var w []string
	for _, d := range []sem.Dim{sem.Proto, sem.SAddr, sem.SPort, sem.DAddr, sem.DPort, sem.ICMP, sem.IIf, sem.OIf,
		sem.CtState, sem.CtStatus, sem.TCPFlags, sem.Mark, sem.CtMark} {
		set := c[d]
		if s.IsFull(c, d) || slices.Equal(set, dom[d]) {
			continue
		}
		op := ""
		if rest := dom[d].Minus(set); len(rest) < len(set) || len(set) > maxShown && len(rest) <= maxShown {
			op, set = "!= ", rest
		}
		var vals []string
		for i, iv := range set {
			if i == maxShown {
				vals = append(vals, "…")
				break
			}
			vals = append(vals, value(d, iv, v6)...)
		}
		if d == sem.Proto && op == "" && len(set) == 1 && set[0].Lo == set[0].Hi && set[0].Lo.Lo != 58 {
			w = append(w, vals[0]) // "tcp", as a rule writes it
			continue
		}
		w = append(w, fmt.Sprintf("%s %s%s", word(d), op, strings.Join(vals, ", ")))
	}
	if len(w) == 0 {
		return "any packet"
	}
	return strings.Join(w, " ")
}

func word(d sem.Dim) string {
	switch d {
	case sem.Proto:
		return "proto"
	case sem.ICMP:
		return "icmp type/code"
	}
	return d.String()
}

// value writes one interval of dimension d.
func value(d sem.Dim, iv sem.Interval, v6 bool) []string {
	switch d {
	case sem.SAddr, sem.DAddr:
		lo, hi := iv.Lo.Addr(v6), iv.Hi.Addr(v6)
		if lo == hi {
			return []string{lo.String()}
		}
		if ps := prefixes(lo, hi); len(ps) <= 2 {
			out := make([]string, len(ps))
			for i, p := range ps {
				out[i] = p.String()
			}
			return out
		}
		return []string{lo.String() + "-" + hi.String()}
	case sem.IIf, sem.OIf:
		lo, hi := ifaceOf(iv.Lo), ifaceOf(iv.Hi)
		if lo == hi {
			return []string{quoteIface(lo)}
		}
		if p := trimFF(hi); p == lo && len(p) < len(hi) {
			return []string{quoteIface(lo + "*")}
		}
		return []string{quoteIface(lo) + "-" + quoteIface(hi)}
	case sem.Proto:
		if iv.Lo == iv.Hi {
			return []string{protoName(iv.Lo.Lo)}
		}
	case sem.CtState:
		var out []string
		for v := iv.Lo.Lo; v <= iv.Hi.Lo; v++ {
			out = append(out, ctStateWord(1<<v))
		}
		return out
	case sem.ICMP:
		if iv.Lo.Lo&0xff == 0 && iv.Hi.Lo&0xff == 0xff && iv.Lo.Lo>>8 == iv.Hi.Lo>>8 {
			return []string{fmt.Sprintf("%d", iv.Lo.Lo>>8)}
		}
		return []string{fmt.Sprintf("%d/%d-%d/%d", iv.Lo.Lo>>8, iv.Lo.Lo&0xff, iv.Hi.Lo>>8, iv.Hi.Lo&0xff)}
	case sem.Mark, sem.CtMark:
		// Bit-reversed: an interval is a set of low-bit patterns.
		if iv.Lo == iv.Hi {
			return []string{fmt.Sprintf("0x%x", bits.Reverse32(uint32(iv.Lo.Lo)))}
		}
		return []string{fmt.Sprintf("(%d values from 0x%x)", iv.Hi.Lo-iv.Lo.Lo+1, bits.Reverse32(uint32(iv.Lo.Lo)))}
	}
	if iv.Lo == iv.Hi {
		return []string{fmt.Sprintf("%d", iv.Lo.Lo)}
	}
	return []string{fmt.Sprintf("%d-%d", iv.Lo.Lo, iv.Hi.Lo)}
}

func protoName(p uint64) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 58:
		return "icmpv6"
	}
	return fmt.Sprintf("%d", p)
}

func quoteIface(n string) string {
	if n == "" {
		return `""`
	}
	if strings.IndexFunc(n, func(r rune) bool { return r < '!' || r > '~' }) >= 0 {
		return fmt.Sprintf("%q", n)
	}
	return n
}

func ifaceOf(v sem.U128) string {
	var b [16]byte
	for i := range 8 {
		b[i] = byte(v.Hi >> (56 - 8*i))
		b[8+i] = byte(v.Lo >> (56 - 8*i))
	}
	return strings.TrimRight(string(b[:]), "\x00")
}

// prefixes returns the fewest prefixes covering exactly lo..hi, or more
// than two when it takes more (the caller then writes a range).
func prefixes(lo, hi netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for lo.Compare(hi) <= 0 && len(out) <= 2 {
		n := lo.BitLen()
		for bitsN := 0; bitsN <= lo.BitLen(); bitsN++ {
			p := netip.PrefixFrom(lo, bitsN)
			if p.Masked().Addr() != lo {
				continue
			}
			if last := lastOf(p); last.Compare(hi) <= 0 {
				n = bitsN
				break
			}
		}
		p := netip.PrefixFrom(lo, n)
		out = append(out, p)
		last := lastOf(p)
		if !last.Next().IsValid() || last == hi {
			break
		}
		lo = last.Next()
	}
	return out
}

func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// trimFF drops the 0xff bytes that end s (the top of a wildcard's
// interval).
func trimFF(s string) string {
	for len(s) > 0 && s[len(s)-1] == 0xff {
		s = s[:len(s)-1]
	}
	return s
}
