// Package spacetest builds checked programs from a compact line format, so
// that the packet-space passes can be tested (and benchmarked) without the
// parser and the front end. It is for tests only.
//
// One declaration or rule per line; "#" starts a comment, and comments are
// kept in the ast.File so that `# want "regexp"` works with analysistest.
//
//	set NAME TYPE [timeout] { ELEM, ELEM }     TYPE: ipv4_addr, ipv6_addr,
//	                                           port, iface, mark, or parts
//	                                           joined by "." (concat)
//	chain NAME [table T] [hook H policy P]     later rules belong to it
//	  RULE                                     clauses in any order:
//
//	family ipv4|ipv6
//	saddr|daddr [!=] ADDR,ADDR | @set          ADDR: 10.0.0.1, 10.0.0.0/8, a-b
//	proto [!=] tcp,udp,icmp,icmpv6,N
//	sport|dport [!=] 22,1000-2000 | @set       (needs a proto clause first)
//	iif|oif [!=] eth0,eth* | @set
//	ct state [!=] new,established,related,invalid,untracked
//	ct status [!=] dnat,snat,...
//	mark|ctmark [!=] V[/M]
//	icmp|icmpv6 type [!=] T[:C],...
//	tcpflags [!=] syn,ack/syn,ack,rst          flags / mask
//	concat saddr,dport [!=] @set
//	limit | meter | time | prob | string       conditions not modelled
//	accept | drop | reject | return | jump C | goto C | log | counter |
//	setmark V | dnat ADDR
package spacetest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check/policy"
)

// Parse builds a program from src, or returns the first error.
func Parse(filename, src string) (*policy.Program, error) {
	p := &parser{file: &ast.File{Range: ast.Range{Filename: filename}}, prog: &policy.Program{},
		sets: map[string]*policy.Set{}, tables: map[string]*policy.Table{}}
	p.prog.Files = []*ast.File{p.file}
	type pending struct {
		j    *policy.Jump
		name string
		tab  *policy.Table
		line int
	}
	var jumps []pending
	for i, line := range strings.Split(src, "\n") {
		n := i + 1
		if h := strings.Index(line, "#"); h >= 0 {
			p.file.Comments = append(p.file.Comments, &ast.Comment{
				Range: ast.Range{Filename: filename, Start: ast.Pos{Line: n, Column: h + 1}, End: ast.Pos{Line: n, Column: len(line) + 1}},
				Text:  line[h:]})
			line = line[:h]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		col := strings.Index(line, f[0]) + 1
		rng := ast.Range{Filename: filename, Start: ast.Pos{Line: n, Column: col}, End: ast.Pos{Line: n, Column: len(strings.TrimRight(line, " \t")) + 1}}
		var err error
		switch f[0] {
		case "set":
			err = p.set(f[1:])
		case "chain":
			err = p.chain(f[1:])
		default:
			if p.cur == nil {
				return nil, fmt.Errorf("%s:%d: rule outside a chain", filename, n)
			}
			var r *policy.Rule
			r, err = p.rule(f, rng)
			if err == nil {
				p.cur.Rules = append(p.cur.Rules, r)
				for _, a := range r.Actions {
					if j, ok := a.(*policy.Jump); ok {
						jumps = append(jumps, pending{j, p.jumpTo, p.cur.Table, n})
					}
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", filename, n, err)
		}
	}
	for _, j := range jumps {
		if j.j.Target = j.tab.Chain(j.name); j.j.Target == nil {
			return nil, fmt.Errorf("%s:%d: no chain %s", filename, j.line, j.name)
		}
	}
	return p.prog, nil
}

// MustParse is Parse that panics on error.
func MustParse(filename, src string) *policy.Program {
	p, err := Parse(filename, src)
	if err != nil {
		panic(err)
	}
	return p
}

type parser struct {
	file   *ast.File
	prog   *policy.Program
	sets   map[string]*policy.Set
	tables map[string]*policy.Table
	cur    *policy.Chain
	jumpTo string
}

func (p *parser) set(f []string) error {
	if len(f) < 2 {
		return fmt.Errorf("set NAME TYPE { ... }")
	}
	s := &policy.Set{Name: f[0], Family: policy.Both}
	for _, t := range strings.Split(f[1], ".") {
		s.Type = append(s.Type, policy.SetType(t))
		switch policy.SetType(t) {
		case policy.IPv4Addr, policy.IPv4Net:
			s.Family = policy.IPv4
		case policy.IPv6Addr, policy.IPv6Net:
			s.Family = policy.IPv6
		}
	}
	rest := strings.Join(f[2:], " ")
	if strings.HasPrefix(rest, "timeout") {
		s.Timeout = time.Minute
		rest = strings.TrimPrefix(rest, "timeout")
	}
	rest = strings.Trim(strings.TrimSpace(rest), "{}")
	for _, e := range strings.Split(rest, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		parts := strings.Split(e, ".")
		if len(s.Type) == 1 {
			parts = []string{e}
		}
		if len(s.Type) > 1 {
			parts = strings.Split(e, " . ")
		}
		var el policy.SetElem
		for i, part := range parts {
			if i >= len(s.Type) {
				return fmt.Errorf("element %q has too many parts", e)
			}
			v, err := setValue(s.Type[i], strings.TrimSpace(part))
			if err != nil {
				return err
			}
			el.Parts = append(el.Parts, v)
		}
		s.Elements = append(s.Elements, el)
	}
	p.sets[s.Name] = s
	p.prog.Sets = append(p.prog.Sets, s)
	return nil
}

func setValue(t policy.SetType, s string) (policy.SetValue, error) {
	switch t {
	case policy.PortType:
		n, err := strconv.ParseUint(s, 10, 16)
		return policy.SetValue{Port: uint16(n)}, err
	case policy.IfaceT:
		return policy.SetValue{Iface: s}, nil
	case policy.MarkT:
		n, err := strconv.ParseUint(s, 0, 32)
		return policy.SetValue{Mark: uint32(n)}, err
	}
	a, err := addr(s)
	return policy.SetValue{Addr: a}, err
}

func (p *parser) chain(f []string) error {
	if len(f) == 0 {
		return fmt.Errorf("chain NAME")
	}
	tname := "filter"
	c := &policy.Chain{Name: f[0]}
	for i := 1; i+1 < len(f); i += 2 {
		switch f[i] {
		case "table":
			tname = f[i+1]
		case "hook":
			c.Hook = policy.Hook(f[i+1])
		case "policy":
			k := policy.Accept
			if f[i+1] == "drop" {
				k = policy.Drop
			}
			c.Policy = &policy.Verdict{Kind: k}
		default:
			return fmt.Errorf("unknown chain clause %q", f[i])
		}
	}
	if c.Hook != "" && c.Policy == nil {
		c.Policy = &policy.Verdict{Kind: policy.Accept}
	}
	t := p.tables[tname]
	if t == nil {
		t = &policy.Table{Name: tname}
		p.tables[tname] = t
		p.prog.Tables = append(p.prog.Tables, t)
	}
	c.Table = t
	t.Chains = append(t.Chains, c)
	p.cur = c
	return nil
}

func addr(s string) (policy.AddrItem, error) {
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err := netip.ParseAddr(lo)
		if err != nil {
			return policy.AddrItem{}, err
		}
		b, err := netip.ParseAddr(hi)
		return policy.AddrItem{Lo: a, Hi: b}, err
	}
	if strings.Contains(s, "/") {
		pf, err := netip.ParsePrefix(s)
		return policy.AddrItem{Prefix: pf}, err
	}
	a, err := netip.ParseAddr(s)
	return policy.AddrItem{Prefix: netip.PrefixFrom(a, a.BitLen())}, err
}

var protos = map[string]policy.Proto{"tcp": policy.ProtoTCP, "udp": policy.ProtoUDP, "icmp": policy.ProtoICMP,
	"icmpv6": policy.ProtoICMPv6, "sctp": policy.ProtoSCTP}

var states = map[string]uint32{"invalid": policy.CtInvalid, "established": policy.CtEstablished,
	"related": policy.CtRelated, "new": policy.CtNew, "untracked": policy.CtUntracked}

var statuses = map[string]uint32{"expected": policy.StatusExpected, "seen-reply": policy.StatusSeenReply,
	"assured": policy.StatusAssured, "confirmed": policy.StatusConfirmed, "snat": policy.StatusSNAT,
	"dnat": policy.StatusDNAT, "dying": policy.StatusDying}

var flags = map[string]uint8{"fin": policy.FIN, "syn": policy.SYN, "rst": policy.RST, "psh": policy.PSH,
	"ack": policy.ACK, "urg": policy.URG, "ece": policy.ECE, "cwr": policy.CWR}

func (p *parser) rule(f []string, rng ast.Range) (*policy.Rule, error) {
	r := &policy.Rule{Src: rng, Family: policy.Both}
	at := policy.At{Node: rng}
	i := 0
	next := func() (string, bool) {
		if i >= len(f) {
			return "", false
		}
		i++
		return f[i-1], true
	}
	// value reads an optional "!=" and the value list.
	value := func() (bool, string, error) {
		v, ok := next()
		neg := false
		if v == "!=" {
			neg = true
			v, ok = next()
		}
		if !ok {
			return false, "", fmt.Errorf("missing value")
		}
		return neg, v, nil
	}
	setRef := func(v string) (*policy.Set, error) {
		s := p.sets[strings.TrimPrefix(v, "@")]
		if s == nil {
			return nil, fmt.Errorf("no set %s", v)
		}
		return s, nil
	}
	dir := func(k string) policy.Dir {
		if k[0] == 's' || k == "iif" {
			return policy.Src
		}
		return policy.Dst
	}
	for i < len(f) {
		k, _ := next()
		switch k {
		case "family":
			v, _ := next()
			r.Family = map[string]policy.Family{"ipv4": policy.IPv4, "ipv6": policy.IPv6}[v]
		case "saddr", "daddr":
			neg, v, err := value()
			if err != nil {
				return nil, err
			}
			c := &policy.AddrCond{At: at, Dir: dir(k), Neg: neg}
			if strings.HasPrefix(v, "@") {
				if c.Set, err = setRef(v); err != nil {
					return nil, err
				}
			} else {
				fam := policy.Family(0)
				for _, s := range strings.Split(v, ",") {
					a, err := addr(s)
					if err != nil {
						return nil, err
					}
					c.Items = append(c.Items, a)
					if a.Is4() {
						fam |= policy.IPv4
					} else {
						fam |= policy.IPv6
					}
				}
				r.Family &= fam
			}
			r.Conds = append(r.Conds, c)
		case "proto":
			neg, v, err := value()
			if err != nil {
				return nil, err
			}
			c := &policy.ProtoCond{At: at, Neg: neg}
			for _, s := range strings.Split(v, ",") {
				pr, ok := protos[s]
				if !ok {
					n, err := strconv.ParseUint(s, 10, 8)
					if err != nil {
						return nil, fmt.Errorf("bad protocol %q", s)
					}
					pr = policy.Proto(n)
				}
				c.Protos = append(c.Protos, pr)
			}
			r.Conds = append(r.Conds, c)
		case "sport", "dport":
			neg, v, err := value()
			if err != nil {
				return nil, err
			}
			c := &policy.PortCond{At: at, Dir: dir(k), Neg: neg}
			if strings.HasPrefix(v, "@") {
				if c.Set, err = setRef(v); err != nil {
					return nil, err
				}
			} else {
				for _, s := range strings.Split(v, ",") {
					lo, hi, _ := strings.Cut(s, "-")
					if hi == "" {
						hi = lo
					}
					a, err1 := strconv.ParseUint(lo, 10, 16)
					b, err2 := strconv.ParseUint(hi, 10, 16)
					if err1 != nil || err2 != nil {
						return nil, fmt.Errorf("bad port %q", s)
					}
					c.Ranges = append(c.Ranges, policy.PortRange{Lo: uint16(a), Hi: uint16(b)})
				}
			}
			r.Conds = append(r.Conds, c)
		case "iif", "oif":
			neg, v, err := value()
			if err != nil {
				return nil, err
			}
			c := &policy.IfaceCond{At: at, Dir: dir(k), Neg: neg}
			if strings.HasPrefix(v, "@") {
				if c.Set, err = setRef(v); err != nil {
					return nil, err
				}
			} else {
				for _, s := range strings.Split(v, ",") {
					c.Ifaces = append(c.Ifaces, policy.Iface{Name: strings.TrimSuffix(s, "*"), Wildcard: strings.HasSuffix(s, "*")})
				}
			}
			r.Conds = append(r.Conds, c)
		case "ct":
			what, _ := next()
			neg, v, err := value()
			if err != nil {
				return nil, err
			}
			switch what {
			case "state", "status":
				m := states
				if what == "status" {
					m = statuses
				}
				var bits uint32
				for _, s := range strings.Split(v, ",") {
					b, ok := m[s]
					if !ok {
						return nil, fmt.Errorf("bad ct %s %q", what, s)
					}
					bits |= b
				}
				if what == "state" {
					r.Conds = append(r.Conds, &policy.CtStateCond{At: at, Neg: neg, Bits: bits})
				} else {
					r.Conds = append(r.Conds, &policy.CtStatusCond{At: at, Neg: neg, Bits: bits})
				}
			default:
				return nil, fmt.Errorf("bad ct clause %q", what)
			}
		case "mark", "ctmark":
			neg, v, err := value()
			if err != nil {
				return nil, err
			}
			val, mask, err := valueMask(v)
			if err != nil {
				return nil, err
			}
			r.Conds = append(r.Conds, &policy.MarkCond{At: at, Ct: k == "ctmark", Neg: neg, Value: val, Mask: mask})
		case "icmp", "icmpv6":
			if t, _ := next(); t != "type" {
				return nil, fmt.Errorf("want %s type", k)
			}
			neg, v, err := value()
			if err != nil {
				return nil, err
			}
			c := &policy.ICMPCond{At: at, V6: k == "icmpv6", Neg: neg}
			for _, s := range strings.Split(v, ",") {
				ty, code, hasCode := strings.Cut(s, ":")
				t, err := strconv.ParseUint(ty, 10, 8)
				if err != nil {
					return nil, err
				}
				it := policy.ICMPType{Type: uint8(t), Code: -1}
				if hasCode {
					n, err := strconv.ParseUint(code, 10, 8)
					if err != nil {
						return nil, err
					}
					it.Code = int(n)
				}
				c.Types = append(c.Types, it)
			}
			if c.V6 {
				r.Family &= policy.IPv6
			} else {
				r.Family &= policy.IPv4
			}
			r.Conds = append(r.Conds, c)
		case "tcpflags":
			neg, v, err := value()
			if err != nil {
				return nil, err
			}
			fl, ma, _ := strings.Cut(v, "/")
			c := &policy.TCPFlagsCond{At: at, Neg: neg}
			for _, s := range strings.Split(fl, ",") {
				c.Flags |= flags[s]
			}
			for _, s := range strings.Split(ma, ",") {
				c.Mask |= flags[s]
			}
			r.Conds = append(r.Conds, c)
		case "concat":
			keys, _ := next()
			neg, v, err := value()
			if err != nil {
				return nil, err
			}
			c := &policy.ConcatCond{At: at, Neg: neg}
			for _, s := range strings.Split(keys, ",") {
				c.Keys = append(c.Keys, policy.Key(s))
			}
			if c.Set, err = setRef(v); err != nil {
				return nil, err
			}
			r.Conds = append(r.Conds, c)
		case "limit":
			r.Conds = append(r.Conds, &policy.LimitCond{At: at, Rate: policy.Rate{Count: 10, Unit: time.Second}})
		case "meter":
			r.Conds = append(r.Conds, &policy.MeterCond{At: at, Name: "m", MaskLen: -1, Rate: policy.Rate{Count: 10, Unit: time.Second}})
		case "time":
			r.Conds = append(r.Conds, &policy.TimeCond{At: at, HasHour: true, HourTo: time.Hour})
		case "prob":
			r.Conds = append(r.Conds, &policy.ProbCond{At: at, P: 0.5})
		case "string":
			r.Conds = append(r.Conds, &policy.StringCond{At: at, Text: "x"})
		case "accept", "drop", "reject", "return":
			kind := map[string]policy.VerdictKind{"accept": policy.Accept, "drop": policy.Drop, "reject": policy.Reject, "return": policy.Return}[k]
			r.Actions = append(r.Actions, &policy.Verdict{At: at, Kind: kind})
		case "jump", "goto":
			v, _ := next()
			p.jumpTo = v
			r.Actions = append(r.Actions, &policy.Jump{At: at, Goto: k == "goto"})
		case "log":
			r.Actions = append(r.Actions, &policy.Log{At: at, Level: 4})
		case "counter":
			r.Actions = append(r.Actions, &policy.Counter{At: at})
		case "setmark":
			v, _ := next()
			val, mask, err := valueMask(v)
			if err != nil {
				return nil, err
			}
			r.Actions = append(r.Actions, &policy.SetMark{At: at, Value: val, Mask: mask})
		case "dnat":
			v, _ := next()
			a, err := netip.ParseAddr(v)
			if err != nil {
				return nil, err
			}
			r.Actions = append(r.Actions, &policy.NAT{At: at, Kind: policy.DNAT, AddrLo: a, AddrHi: a})
		default:
			return nil, fmt.Errorf("unknown clause %q", k)
		}
	}
	return r, nil
}

func valueMask(s string) (uint32, uint32, error) {
	v, m, hasMask := strings.Cut(s, "/")
	a, err := strconv.ParseUint(v, 0, 32)
	if err != nil {
		return 0, 0, err
	}
	mask := uint64(0xffffffff)
	if hasMask {
		if mask, err = strconv.ParseUint(m, 0, 32); err != nil {
			return 0, 0, err
		}
	}
	return uint32(a), uint32(mask), nil
}
