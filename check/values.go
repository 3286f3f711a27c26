package check

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/policy"
)

// flatten resolves $defines and braced lists into leaf values, in order.
func (c *checker) flatten(vals []ast.Value) []ast.Value {
	var out []ast.Value
	for _, v := range vals {
		switch v := v.(type) {
		case *ast.List:
			out = append(out, c.flatten(v.Elems)...)
		case *ast.Ref:
			if v.Sigil != '$' {
				out = append(out, v)
				continue
			}
			d, ok := c.defines[v.Name]
			if !ok {
				c.unknown("define", v, "$"+v.Name, prefixed("$", keys(c.defines)))
				continue
			}
			if slices.Contains(c.defining, v.Name) {
				chain := append(slices.Clone(c.defining[slices.Index(c.defining, v.Name):]), v.Name)
				c.errorf(codeDefineCycle, v, "define $%s refers to itself: $%s", v.Name, strings.Join(chain, " -> $"))
				continue
			}
			c.defining = append(c.defining, v.Name)
			out = append(out, c.flatten(d.Values)...)
			c.defining = c.defining[:len(c.defining)-1]
		default:
			out = append(out, v)
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func prefixed(p string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return out
}

// describe names what a value looks like, for "expected X, got Y".
func describe(v ast.Value) string {
	switch v := v.(type) {
	case *ast.Lit:
		if v.Kind == ast.Word {
			return "the name " + strconv.Quote(v.Text)
		}
		if v.Kind == ast.IPv4 || v.Kind == ast.IPv6 {
			if strings.Contains(v.Text, "/") {
				return "the " + v.Kind.String()[:4] + " network " + v.Text
			}
			return "the " + v.Kind.String() + " " + v.Text
		}
		if v.Kind == ast.String {
			return "the string " + strconv.Quote(v.Text)
		}
		return "the " + v.Kind.String() + " " + v.Text
	case *ast.Ref:
		return "@" + v.Name
	case *ast.List:
		return "a list"
	case *ast.BinOp:
		return "a value with " + strconv.Quote(v.Op)
	case *ast.Concat:
		return "a concatenation"
	}
	return "a value"
}

// litText is a literal's text as written, or a description of v.
func litText(v ast.Value) string {
	if l, ok := v.(*ast.Lit); ok {
		if l.Kind == ast.String {
			return strconv.Quote(l.Text)
		}
		return l.Text
	}
	return describe(v)
}

func (c *checker) typeErr(v ast.Value, want string) {
	c.errorf(codeType, v, "expected %s, got %s", want, describe(v))
}

// lit returns v as a literal of one of kinds.
func lit(v ast.Value, kinds ...ast.LitKind) (*ast.Lit, bool) {
	l, ok := v.(*ast.Lit)
	if !ok || !slices.Contains(kinds, l.Kind) {
		return nil, false
	}
	return l, true
}

// number reads an unsigned integer in [lo, hi].
func (c *checker) number(v ast.Value, lo, hi uint64, what string) (uint64, bool) {
	l, ok := lit(v, ast.Number)
	if !ok {
		c.typeErr(v, what)
		return 0, false
	}
	n, err := strconv.ParseUint(l.Text, 0, 64)
	if err != nil || n < lo || n > hi {
		c.errorf(codeType, v, "%s must be a whole number from %d to %d, not %s", what, lo, hi, l.Text)
		return 0, false
	}
	return n, true
}

func (c *checker) signedNumber(v ast.Value, lo, hi int) (int, bool) {
	l, ok := lit(v, ast.Number)
	if !ok {
		c.typeErr(v, "a number")
		return 0, false
	}
	n, err := strconv.ParseInt(l.Text, 0, 64)
	if err != nil || n < int64(lo) || n > int64(hi) {
		c.errorf(codeType, v, "expected a number from %d to %d, not %s", lo, hi, l.Text)
		return 0, false
	}
	return int(n), true
}

func (c *checker) word(v ast.Value, what string) (string, bool) {
	l, ok := lit(v, ast.Word)
	if !ok {
		c.typeErr(v, what)
		return "", false
	}
	return l.Text, true
}

// duration reads 30s, 5m, 1h, 3d, 2w, or a number of seconds.
func (c *checker) duration(v ast.Value) (time.Duration, bool) {
	l, ok := lit(v, ast.Duration, ast.Number)
	if !ok {
		c.typeErr(v, "a duration such as 30s, 5m, 1h or 3d")
		return 0, false
	}
	d, ok := parseDuration(l.Text)
	if !ok || d <= 0 {
		c.errorf(codeType, v, "expected a positive duration such as 30s, 5m, 1h or 3d, not %s", l.Text)
		return 0, false
	}
	return d, true
}

func parseDuration(s string) (time.Duration, bool) {
	unit := time.Second
	num := s
	switch {
	case strings.HasSuffix(s, "ms"):
		unit, num = time.Millisecond, s[:len(s)-2]
	case strings.HasSuffix(s, "s"):
		num = s[:len(s)-1]
	case strings.HasSuffix(s, "m"):
		unit, num = time.Minute, s[:len(s)-1]
	case strings.HasSuffix(s, "h"):
		unit, num = time.Hour, s[:len(s)-1]
	case strings.HasSuffix(s, "d"):
		unit, num = 24*time.Hour, s[:len(s)-1]
	case strings.HasSuffix(s, "w"):
		unit, num = 7*24*time.Hour, s[:len(s)-1]
	}
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// addr reads one address or prefix literal.
func (c *checker) addr(v ast.Value) (policy.AddrItem, bool) {
	l, ok := lit(v, ast.IPv4, ast.IPv6)
	if !ok {
		c.typeErr(v, "an address or network")
		return policy.AddrItem{}, false
	}
	if strings.Contains(l.Text, "/") {
		p, err := netip.ParsePrefix(l.Text)
		if err != nil {
			c.errorf(codeType, v, "%s is not a valid network", l.Text)
			return policy.AddrItem{}, false
		}
		if m := p.Masked(); m != p {
			d := c.warnf(codeHostBits, v, "%s has host bits set; it means %s", l.Text, m)
			d.Detail = "Write " + m.String() + " for the network, or " + p.Addr().String() + " for the single address."
			p = m
		}
		return policy.AddrItem{Prefix: p}, true
	}
	a, err := netip.ParseAddr(l.Text)
	if err != nil || a.Zone() != "" {
		c.errorf(codeType, v, "%s is not a valid address", l.Text)
		return policy.AddrItem{}, false
	}
	return policy.AddrItem{Prefix: netip.PrefixFrom(a, a.BitLen())}, true
}

// addrItem reads an address, prefix or range lo-hi.
func (c *checker) addrItem(v ast.Value) (policy.AddrItem, bool) {
	b, ok := v.(*ast.BinOp)
	if !ok {
		return c.addr(v)
	}
	if b.Op != "-" {
		c.typeErr(v, "an address, network or range")
		return policy.AddrItem{}, false
	}
	lo, ok1 := c.addr(b.Left)
	hi, ok2 := c.addr(b.Right)
	if !ok1 || !ok2 {
		return policy.AddrItem{}, false
	}
	if lo.Prefix.Bits() != lo.Prefix.Addr().BitLen() || hi.Prefix.Bits() != hi.Prefix.Addr().BitLen() {
		c.errorf(codeType, v, "a range joins two single addresses, not networks")
		return policy.AddrItem{}, false
	}
	a, z := lo.Prefix.Addr(), hi.Prefix.Addr()
	if a.Is4() != z.Is4() || z.Less(a) {
		c.errorf(codeRange, v, "range %s-%s is empty or mixes families", a, z)
		return policy.AddrItem{}, false
	}
	return policy.AddrItem{Lo: a, Hi: z}, true
}

// setOperand resolves a match's @set value: it must be the match's only
// value and hold elements of the kind the field has (what names that kind).
func (c *checker) setOperand(r *ast.Ref, nvals int, fits func(*policy.Set) bool, what string) *policy.Set {
	s := c.setRef(r)
	switch {
	case s == nil:
		return nil
	case nvals != 1:
		c.errorf(codeSetUse, r, "a set lookup must be the only value of its match")
		return nil
	case !fits(s):
		c.errorf(codeSetUse, r, "set %q holds %s, not %s", s.Name, typeString(s.Type), what)
		return nil
	}
	return s
}

// operands reads a match's values: each through item, or one @set that
// fits. It reports whether every value was good.
func operands[T any](c *checker, vals []ast.Value, fits func(*policy.Set) bool, what string, item func(ast.Value) (T, bool)) (out []T, set *policy.Set, ok bool) {
	ok = true
	flat := c.flatten(vals)
	for _, v := range flat {
		if r, isRef := v.(*ast.Ref); isRef {
			set = c.setOperand(r, len(flat), fits, what)
			ok = ok && set != nil
			continue
		}
		x, good := item(v)
		if good {
			out = append(out, x)
		}
		ok = ok && good
	}
	return out, set, ok
}

func oneType(t policy.SetType) func(*policy.Set) bool {
	return func(s *policy.Set) bool { return len(s.Type) == 1 && s.Type[0] == t }
}

// addrs reads a matcher's address list: items, or one @set.
func (c *checker) addrs(vals []ast.Value) ([]policy.AddrItem, *policy.Set, bool) {
	isAddrSet := func(s *policy.Set) bool { return s.Family != policy.Both && len(s.Type) == 1 }
	return operands(c, vals, isAddrSet, "addresses", c.addrItem)
}

func typeString(ts []policy.SetType) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = string(t)
	}
	return strings.Join(parts, " . ")
}

func (c *checker) setRef(r *ast.Ref) *policy.Set {
	if r.Sigil != '@' {
		c.typeErr(r, "a named set (@name)")
		return nil
	}
	s, ok := c.sets[r.Name]
	c.use("set", r.Name)
	if !ok {
		c.unknown("set", r, "@"+r.Name, prefixed("@", keys(c.sets)))
		return nil
	}
	if len(s.Type) == 0 {
		// Its type was unknown and is reported at the declaration; a
		// use can be judged against no type, so it is not reported
		// again (it once read "holds , not ports").
		return nil
	}
	return s
}

// portRange reads 22 or 1000-2000.
func (c *checker) portRange(v ast.Value) (policy.PortRange, bool) {
	if b, ok := v.(*ast.BinOp); ok && b.Op == "-" {
		lo, ok1 := c.number(b.Left, 0, 65535, "a port")
		hi, ok2 := c.number(b.Right, 0, 65535, "a port")
		if !ok1 || !ok2 {
			return policy.PortRange{}, false
		}
		if hi < lo {
			c.errorf(codeRange, v, "port range %d-%d is empty", lo, hi)
			return policy.PortRange{}, false
		}
		return policy.PortRange{Lo: uint16(lo), Hi: uint16(hi)}, true
	}
	if l, ok := lit(v, ast.Word); ok {
		c.errorf(codeType, v, "expected a port number or range, got the name %q", l.Text).Detail =
			"Ports are numbers. To name ports, declare a service (service " + l.Text + " = tcp/...) and match it with \"service " + l.Text + "\"."
		return policy.PortRange{}, false
	}
	n, ok := c.number(v, 0, 65535, "a port")
	return policy.PortRange{Lo: uint16(n), Hi: uint16(n)}, ok
}

func (c *checker) ports(vals []ast.Value) ([]policy.PortRange, *policy.Set, bool) {
	return operands(c, vals, oneType(policy.PortType), "ports", c.portRange)
}

// iface reads an interface name; "eth*" is a wildcard.
func (c *checker) iface(v ast.Value) (policy.Iface, bool) {
	l, ok := lit(v, ast.Word, ast.String)
	if !ok {
		c.typeErr(v, "an interface name")
		return policy.Iface{}, false
	}
	name, wild := strings.CutSuffix(l.Text, "*")
	if len(name) == 0 && !wild || len(name) > 15 || strings.ContainsAny(name, " /*\t") {
		c.errorf(codeType, v, "%q is not a valid interface name (1 to 15 characters, no spaces or slashes)", l.Text)
		return policy.Iface{}, false
	}
	return policy.Iface{Name: name, Wildcard: wild}, true
}

func (c *checker) ifaces(vals []ast.Value) ([]policy.Iface, *policy.Set, bool) {
	return operands(c, vals, oneType(policy.IfaceT), "interfaces", c.iface)
}

// markValue reads V or V/M.
func (c *checker) markValue(v ast.Value) (val, mask uint32, ok bool) {
	mask = math.MaxUint32
	if b, isOp := v.(*ast.BinOp); isOp && b.Op == "/" {
		n, ok1 := c.number(b.Left, 0, math.MaxUint32, "a mark")
		m, ok2 := c.number(b.Right, 0, math.MaxUint32, "a mask")
		if !ok1 || !ok2 {
			return 0, 0, false
		}
		if uint32(n)&^uint32(m) != 0 {
			c.errorf(codeType, v, "mark %#x has bits outside its mask %#x", n, m)
			return 0, 0, false
		}
		return uint32(n), uint32(m), true
	}
	n, ok := c.number(v, 0, math.MaxUint32, "a mark")
	return uint32(n), mask, ok
}

// rate reads COUNT/UNIT.
func (c *checker) rate(v ast.Value) (policy.Rate, bool) {
	b, ok := v.(*ast.BinOp)
	if !ok || b.Op != "/" {
		c.errorf(codeRate, v, "expected a rate such as 10/second or 4/minute, got %s", describe(v))
		return policy.Rate{}, false
	}
	l, ok := lit(b.Left, ast.Number)
	n, err := uint64(0), error(nil)
	if ok {
		n, err = strconv.ParseUint(l.Text, 0, 32)
	}
	if !ok || err != nil || n == 0 {
		c.errorf(codeRate, b.Left, "a rate's count must be a whole number of at least 1, not %s", describe(b.Left))
		return policy.Rate{}, false
	}
	u, _ := lit(b.Right, ast.Word)
	units := map[string]time.Duration{
		"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour,
	}
	var unit time.Duration
	if u != nil {
		unit = units[strings.TrimSuffix(u.Text, "s")]
	}
	if unit == 0 {
		d := c.errorf(codeRate, b.Right, "%s is not a rate unit; use second, minute, hour or day", describe(b.Right))
		d.Detail = "iptables and nft both understand these four units; other periods cannot be expressed exactly."
		return policy.Rate{}, false
	}
	return policy.Rate{Count: n, Unit: unit}, true
}

func (c *checker) burst(v ast.Value) (uint32, bool) {
	if v == nil {
		return 0, true
	}
	n, ok := c.number(v, 1, 1<<20, "a burst")
	if !ok {
		c.diags[len(c.diags)-1].Code = codeRate
	}
	return uint32(n), ok
}

// proto reads a protocol name or number.
func (c *checker) proto(v ast.Value) (policy.Proto, bool) {
	if l, ok := lit(v, ast.Word); ok {
		p, known := protoNames[l.Text]
		if !known {
			d := c.errorf(codeType, v, "unknown protocol %q", l.Text)
			if s := suggest(l.Text, keys(protoNames)); s != "" {
				d.Summary += "; did you mean \"" + s + "\"?"
			}
			return 0, false
		}
		return p, true
	}
	n, ok := c.number(v, 0, 255, "a protocol name or number")
	return policy.Proto(n), ok
}
