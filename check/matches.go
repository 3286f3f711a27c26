package check

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// ruleState gathers what one source rule's matches say, before the rule is
// expanded into policy rules.
type ruleState struct {
	family policy.Family
	famAt  ast.Node // the match that first restricted the family
	// protos are the protocols the rule is restricted to by `proto`, a
	// qualified port match, icmp or tcp flags; nil: any.
	protos  []policy.Proto
	protoAt ast.Node
	conds   []policy.Cond
	// needPorts are bare port matches waiting for a protocol.
	needPorts []*ast.PortMatch
	// service alternatives (one service match per rule).
	service   []policy.ServiceEntry
	serviceAt *ast.ServiceMatch
	ok        bool
}

// restrict narrows the rule's family, reporting a conflict.
func (c *checker) restrict(st *ruleState, f policy.Family, at ast.Node) {
	if f == policy.Both || f == 0 {
		return
	}
	if st.family&f == 0 {
		d := c.errorf(codeFamily, at, "this matches only %s, but the rule is already %s", famWord(f), famWord(st.family))
		if st.famAt != nil {
			d.Related = append(d.Related, diag.Related{Message: "restricted to " + famWord(st.family) + " here", Range: st.famAt.Span()})
		}
		d.Detail = "No packet is both IPv4 and IPv6, so the rule can never match. Split it into one rule per family."
		st.ok = false
		return
	}
	if st.family != f {
		st.family &= f
		st.famAt = at
	}
}

func famWord(f policy.Family) string {
	switch f {
	case policy.IPv4:
		return "IPv4"
	case policy.IPv6:
		return "IPv6"
	}
	return "IPv4 and IPv6"
}

// itemsFamily is the family a list of address items allows.
func itemsFamily(items []policy.AddrItem) policy.Family {
	var f policy.Family
	for _, it := range items {
		if it.Is4() {
			f |= policy.IPv4
		} else {
			f |= policy.IPv6
		}
	}
	return f
}

// requireProto restricts the rule to protocol p (for a qualified port match,
// icmp type or tcp flags).
func (c *checker) requireProto(st *ruleState, p policy.Proto, at ast.Node) {
	if st.protos == nil {
		st.protos, st.protoAt = []policy.Proto{p}, at
		return
	}
	if !slices.Contains(st.protos, p) {
		d := c.errorf(codeProtoConflict, at, "this needs protocol %s, but the rule matches %s", protoName(p), protoList(st.protos))
		d.Related = append(d.Related, diag.Related{Message: "protocol matched here", Range: st.protoAt.Span()})
		st.ok = false
		return
	}
	st.protos = []policy.Proto{p}
}

func protoList(ps []policy.Proto) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = protoName(p)
		if names[i] == "" {
			names[i] = strconv.Itoa(int(p))
		}
	}
	return strings.Join(names, ", ")
}

// matches reads a rule's matches into st.
func (c *checker) matches(ms []ast.Match, st *ruleState) {
	for _, m := range ms {
		c.match(m, st)
	}
	if len(st.needPorts) > 0 {
		var portProtos []policy.Proto
		for _, p := range st.protos {
			if p.HasPorts() {
				portProtos = append(portProtos, p)
			}
		}
		if st.service == nil && (len(portProtos) == 0 || len(portProtos) != len(st.protos)) {
			pm := st.needPorts[0]
			d := c.errorf(codePortProto, pm, "%s without a port protocol", pm.Key.Name)
			d.Detail = "Write the protocol (tcp " + pm.Key.Name + " ...), match one first (proto tcp), or use a service."
			st.ok = false
		}
	}
}

func (c *checker) match(m ast.Match, st *ruleState) {
	at := policy.At{Node: m}
	fail := func() { st.ok = false }
	switch m := m.(type) {
	case *ast.FieldMatch:
		c.field(m, st)
	case *ast.AddrMatch:
		items, set, ok := c.addrs(m.Values)
		if !ok {
			fail()
			return
		}
		dir := policy.Src
		if m.Key.Name == "daddr" {
			dir = policy.Dst
		}
		// An address makes the rule its family's only, negated or not
		// (docs/language.md, Families): `saddr != 10.0.0.1` says
		// nothing about IPv6 packets, so it must not make the rule's
		// other matches and actions hold for every one of them. This
		// is the one place the family is decided: ir.Lower and the
		// packet space both read policy.Rule.Family.
		if set != nil {
			c.restrict(st, set.Family, m)
		} else {
			c.restrict(st, itemsFamily(items), m)
		}
		st.conds = append(st.conds, &policy.AddrCond{At: at, Dir: dir, Neg: m.Neg, Items: items, Set: set})
	case *ast.ProtoMatch:
		var ps []policy.Proto
		for _, v := range c.flatten(m.Values) {
			p, ok := c.proto(v)
			if !ok {
				fail()
				return
			}
			ps = append(ps, p)
		}
		if m.Neg {
			st.conds = append(st.conds, &policy.ProtoCond{At: at, Neg: true, Protos: ps})
			return
		}
		for _, p := range ps {
			if p == policy.ProtoICMP {
				c.restrict(st, policy.IPv4, m)
			}
			if p == policy.ProtoICMPv6 {
				c.restrict(st, policy.IPv6, m)
			}
		}
		if st.protos != nil {
			var both []policy.Proto
			for _, p := range ps {
				if slices.Contains(st.protos, p) {
					both = append(both, p)
				}
			}
			if len(both) == 0 {
				d := c.errorf(codeProtoConflict, m, "the rule already matches %s", protoList(st.protos))
				d.Related = append(d.Related, diag.Related{Message: "protocol matched here", Range: st.protoAt.Span()})
				fail()
				return
			}
			ps = both
		}
		st.protos, st.protoAt = ps, m
	case *ast.PortMatch:
		rs, set, ok := c.ports(m.Values)
		if !ok {
			fail()
			return
		}
		if m.Proto != nil {
			p, known := protoNames[m.Proto.Name]
			if !known || !p.HasPorts() {
				c.errorf(codePortProto, m.Proto, "%s has no ports", m.Proto.Name)
				fail()
				return
			}
			c.requireProto(st, p, m)
		} else {
			st.needPorts = append(st.needPorts, m)
		}
		dir := policy.Src
		if m.Key.Name == "dport" {
			dir = policy.Dst
		}
		st.conds = append(st.conds, &policy.PortCond{At: at, Dir: dir, Neg: m.Neg, Ranges: rs, Set: set})
	case *ast.IfaceMatch:
		ifs, set, ok := c.ifaces(m.Values)
		if !ok {
			fail()
			return
		}
		dir := policy.Src
		if m.Key.Name == "oif" {
			dir = policy.Dst
		}
		st.conds = append(st.conds, &policy.IfaceCond{At: at, Dir: dir, Neg: m.Neg, Ifaces: ifs, Set: set})
	case *ast.ServiceMatch:
		if st.serviceAt != nil {
			d := c.errorf(codeProtoConflict, m, "a rule can match one service list")
			d.Related = append(d.Related, diag.Related{Message: "services matched here", Range: st.serviceAt.Span()})
			fail()
			return
		}
		st.serviceAt = m
		var entries []policy.ServiceEntry
		for _, v := range c.flatten(m.Values) {
			w, ok := c.word(v, "a service name")
			if !ok {
				fail()
				continue
			}
			s, known := c.services[w]
			c.use("service", w)
			if !known {
				c.unknown("service", v, w, keys(c.services))
				fail()
				continue
			}
			entries = append(entries, s.Entries...)
		}
		if m.Neg {
			if len(entries) != 1 || !entries[0].Proto.HasPorts() || len(entries[0].Ports) == 0 {
				c.errorf(codeProtoConflict, m, "\"service !=\" needs a single service of one port protocol with ports")
				fail()
				return
			}
			e := entries[0]
			c.requireProto(st, e.Proto, m)
			st.conds = append(st.conds, &policy.PortCond{At: at, Dir: policy.Dst, Neg: true, Ranges: e.Ports})
			return
		}
		if entries == nil {
			entries = []policy.ServiceEntry{}
		}
		st.service = entries
	case *ast.ICMPMatch:
		v6 := m.Proto.Name == "icmpv6"
		var types []policy.ICMPType
		for _, v := range c.flatten(m.Values) {
			t, ok := c.icmpType(v, v6)
			if !ok {
				fail()
				return
			}
			types = append(types, t)
		}
		if v6 {
			c.restrict(st, policy.IPv6, m)
			c.requireProto(st, policy.ProtoICMPv6, m)
		} else {
			c.restrict(st, policy.IPv4, m)
			c.requireProto(st, policy.ProtoICMP, m)
		}
		st.conds = append(st.conds, &policy.ICMPCond{At: at, V6: v6, Neg: m.Neg, Types: types})
	case *ast.TCPFlagsMatch:
		flags, ok1 := c.flagBits(m.Flags)
		mask, ok2 := flags, true
		if m.Mask != nil {
			mask, ok2 = c.flagBits(m.Mask)
		}
		if !ok1 || !ok2 {
			fail()
			return
		}
		if flags&^mask != 0 {
			c.errorf(codeType, m, "the flags must be part of the mask")
			fail()
			return
		}
		c.requireProto(st, policy.ProtoTCP, m)
		st.conds = append(st.conds, &policy.TCPFlagsCond{At: at, Neg: m.Neg, Flags: flags, Mask: mask})
	case *ast.CtMatch:
		table := ctStates
		if m.Key.Name == "status" {
			table = ctStatuses
		}
		var bits uint32
		for _, v := range c.flatten(m.Values) {
			w, ok := c.word(v, "a connection "+m.Key.Name)
			b, known := table[w]
			if ok && !known {
				d := c.errorf(codeType, v, "unknown ct %s %q", m.Key.Name, w)
				if s := suggest(w, keys(table)); s != "" {
					d.Summary += "; did you mean \"" + s + "\"?"
				}
			}
			if !ok || !known {
				fail()
				return
			}
			bits |= b
		}
		if m.Key.Name == "status" {
			st.conds = append(st.conds, &policy.CtStatusCond{At: at, Neg: m.Neg, Bits: bits})
		} else {
			st.conds = append(st.conds, &policy.CtStateCond{At: at, Neg: m.Neg, Bits: bits})
		}
	case *ast.MarkMatch:
		mc := &policy.MarkCond{At: at, Ct: m.Ct, Neg: m.Neg}
		if m.Route != nil {
			r, ok := c.routes[m.Route.Name]
			c.use("route", m.Route.Name)
			if !ok {
				c.unknown("route", m.Route, m.Route.Name, keys(c.routes))
				fail()
				return
			}
			mc.Value, mc.Mask, mc.Route = r.Mark, r.Mask, r
		} else if ref, isRef := m.Value.(*ast.Ref); isRef {
			s := c.setOperand(ref, 1, oneType(policy.MarkT), "marks")
			if s == nil {
				fail()
				return
			}
			mc.Mask, mc.Set = math.MaxUint32, s
		} else {
			v, mask, ok := c.markValue(m.Value)
			if !ok {
				fail()
				return
			}
			mc.Value, mc.Mask = v, mask
		}
		st.conds = append(st.conds, mc)
	case *ast.FamilyMatch:
		switch m.Family.Name {
		case "ipv4", "ip":
			c.restrict(st, policy.IPv4, m)
		case "ipv6", "ip6":
			c.restrict(st, policy.IPv6, m)
		default:
			c.errorf(codeType, m.Family, "a family is ipv4 or ipv6, not %q", m.Family.Name)
			fail()
		}
	case *ast.LimitMatch:
		r, ok1 := c.rate(m.Rate)
		b, ok2 := c.burst(m.Burst)
		if !ok1 || !ok2 {
			fail()
			return
		}
		st.conds = append(st.conds, &policy.LimitCond{At: at, Over: m.Over, Rate: r, Burst: b})
	case *ast.MeterMatch:
		r, ok1 := c.rate(m.Rate)
		b, ok2 := c.burst(m.Burst)
		mask, ok3 := c.maskLen(m.Mask)
		if !ok1 || !ok2 || !ok3 {
			fail()
			return
		}
		per := policy.Src
		switch m.Per.Name {
		case "saddr":
		case "daddr":
			per = policy.Dst
		default:
			c.errorf(codeType, m.Per, "a meter counts per saddr or per daddr, not %q", m.Per.Name)
			fail()
			return
		}
		st.conds = append(st.conds, &policy.MeterCond{At: at, Name: m.Name.Name, Per: per, MaskLen: mask, Over: m.Over, Rate: r, Burst: b})
	case *ast.ConnlimitMatch:
		n, ok1 := c.number(m.Count, 1, math.MaxUint32, "a connection count")
		mask, ok2 := c.maskLen(m.Mask)
		if !ok1 || !ok2 {
			fail()
			return
		}
		st.conds = append(st.conds, &policy.ConnlimitCond{At: at, Over: m.Over, Count: uint32(n), MaskLen: mask})
	case *ast.TimeMatch:
		tc, ok := c.timeCond(m)
		if !ok {
			fail()
			return
		}
		tc.At = at
		st.conds = append(st.conds, tc)
	case *ast.ProbabilityMatch:
		l, ok := lit(m.Value, ast.Number)
		p := 0.0
		if ok {
			p, _ = strconv.ParseFloat(l.Text, 64)
		}
		if !ok || p <= 0 || p >= 1 {
			c.errorf(codeType, m.Value, "a probability is a number between 0 and 1 (exclusive), such as 0.25")
			fail()
			return
		}
		st.conds = append(st.conds, &policy.ProbCond{At: at, P: p})
	case *ast.StringMatch:
		algo := "bm"
		if m.Algo != nil {
			algo = m.Algo.Name
			if algo != "bm" && algo != "kmp" {
				c.errorf(codeType, m.Algo, "a string match algorithm is bm or kmp, not %q", algo)
				fail()
				return
			}
		}
		if m.Text == nil || m.Text.Text == "" {
			c.errorf(codeType, m, "a string match needs a non-empty string")
			fail()
			return
		}
		st.conds = append(st.conds, &policy.StringCond{At: at, Neg: m.Neg, Text: m.Text.Text, Algo: algo})
	case *ast.ConcatMatch:
		c.concatMatch(m, st)
	default:
		c.errorf(codeType, m, "unsupported match")
		fail()
	}
}

func (c *checker) flagBits(ids []ast.Ident) (uint8, bool) {
	var b uint8
	for _, id := range ids {
		f, ok := tcpFlags[id.Name]
		if !ok {
			c.errorf(codeType, id, "unknown tcp flag %q (fin, syn, rst, psh, ack, urg, ece, cwr, all, none)", id.Name)
			return 0, false
		}
		b |= f
	}
	return b, true
}

func (c *checker) maskLen(v ast.Value) (int, bool) {
	if v == nil {
		return -1, true
	}
	n, ok := c.number(v, 0, 128, "a prefix length")
	return int(n), ok
}

func (c *checker) concatMatch(m *ast.ConcatMatch, st *ruleState) {
	s := c.setRef(m.Set)
	if s == nil {
		st.ok = false
		return
	}
	want := map[string][]policy.SetType{
		"saddr": {policy.IPv4Addr, policy.IPv4Net, policy.IPv6Addr, policy.IPv6Net},
		"daddr": {policy.IPv4Addr, policy.IPv4Net, policy.IPv6Addr, policy.IPv6Net},
		"sport": {policy.PortType}, "dport": {policy.PortType},
		"iif": {policy.IfaceT}, "oif": {policy.IfaceT}, "mark": {policy.MarkT},
	}
	if len(m.Keys) != len(s.Type) {
		c.errorf(codeSetUse, m, "set %q holds %s, but %d fields are looked up", s.Name, typeString(s.Type), len(m.Keys))
		st.ok = false
		return
	}
	keys := make([]policy.Key, len(m.Keys))
	ports := false
	for i, k := range m.Keys {
		ts, known := want[k.Name]
		if !known {
			c.errorf(codeType, k, "%q cannot be looked up in a set (saddr, daddr, sport, dport, iif, oif, mark)", k.Name)
			st.ok = false
			return
		}
		if !slices.Contains(ts, s.Type[i]) {
			c.errorf(codeSetUse, k, "part %d of set %q is %s; %s does not fit it", i+1, s.Name, s.Type[i], k.Name)
			st.ok = false
			return
		}
		ports = ports || k.Name == "sport" || k.Name == "dport"
		keys[i] = policy.Key(k.Name)
	}
	c.restrict(st, s.Family, m)
	if ports {
		if m.Proto == nil {
			st.needPorts = append(st.needPorts, &ast.PortMatch{Range: m.Range, Key: ast.Ident{Name: "a port lookup"}})
		} else if p, known := protoNames[m.Proto.Name]; !known || !p.HasPorts() {
			c.errorf(codePortProto, m.Proto, "%s has no ports", m.Proto.Name)
			st.ok = false
			return
		} else {
			c.requireProto(st, p, m)
		}
	}
	st.conds = append(st.conds, &policy.ConcatCond{At: policy.At{Node: m}, Neg: m.Neg, Keys: keys, Set: s})
}

// timeCond reads hour "HH:MM[:SS]"-"HH:MM[:SS]", day NAMES|1-7, date "YYYY-MM-DD[THH:MM:SS]"-"...".
func (c *checker) timeCond(m *ast.TimeMatch) (*policy.TimeCond, bool) {
	tc := &policy.TimeCond{Neg: m.Neg}
	vals := c.flatten(m.Values)
	switch m.Key.Name {
	case "hour":
		if len(vals) != 1 {
			c.errorf(codeType, m, "hour takes one range, such as \"09:00\"-\"17:30\"")
			return nil, false
		}
		lo, hi, ok := c.stringRange(vals[0], func(s string) (time.Time, error) {
			if len(s) == 5 {
				s += ":00"
			}
			return time.Parse("15:04:05", s)
		}, "a time of day range such as \"09:00\"-\"17:30\"")
		if !ok {
			return nil, false
		}
		tc.HasHour = true
		tc.HourFrom = time.Duration(lo.Hour())*time.Hour + time.Duration(lo.Minute())*time.Minute + time.Duration(lo.Second())*time.Second
		tc.HourTo = time.Duration(hi.Hour())*time.Hour + time.Duration(hi.Minute())*time.Minute + time.Duration(hi.Second())*time.Second
	case "day":
		for _, v := range vals {
			if l, ok := lit(v, ast.Number); ok {
				n, err := strconv.Atoi(l.Text)
				if err != nil || n < 1 || n > 7 {
					c.errorf(codeType, v, "days are numbered 1 (Monday) to 7 (Sunday), not %s", l.Text)
					return nil, false
				}
				tc.Days |= 1 << (n - 1)
				continue
			}
			w, ok := c.word(v, "a weekday (mon ... sun, or 1 to 7)")
			d, known := weekdays[strings.ToLower(w)]
			if ok && !known {
				c.errorf(codeType, v, "%q is not a weekday (mon, tue, wed, thu, fri, sat, sun)", w)
			}
			if !ok || !known {
				return nil, false
			}
			tc.Days |= 1 << d
		}
	case "date":
		if len(vals) != 1 {
			c.errorf(codeType, m, "date takes one range, such as \"2017-12-24\"-\"2017-12-27\"")
			return nil, false
		}
		lo, hi, ok := c.stringRange(vals[0], func(s string) (time.Time, error) {
			if len(s) == 10 {
				return time.Parse("2006-01-02", s)
			}
			return time.Parse("2006-01-02T15:04:05", s)
		}, "a date range such as \"2017-12-24\"-\"2017-12-27\"")
		if !ok {
			return nil, false
		}
		tc.HasDate, tc.DateFrom, tc.DateTo = true, lo, hi
	default:
		c.errorf(codeType, m.Key, "unknown time match %q", m.Key.Name)
		return nil, false
	}
	return tc, true
}

func (c *checker) stringRange(v ast.Value, parse func(string) (time.Time, error), what string) (lo, hi time.Time, ok bool) {
	b, isOp := v.(*ast.BinOp)
	if !isOp || b.Op != "-" {
		c.typeErr(v, what)
		return lo, hi, false
	}
	l, ok1 := lit(b.Left, ast.String)
	r, ok2 := lit(b.Right, ast.String)
	if !ok1 || !ok2 {
		c.typeErr(v, what)
		return lo, hi, false
	}
	var err1, err2 error
	lo, err1 = parse(l.Text)
	hi, err2 = parse(r.Text)
	if err1 != nil || err2 != nil {
		c.typeErr(v, what)
		return lo, hi, false
	}
	if !lo.Before(hi) {
		c.errorf(codeRange, v, "range %s-%s is empty", l.Text, r.Text).Detail =
			"A time range that wraps past midnight is two rules (or a negated range)."
		return lo, hi, false
	}
	return lo, hi, true
}
