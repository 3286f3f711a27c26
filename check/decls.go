package check

import (
	"math"
	"net/netip"
	"slices"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/policy"
)

func (c *checker) checkSet(d *ast.Set) *policy.Set {
	s := &policy.Set{Name: d.Name.Name, Decl: d, Family: policy.Both, Dynamic: !d.Dynamic.IsZero()}
	fam := policy.Family(0)
	for _, t := range d.Type {
		st, ok := setTypes[t.Name]
		if !ok {
			d := c.errorf(codeType, t, "unknown set type %q", t.Name)
			if sug := suggest(t.Name, keys(setTypes)); sug != "" {
				d.Summary += "; did you mean \"" + sug + "\"?"
			}
			// A set whose type is wrong has no type at all: a known
			// part alone would judge its elements and uses by half a
			// type, and setRef keeps its uses quiet.
			s.Type = nil
			return s
		}
		s.Type = append(s.Type, st)
		switch st {
		case policy.IPv4Addr, policy.IPv4Net:
			fam |= policy.IPv4
		case policy.IPv6Addr, policy.IPv6Net:
			fam |= policy.IPv6
		}
	}
	switch fam {
	case policy.Both:
		c.errorf(codeFamily, d.Name, "set %q mixes IPv4 and IPv6 types", s.Name)
	case policy.IPv4, policy.IPv6:
		s.Family = fam
	}
	if d.Timeout != nil {
		s.Timeout, _ = c.duration(d.Timeout)
	}
	if d.Size != nil {
		n, _ := c.number(d.Size, 1, math.MaxUint32, "a set size")
		s.Size = uint32(n)
	}
	for _, e := range d.Elements {
		el, ok := c.setElem(s, e.Value)
		if !ok {
			continue
		}
		if e.Timeout != nil {
			el.Timeout, _ = c.duration(e.Timeout)
		}
		s.Elements = append(s.Elements, el)
	}
	return s
}

func (c *checker) setElem(s *policy.Set, v ast.Value) (policy.SetElem, bool) {
	if len(s.Type) == 0 {
		return policy.SetElem{}, false
	}
	parts := []ast.Value{v}
	if cc, ok := v.(*ast.Concat); ok {
		parts = cc.Parts
	}
	if len(parts) != len(s.Type) {
		c.errorf(codeType, v, "set %q holds %s; this element has %d part(s), not %d", s.Name, typeString(s.Type), len(parts), len(s.Type))
		return policy.SetElem{}, false
	}
	el := policy.SetElem{Parts: make([]policy.SetValue, len(parts))}
	for i, p := range parts {
		sv, ok := c.setValue(s, s.Type[i], p)
		if !ok {
			return policy.SetElem{}, false
		}
		el.Parts[i] = sv
	}
	return el, true
}

func (c *checker) setValue(s *policy.Set, t policy.SetType, v ast.Value) (policy.SetValue, bool) {
	wrong := func(what string) (policy.SetValue, bool) {
		c.errorf(codeType, v, "set %q holds %s, not %s like %s", s.Name, t, what, litText(v))
		return policy.SetValue{}, false
	}
	switch t {
	case policy.IPv4Addr, policy.IPv4Net, policy.IPv6Addr, policy.IPv6Net:
		if _, isLit := lit(v, ast.IPv4, ast.IPv6); !isLit {
			if _, isOp := v.(*ast.BinOp); !isOp {
				return wrong("other values")
			}
		}
		it, ok := c.addrItem(v)
		if !ok {
			return policy.SetValue{}, false
		}
		v4 := t == policy.IPv4Addr || t == policy.IPv4Net
		if it.Is4() != v4 {
			fam := "IPv6 addresses"
			if it.Is4() {
				fam = "IPv4 addresses"
			}
			return wrong(fam)
		}
		single := !it.IsRange() && it.Prefix.IsSingleIP()
		if (t == policy.IPv4Addr || t == policy.IPv6Addr) && !single {
			c.errorf(codeType, v, "set %q holds single addresses (%s), not networks like %s; declare it %s_net for networks", s.Name, t, litText(v), string(t)[:4])
			return policy.SetValue{}, false
		}
		return policy.SetValue{Addr: it}, true
	case policy.PortType:
		if _, isNum := lit(v, ast.Number); !isNum {
			return wrong("names")
		}
		n, ok := c.number(v, 0, 65535, "a port")
		return policy.SetValue{Port: uint16(n)}, ok
	case policy.IfaceT:
		i, ok := c.iface(v)
		if ok && i.Wildcard {
			return wrong("wildcards")
		}
		return policy.SetValue{Iface: i.Name}, ok
	case policy.MarkT:
		n, ok := c.number(v, 0, math.MaxUint32, "a mark")
		return policy.SetValue{Mark: uint32(n)}, ok
	}
	return policy.SetValue{}, false
}

func (c *checker) checkZone(d *ast.Zone) *policy.Zone {
	z := &policy.Zone{Name: d.Name.Name, Decl: d}
	for _, it := range d.Items {
		switch it.Key.Name {
		case "iface":
			ifs, set, _ := c.ifaces(it.Values)
			if set != nil {
				c.errorf(codeSetUse, it, "a zone lists its interfaces; it cannot use a set")
			}
			z.Ifaces = append(z.Ifaces, ifs...)
		case "net":
			items, set, _ := c.addrs(it.Values)
			if set != nil {
				c.errorf(codeSetUse, it, "a zone lists its networks; it cannot use a set")
			}
			z.Nets = append(z.Nets, items...)
		default:
			c.errorf(codeType, it.Key, "a zone holds \"iface\" and \"net\" items, not %q", it.Key.Name)
		}
	}
	return z
}

func (c *checker) checkService(d *ast.Service) *policy.Service {
	s := &policy.Service{Name: d.Name.Name, Decl: d}
	for _, v := range c.flatten(d.Values) {
		e, ok := c.serviceEntry(v)
		if !ok {
			continue
		}
		// Entries of one protocol merge, so "tcp/80, tcp/443" is one rule.
		i := slices.IndexFunc(s.Entries, func(x policy.ServiceEntry) bool { return x.Proto == e.Proto })
		switch {
		case i < 0:
			s.Entries = append(s.Entries, e)
		case len(s.Entries[i].Ports) == 0 && len(s.Entries[i].ICMP) == 0, len(e.Ports) == 0 && len(e.ICMP) == 0:
			// "tcp" alone means every port: it absorbs the other entry.
			s.Entries[i].Ports, s.Entries[i].ICMP = nil, nil
		default:
			s.Entries[i].Ports = append(s.Entries[i].Ports, e.Ports...)
			s.Entries[i].ICMP = append(s.Entries[i].ICMP, e.ICMP...)
		}
	}
	return s
}

// serviceEntry reads PROTO, PROTO/PORTS, icmp/TYPE or icmp/TYPE/CODE.
func (c *checker) serviceEntry(v ast.Value) (policy.ServiceEntry, bool) {
	b, isOp := v.(*ast.BinOp)
	if !isOp {
		p, ok := c.proto(v)
		return policy.ServiceEntry{Proto: p, Src: v}, ok
	}
	// icmp/8/0 parses as (icmp/8)/0.
	if inner, ok := b.Left.(*ast.BinOp); ok && b.Op == "/" && inner.Op == "/" {
		p, ok := c.proto(inner.Left)
		if !ok {
			return policy.ServiceEntry{}, false
		}
		if p != policy.ProtoICMP && p != policy.ProtoICMPv6 {
			c.typeErr(v, "PROTO/PORTS")
			return policy.ServiceEntry{}, false
		}
		t, ok := c.icmpType(&ast.BinOp{Range: inner.Right.Span().Through(b.Right.Span()), Left: inner.Right, Op: "/", Right: b.Right}, p == policy.ProtoICMPv6)
		return policy.ServiceEntry{Proto: p, ICMP: []policy.ICMPType{t}, Src: v}, ok
	}
	if b.Op != "/" {
		c.typeErr(v, "a protocol with ports, such as tcp/22 or udp/{53, 5353}")
		return policy.ServiceEntry{}, false
	}
	p, ok := c.proto(b.Left)
	if !ok {
		return policy.ServiceEntry{}, false
	}
	e := policy.ServiceEntry{Proto: p, Src: v}
	switch {
	case p.HasPorts():
		e.Ports, _, ok = c.ports([]ast.Value{b.Right})
	case p == policy.ProtoICMP || p == policy.ProtoICMPv6:
		for _, t := range c.flatten([]ast.Value{b.Right}) {
			it, good := c.icmpType(t, p == policy.ProtoICMPv6)
			ok = ok && good
			e.ICMP = append(e.ICMP, it)
		}
	default:
		c.errorf(codePortProto, b.Right, "protocol %s has no ports", protoName(p))
		ok = false
	}
	return e, ok
}

// icmpType reads a type name, a number, or TYPE/CODE.
func (c *checker) icmpType(v ast.Value, v6 bool) (policy.ICMPType, bool) {
	names, other, fam, otherFam := icmpTypes, icmpv6Types, "icmp", "icmpv6"
	if v6 {
		names, other, fam, otherFam = icmpv6Types, icmpTypes, "icmpv6", "icmp"
	}
	if b, ok := v.(*ast.BinOp); ok && b.Op == "/" {
		t, ok1 := c.number(b.Left, 0, 255, "an icmp type")
		code, ok2 := c.number(b.Right, 0, 255, "an icmp code")
		it := policy.ICMPType{Type: uint8(t), Code: int(code)}
		for n, x := range names {
			if x == uint8(t) {
				it.Name = n
			}
		}
		return it, ok1 && ok2
	}
	if l, ok := lit(v, ast.Word); ok {
		if t, known := names[l.Text]; known {
			return policy.ICMPType{Type: t, Code: -1, Name: l.Text}, true
		}
		if _, inOther := other[l.Text]; inOther {
			c.errorf(codeICMPFamily, v, "%q is an %s type, not an %s type", l.Text, otherFam, fam)
			return policy.ICMPType{}, false
		}
		d := c.errorf(codeType, v, "unknown %s type %q", fam, l.Text)
		if s := suggest(l.Text, keys(names)); s != "" {
			d.Summary += "; did you mean \"" + s + "\"?"
		}
		return policy.ICMPType{}, false
	}
	t, ok := c.number(v, 0, 255, "an icmp type name or number")
	it := policy.ICMPType{Type: uint8(t), Code: -1}
	for n, x := range names {
		if x == uint8(t) {
			it.Name = n
		}
	}
	return it, ok
}

func (c *checker) checkRoute(d *ast.Route) *policy.Route {
	r := &policy.Route{Name: d.Name.Name, Decl: d, Mask: math.MaxUint32}
	if d.Mark == nil {
		c.errorf(codeRoute, d.Name, "route %q has no mark", r.Name)
	} else if v, m, ok := c.markValue(d.Mark); ok {
		if v == 0 {
			c.errorf(codeRoute, d.Mark, "a route's mark must not be 0: every packet has mark 0")
		}
		r.Mark, r.Mask = v, m
	}
	if d.Table == nil {
		c.errorf(codeRoute, d.Name, "route %q has no routing table", r.Name)
	} else if n, ok := c.number(d.Table, 1, math.MaxUint32, "a routing table number"); ok {
		if n >= 253 && n <= 255 {
			c.errorf(codeRoute, d.Table, "routing table %d is reserved (253 default, 254 main, 255 local)", n)
		}
		r.Table = uint32(n)
	}
	if d.Priority != nil {
		n, _ := c.number(d.Priority, 1, 32765, "an ip rule priority")
		r.Priority = uint32(n)
	}
	if len(d.Routes) == 0 {
		c.errorf(codeRoute, d.Name, "route %q has no routes: write at least \"default via GATEWAY dev IFACE\"", r.Name)
	}
	for _, e := range d.Routes {
		var re policy.RouteEntry
		if e.Via != nil {
			if a, ok := c.addr(e.Via); ok {
				if !a.Prefix.IsSingleIP() {
					c.typeErr(e.Via, "a gateway address")
				}
				re.Via = a.Prefix.Addr()
			}
		}
		if e.Dev != nil {
			i, ok := c.iface(e.Dev)
			if ok && i.Wildcard {
				c.typeErr(e.Dev, "an interface name without wildcard")
			}
			re.Dev = i.Name
		}
		if w, ok := lit(e.Dest, ast.Word); ok && w.Text == "default" {
			re.Dest = netip.MustParsePrefix("0.0.0.0/0")
			if re.Via.Is6() {
				re.Dest = netip.MustParsePrefix("::/0")
			}
		} else if a, ok := c.addr(e.Dest); ok {
			re.Dest = a.Prefix
			if re.Via.IsValid() && re.Via.Is4() != a.Is4() {
				c.errorf(codeFamily, e.Via, "gateway %s and destination %s are of different families", re.Via, a.Prefix)
			}
		}
		if !re.Via.IsValid() && re.Dev == "" {
			c.errorf(codeRoute, e, "a route needs a gateway (via) or a device (dev)")
		}
		r.Routes = append(r.Routes, re)
	}
	return r
}
