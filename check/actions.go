package check

import (
	"math"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/policy"
)

// placement is where a zone-level rule goes, decided by its actions.
type placement int

const (
	placeFilter placement = iota
	placeDNAT             // nat prerouting / output
	placeSNAT             // nat postrouting
	placeMangle           // mangle prerouting / output
	placeRaw              // raw prerouting / output
)

// classify decides a zone rule's placement from its actions.
func (c *checker) classify(acts []ast.Action) (placement, bool) {
	p, decided := placeFilter, false
	set := func(q placement, at ast.Node) bool {
		if decided && p != q {
			c.errorf(codeZoneLayer, at, "this action belongs in another table than the rule's other actions; write two rules")
			return false
		}
		p, decided = q, true
		return true
	}
	verdict := false
	for _, a := range acts {
		ok := true
		switch a := a.(type) {
		case *ast.NAT:
			switch a.Kind.Name {
			case "dnat", "redirect":
				ok = set(placeDNAT, a)
			default:
				ok = set(placeSNAT, a)
			}
		case *ast.Verdict, *ast.Jump:
			verdict = true
		case *ast.MarkSet, *ast.Connmark, *ast.RouteAction, *ast.HeaderSet:
			if !decided || p == placeMangle {
				p, decided = placeMangle, true
			}
		case *ast.Simple:
			ok = set(placeRaw, a)
		}
		if !ok {
			return p, false
		}
	}
	if verdict && p == placeMangle {
		// A verdict with a mark: the mark rides along in mangle, where
		// accept and drop work too.
		return placeMangle, true
	}
	return p, true
}

// actions types a rule's actions; jumps resolve in table t.
func (c *checker) actions(acts []ast.Action, t *policy.Table, st *ruleState) []policy.Action {
	var out []policy.Action
	for _, a := range acts {
		at := policy.At{Node: a}
		switch a := a.(type) {
		case *ast.Verdict:
			v := &policy.Verdict{At: at}
			switch a.Kind.Name {
			case "accept":
				v.Kind = policy.Accept
			case "drop":
				v.Kind = policy.Drop
			case "return":
				v.Kind = policy.Return
			case "reject":
				v.Kind = policy.Reject
				if a.With != nil {
					fam, known := rejectTypes[a.With.Name]
					if !known {
						d := c.errorf(codeType, a.With, "unknown reject type %q", a.With.Name)
						if s := suggest(a.With.Name, keys(rejectTypes)); s != "" {
							d.Summary += "; did you mean \"" + s + "\"?"
						}
						st.ok = false
						continue
					}
					c.restrict(st, fam, a.With)
					if a.With.Name == "tcp-reset" {
						c.requireProto(st, policy.ProtoTCP, a.With)
					}
					v.With = a.With.Name
				}
			default:
				c.errorf(codeType, a.Kind, "unknown verdict %q", a.Kind.Name)
				st.ok = false
				continue
			}
			out = append(out, v)
		case *ast.Jump:
			target := t.Chain(a.Target.Name)
			if target == nil {
				var names []string
				for _, ch := range t.Chains {
					if !ch.IsBase() {
						names = append(names, ch.Name)
					}
				}
				c.unknown("chain", a.Target, a.Target.Name, names)
				st.ok = false
				continue
			}
			if target.IsBase() {
				c.errorf(codeJumpTarget, a.Target, "%q is a base chain of the %s table; only user chains can be jumped to", target.Name, t.Name)
				st.ok = false
				continue
			}
			out = append(out, &policy.Jump{At: at, Goto: a.Goto, Target: target})
		case *ast.Log:
			l := &policy.Log{At: at, Level: 4}
			if a.Prefix != nil {
				l.Prefix = a.Prefix.Text
				if len(l.Prefix) > 29 {
					d := c.errorf(codeLogPrefix, a.Prefix, "log prefix is %d bytes long; the kernel keeps at most 29", len(l.Prefix))
					d.Detail = "iptables refuses longer prefixes and nft truncates them. Shorten it to 29 bytes or fewer (a character outside ASCII takes several)."
					st.ok = false
				}
			}
			if a.Level != nil {
				if w, isWord := lit(a.Level, ast.Word); isWord {
					n, known := logLevels[w.Text]
					if !known {
						c.errorf(codeType, a.Level, "unknown log level %q (emerg, alert, crit, err, warn, notice, info, debug or 0-7)", w.Text)
						st.ok = false
					}
					l.Level = n
				} else {
					n, ok := c.number(a.Level, 0, 7, "a log level")
					st.ok = st.ok && ok
					l.Level = int(n)
				}
			}
			for _, f := range a.Flags {
				switch f.Name {
				case "tcp-sequence":
					l.TCPSequence = true
				case "tcp-options":
					l.TCPOptions = true
				case "ip-options":
					l.IPOptions = true
				case "all":
					l.TCPSequence, l.TCPOptions, l.IPOptions = true, true, true
				default:
					c.errorf(codeType, f, "unknown log flag %q (tcp-sequence, tcp-options, ip-options, all)", f.Name)
					st.ok = false
				}
			}
			out = append(out, l)
		case *ast.Counter:
			out = append(out, &policy.Counter{At: at})
		case *ast.MarkSet:
			v, m, ok := c.markValue(a.Value)
			if !ok {
				st.ok = false
				continue
			}
			out = append(out, &policy.SetMark{At: at, Ct: a.Ct, Value: v, Mask: m})
		case *ast.Connmark:
			cm := &policy.Connmark{At: at, Restore: a.Op.Name == "restore", Mask: math.MaxUint32}
			if a.Op.Name != "save" && a.Op.Name != "restore" {
				c.errorf(codeType, a.Op, "connmark does save, restore or set, not %q", a.Op.Name)
				st.ok = false
				continue
			}
			if a.Mask != nil {
				n, ok := c.number(a.Mask, 1, math.MaxUint32, "a mask")
				st.ok = st.ok && ok
				cm.Mask = uint32(n)
			}
			out = append(out, cm)
		case *ast.RouteAction:
			r, ok := c.routes[a.Name.Name]
			c.use("route", a.Name.Name)
			if !ok {
				c.unknown("route", a.Name, a.Name.Name, keys(c.routes))
				st.ok = false
				continue
			}
			out = append(out, &policy.SetMark{At: at, Value: r.Mark, Mask: r.Mask, Route: r})
		case *ast.NAT:
			n, ok := c.nat(a, st)
			if !ok {
				st.ok = false
				continue
			}
			n.At = at
			out = append(out, n)
		case *ast.Simple:
			switch a.Kind.Name {
			case "notrack":
				out = append(out, &policy.Notrack{At: at})
			case "trace":
				out = append(out, &policy.Trace{At: at})
			default:
				c.errorf(codeType, a.Kind, "unknown action %q", a.Kind.Name)
				st.ok = false
			}
		case *ast.HeaderSet:
			switch a.Field.Name {
			case "tos":
				n, ok := c.number(a.Value, 0, 255, "a TOS value")
				st.ok = st.ok && ok
				out = append(out, &policy.SetTOS{At: at, Value: uint8(n)})
			case "ttl":
				n, ok := c.number(a.Value, 1, 255, "a TTL")
				st.ok = st.ok && ok
				out = append(out, &policy.SetTTL{At: at, Value: uint8(n)})
			default:
				c.errorf(codeType, a.Field, "unknown header field %q (tos, ttl)", a.Field.Name)
				st.ok = false
			}
		}
	}
	return out
}

// nat reads snat/dnat/masquerade/redirect and their target.
func (c *checker) nat(a *ast.NAT, st *ruleState) (*policy.NAT, bool) {
	n := &policy.NAT{}
	switch a.Kind.Name {
	case "snat":
		n.Kind = policy.SNAT
	case "dnat":
		n.Kind = policy.DNAT
	case "masquerade":
		n.Kind = policy.Masquerade
	case "redirect":
		n.Kind = policy.Redirect
	default:
		c.errorf(codeType, a.Kind, "unknown translation %q", a.Kind.Name)
		return nil, false
	}
	for _, f := range a.Flags {
		switch f.Name {
		case "random":
			n.Random = true
		case "random-fully":
			n.RandomFully = true
		case "persistent":
			n.Persistent = true
		default:
			c.errorf(codeType, f, "unknown NAT flag %q (random, random-fully, persistent)", f.Name)
			return nil, false
		}
	}
	if a.To == nil {
		if n.Kind == policy.SNAT || n.Kind == policy.DNAT {
			c.errorf(codeType, a, "%s needs a target: %s to ADDRESS[:PORT]", a.Kind.Name, a.Kind.Name)
			return nil, false
		}
		return n, true
	}
	addrPart, portPart := a.To, ast.Value(nil)
	if b, ok := a.To.(*ast.BinOp); ok && b.Op == ":" {
		addrPart, portPart = b.Left, b.Right
	}
	if n.Kind == policy.Masquerade || n.Kind == policy.Redirect {
		addrPart, portPart = nil, a.To
	}
	if addrPart != nil {
		it, ok := c.addrItem(addrPart)
		if !ok {
			return nil, false
		}
		switch {
		case it.IsRange():
			n.AddrLo, n.AddrHi = it.Lo, it.Hi
		case it.Prefix.IsSingleIP():
			n.AddrLo, n.AddrHi = it.Prefix.Addr(), it.Prefix.Addr()
		default:
			c.typeErr(addrPart, "an address or an address range")
			return nil, false
		}
		c.restrict(st, itemsFamily([]policy.AddrItem{it}), addrPart)
	}
	if portPart != nil {
		pr, ok := c.portRange(portPart)
		if !ok {
			return nil, false
		}
		n.PortLo, n.PortHi = pr.Lo, pr.Hi
		if st.protos == nil || len(st.protos) > 1 || !st.protos[0].HasPorts() {
			if st.service == nil {
				d := c.errorf(codePortProto, portPart, "translating ports needs a port protocol")
				d.Detail = "Match tcp or udp in the rule (tcp dport 80 dnat to 10.0.0.2:8080)."
				return nil, false
			}
		}
	}
	return n, true
}
