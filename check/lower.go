package check

import (
	"slices"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// lower places every rule into its chain: first the rules written in
// tables' chains, then zone-level rules and balances in source order, then
// zone policies. It fills c.prog.Tables.
func (c *checker) lower() {
	for _, d := range c.decls {
		if t, ok := d.(*ast.Table); ok {
			pt := c.tables[t.Name.Name]
			if pt == nil {
				continue
			}
			for _, ch := range t.Chains {
				pc := pt.Chain(ch.Name.Name)
				if pc == nil || pc.Decl != ch {
					continue // a duplicate, already reported
				}
				for _, r := range ch.Rules {
					failed := c.checking()
					st := c.newState()
					c.matches(r.Matches, st)
					acts := c.actions(r.Actions, pt, st)
					rules := c.expand(st, r, acts, policy.FromChain)
					if failed() {
						c.failedIn(pt.Name, pc.Name)
						c.fail(r)
						continue
					}
					pc.Rules = append(pc.Rules, rules...)
				}
			}
		}
	}
	var policies []*ast.Policy
	for _, d := range c.decls {
		switch d := d.(type) {
		case *ast.Rule:
			c.zoneRule(d)
		case *ast.Balance:
			if c.balances[d.Name.Name] == d {
				failed := c.checking()
				if !c.balance(d) || failed() {
					c.fail(d)
					c.failedIn("nat", string(policy.Prerouting))
					c.failedIn("nat", string(policy.Output))
					c.failedIn("nat", string(policy.Postrouting))
				}
			}
		case *ast.Policy:
			policies = append(policies, d)
		case *ast.Assert:
			c.assert(d)
		}
	}
	c.policies(policies)
	for _, t := range c.tables {
		for _, ch := range t.Chains {
			ch.Incomplete = c.incompleteAll || c.incomplete[t.Name+"/"+ch.Name]
		}
	}
	for _, name := range tableOrder {
		if t := c.tables[name]; t != nil && len(t.Chains) > 0 {
			c.prog.Tables = append(c.prog.Tables, t)
		}
	}
}

// failedIn records that a rule meant for the chain of table failed to
// check and was left out.
func (c *checker) failedIn(table, chain string) {
	c.incomplete[table+"/"+chain] = true
}

// orPlaceholder returns z, or for an unknown zone (nil) a zone of that name
// with no members: it places a rule like any other zone and adds no
// condition, so that the rest of a rule naming it can still be checked.
func orPlaceholder(z *policy.Zone, id *ast.Ident) *policy.Zone {
	if z != nil {
		return z
	}
	return &policy.Zone{Name: id.Name}
}

func (c *checker) newState() *ruleState {
	return &ruleState{family: policy.Both, ok: true}
}

// baseChain returns table's base chain for hook, creating it when the
// source did not declare it.
func (c *checker) baseChain(table string, hook policy.Hook) *policy.Chain {
	t := c.table(table)
	if ch := t.Chain(string(hook)); ch != nil {
		return ch
	}
	ch := &policy.Chain{Table: t, Name: string(hook), Hook: hook, Priority: stdPriority(table, hook),
		Policy: &policy.Verdict{Kind: policy.Accept}}
	t.Chains = append(t.Chains, ch)
	return ch
}

// zoneRef resolves a zone name; self and any are returned as zones with
// those names and no members.
func (c *checker) zoneRef(id *ast.Ident) (*policy.Zone, bool) {
	if id == nil {
		return &policy.Zone{Name: "any"}, true
	}
	if id.Name == "self" || id.Name == "any" {
		return &policy.Zone{Name: id.Name}, true
	}
	z, ok := c.zones[id.Name]
	c.use("zone", id.Name)
	if !ok {
		c.unknown("zone", id, id.Name, append(keys(c.zones), "self", "any"))
	}
	return z, ok
}

// hookFor picks the chain for traffic from one zone to another.
func hookFor(p placement, from, to *policy.Zone) (string, policy.Hook) {
	local := from.Name == "self"
	switch p {
	case placeDNAT:
		if local {
			return "nat", policy.Output
		}
		return "nat", policy.Prerouting
	case placeSNAT:
		return "nat", policy.Postrouting
	case placeMangle:
		if local {
			return "mangle", policy.Output
		}
		return "mangle", policy.Prerouting
	case placeRaw:
		if local {
			return "raw", policy.Output
		}
		return "raw", policy.Prerouting
	}
	switch {
	case local:
		return "filter", policy.Output
	case to.Name == "self":
		return "filter", policy.Input
	}
	return "filter", policy.Forward
}

// zoneConds adds the conditions that select traffic from one zone to
// another at hook, restricting st's family by the zones' networks.
func (c *checker) zoneConds(st *ruleState, hook policy.Hook, from, to *policy.Zone, fromAt, toAt ast.Node) {
	add := func(z *policy.Zone, at ast.Node, dir policy.Dir) {
		if z.Name == "self" || z.Name == "any" {
			return
		}
		ifaceOK := hook == policy.Forward ||
			(dir == policy.Src && (hook == policy.Prerouting || hook == policy.Input)) ||
			(dir == policy.Dst && (hook == policy.Output || hook == policy.Postrouting))
		src := policy.At{Node: at}
		if len(z.Ifaces) > 0 && ifaceOK {
			st.conds = append(st.conds, &policy.IfaceCond{At: src, Dir: dir, Ifaces: z.Ifaces})
		} else if len(z.Ifaces) > 0 && len(z.Nets) == 0 {
			side, when := "input", "after routing, at "+string(hook)
			if dir == policy.Dst {
				side, when = "output", "before routing, at "+string(hook)
			}
			d := c.errorf(codeZoneLayer, at, "zone %q has only interfaces, and the %s interface is unknown %s", z.Name, side, when)
			d.Detail = "Give the zone its networks (net ...) so it can be matched by address there, or write the rule in a table's chain."
			st.ok = false
			return
		}
		if len(z.Nets) > 0 {
			st.conds = append(st.conds, &policy.AddrCond{At: src, Dir: dir, Items: z.Nets})
			c.restrict(st, itemsFamily(z.Nets), at)
		}
	}
	add(from, fromAt, policy.Src)
	add(to, toAt, policy.Dst)
}

func (c *checker) zoneRule(r *ast.Rule) {
	failed := c.checking()
	from, ok1 := c.zoneRef(r.From)
	to, ok2 := c.zoneRef(r.To)
	place, ok3 := c.classify(r.Actions)
	from, to = orPlaceholder(from, r.From), orPlaceholder(to, r.To)
	if !ok3 {
		// Its actions belong in different tables: it was meant for one
		// of the chains these zones lead to.
		c.fail(r)
		for _, p := range []placement{placeFilter, placeDNAT, placeSNAT, placeMangle, placeRaw} {
			t, h := hookFor(p, from, to)
			c.failedIn(t, string(h))
		}
		return
	}
	table, hook := hookFor(place, from, to)
	st := c.newState()
	c.zoneConds(st, hook, from, to, identNode(r.From), identNode(r.To))
	c.matches(r.Matches, st)
	acts := c.actions(r.Actions, c.table(table), st)
	rules := c.expand(st, r, acts, policy.FromZone)
	if !ok1 || !ok2 || failed() {
		c.failedIn(table, string(hook))
		c.fail(r)
		return
	}
	ch := c.baseChain(table, hook)
	ch.Rules = append(ch.Rules, rules...)
}

// assert checks an assert's zones and matches the way zoneRule checks a
// zone rule's, and keeps the expanded conditions (one rule per protocol
// of a service) with the filter hook they lead to, for the assert pass.
func (c *checker) assert(a *ast.Assert) {
	failed := c.checking()
	from, ok1 := c.zoneRef(&a.From)
	to, ok2 := c.zoneRef(&a.To)
	from, to = orPlaceholder(from, &a.From), orPlaceholder(to, &a.To)
	_, hook := hookFor(placeFilter, from, to)
	st := c.newState()
	c.zoneConds(st, hook, from, to, &a.From, &a.To)
	c.matches(a.Matches, st)
	rules := c.expand(st, a, nil, policy.FromZone)
	if !ok1 || !ok2 || failed() || len(rules) == 0 {
		c.fail(a)
		return
	}
	pa := &policy.Assert{Hook: hook, Rules: rules, Management: a.Management, Decl: a}
	switch a.Verdict.Name {
	case "drop":
		pa.Verdict = policy.Drop
	case "masquerade", "snat", "dnat", "redirect":
		k := map[string]policy.NATKind{"masquerade": policy.Masquerade, "snat": policy.SNAT, "dnat": policy.DNAT, "redirect": policy.Redirect}[a.Verdict.Name]
		pa.NAT = &k
	}
	c.prog.Asserts = append(c.prog.Asserts, pa)
}

func identNode(id *ast.Ident) ast.Node {
	if id == nil {
		return nil
	}
	return id
}

// expand turns one source rule into policy rules: one per protocol of its
// service, or per protocol of a protocol list with ports.
func (c *checker) expand(st *ruleState, src ast.Node, acts []policy.Action, origin policy.Origin) []*policy.Rule {
	if !st.ok {
		return nil
	}
	type variant struct {
		fam   policy.Family
		conds []policy.Cond
	}
	var vs []variant
	switch {
	case st.service != nil:
		for _, e := range st.service {
			if st.protos != nil && !slices.Contains(st.protos, e.Proto) {
				continue
			}
			fam := policy.Both
			switch e.Proto {
			case policy.ProtoICMP:
				fam = policy.IPv4
			case policy.ProtoICMPv6:
				fam = policy.IPv6
			}
			if fam&st.family == 0 {
				continue // the icmp half of a dual-stack service in a one-family rule
			}
			v := variant{fam: fam & st.family, conds: []policy.Cond{&policy.ProtoCond{At: policy.At{Node: e.Src}, Protos: []policy.Proto{e.Proto}}}}
			if len(e.Ports) > 0 {
				v.conds = append(v.conds, &policy.PortCond{At: policy.At{Node: e.Src}, Dir: policy.Dst, Ranges: e.Ports})
			}
			if len(e.ICMP) > 0 {
				v.conds = append(v.conds, &policy.ICMPCond{At: policy.At{Node: e.Src}, V6: e.Proto == policy.ProtoICMPv6, Types: e.ICMP})
			}
			vs = append(vs, v)
		}
		if len(vs) == 0 {
			d := c.errorf(codeProtoConflict, st.serviceAt, "no protocol of these services fits the rule")
			if st.protoAt != nil {
				d.Related = append(d.Related, diag.Related{Message: "the rule is restricted here", Range: st.protoAt.Span()})
			}
			return nil
		}
	case st.protos != nil && len(st.needPorts) > 0 && len(st.protos) > 1:
		for _, p := range st.protos {
			vs = append(vs, variant{fam: st.family, conds: []policy.Cond{&policy.ProtoCond{At: policy.At{Node: st.protoAt}, Protos: []policy.Proto{p}}}})
		}
	case st.protos != nil:
		vs = []variant{{fam: st.family, conds: []policy.Cond{&policy.ProtoCond{At: policy.At{Node: st.protoAt}, Protos: st.protos}}}}
	default:
		vs = []variant{{fam: st.family}}
	}
	out := make([]*policy.Rule, 0, len(vs))
	for _, v := range vs {
		conds := append(v.conds, st.conds...)
		out = append(out, &policy.Rule{Src: src, Family: v.fam, Conds: conds, Actions: acts, Origin: origin})
	}
	return out
}

// balance places a balance's rules and reports whether it checked.
func (c *checker) balance(d *ast.Balance) bool {
	bad := func(n ast.Node, msg string) { c.errorf(codeBalance, n, "%s", msg) }
	if d.Address == nil || d.Service == nil || len(d.Endpoints) == 0 {
		bad(d.Name, "a balance needs an address, a service (tcp/PORT) and endpoints")
		return false
	}
	addr, ok := c.addr(d.Address)
	if !ok {
		return false
	}
	if !addr.Prefix.IsSingleIP() {
		bad(d.Address, "a balance's address is a single address")
		return false
	}
	e, ok := c.serviceEntry(d.Service)
	if ok && (!e.Proto.HasPorts() || len(e.Ports) != 1 || e.Ports[0].Lo != e.Ports[0].Hi) {
		bad(d.Service, "a balance's service is one port protocol with one port, such as tcp/8080")
		ok = false
	}
	fam := itemsFamily([]policy.AddrItem{addr})
	act := &policy.Balance{At: policy.At{Node: d}, Name: d.Name.Name}
	for _, v := range c.flatten(d.Endpoints) {
		b, isOp := v.(*ast.BinOp)
		if !isOp || b.Op != ":" {
			bad(v, "an endpoint is written ADDRESS:PORT")
			ok = false
			continue
		}
		a, ok1 := c.addr(b.Left)
		p, ok2 := c.number(b.Right, 1, 65535, "a port")
		if !ok1 || !ok2 {
			ok = false
			continue
		}
		if !a.Prefix.IsSingleIP() || itemsFamily([]policy.AddrItem{a}) != fam {
			bad(v, "an endpoint is a single address of the same family as the balance's address")
			ok = false
			continue
		}
		act.Endpoints = append(act.Endpoints, netipAddrPort(a, uint16(p)))
	}
	if !ok {
		return false
	}
	at := policy.At{Node: d}
	match := func() []policy.Cond {
		return []policy.Cond{
			&policy.ProtoCond{At: at, Protos: []policy.Proto{e.Proto}},
			&policy.AddrCond{At: at, Dir: policy.Dst, Items: []policy.AddrItem{addr}},
			&policy.PortCond{At: at, Dir: policy.Dst, Ranges: e.Ports},
		}
	}
	for _, hook := range []policy.Hook{policy.Prerouting, policy.Output} {
		ch := c.baseChain("nat", hook)
		ch.Rules = append(ch.Rules, &policy.Rule{Src: d, Family: fam, Conds: match(), Actions: []policy.Action{act}, Origin: policy.FromBalance})
	}
	if d.Masquerade {
		ch := c.baseChain("nat", policy.Postrouting)
		for _, ep := range act.Endpoints {
			ch.Rules = append(ch.Rules, &policy.Rule{Src: d, Family: fam, Origin: policy.FromBalance,
				Conds: []policy.Cond{
					&policy.CtStatusCond{At: at, Bits: policy.StatusDNAT},
					&policy.ProtoCond{At: at, Protos: []policy.Proto{e.Proto}},
					&policy.AddrCond{At: at, Dir: policy.Dst, Items: []policy.AddrItem{{Prefix: netipPrefix(ep.Addr())}}},
					&policy.PortCond{At: at, Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: ep.Port(), Hi: ep.Port()}}},
				},
				Actions: []policy.Action{&policy.NAT{At: at, Kind: policy.Masquerade}}})
		}
	}
	return true
}

// policies lowers zone policies: each becomes a rule after the zone rules
// of its chain, except that a chain's last unconditional plain accept or
// drop becomes the chain's default policy.
func (c *checker) policies(ps []*ast.Policy) {
	type lowered struct {
		p     *ast.Policy
		ch    *policy.Chain
		rules []*policy.Rule
		plain bool // unconditional, a lone accept or drop
	}
	var all []lowered
	for _, p := range ps {
		failed := c.checking()
		from, ok1 := c.zoneRef(&p.From)
		to, ok2 := c.zoneRef(&p.To)
		from, to = orPlaceholder(from, &p.From), orPlaceholder(to, &p.To)
		// A policy that fails leaves its chain without the rule or the
		// default it meant to give it.
		_, hook := hookFor(placeFilter, from, to)
		fail := func() { c.failedIn("filter", string(hook)); c.fail(p) }
		if !ok1 || !ok2 {
			fail()
			continue
		}
		if len(p.Actions) == 0 {
			c.errorf(codePolicy, p, "a policy needs a verdict: accept, drop or reject")
			fail()
			continue
		}
		last, isVerdict := p.Actions[len(p.Actions)-1].(*ast.Verdict)
		if !isVerdict || last.Kind.Name == "return" {
			d := c.errorf(codePolicy, p.Actions[len(p.Actions)-1], "a policy ends with accept, drop or reject")
			d.Detail = "A policy decides what happens to traffic no rule decided; log may come before the verdict."
			fail()
			continue
		}
		bad := false
		for _, a := range p.Actions[:len(p.Actions)-1] {
			switch a.(type) {
			case *ast.Log, *ast.Counter:
			default:
				c.errorf(codePolicy, a, "a policy may only log or count before its verdict")
				bad = true
			}
		}
		if bad {
			fail()
			continue
		}
		ch := c.baseChain("filter", hook)
		st := c.newState()
		c.zoneConds(st, hook, from, to, &p.From, &p.To)
		acts := c.actions(p.Actions, ch.Table, st)
		rules := c.expand(st, p, acts, policy.FromPolicy)
		if failed() {
			fail()
			continue
		}
		plain := len(st.conds) == 0 && len(p.Actions) == 1 && (last.Kind.Name == "accept" || last.Kind.Name == "drop")
		all = append(all, lowered{p: p, ch: ch, rules: rules, plain: plain})
	}
	for i, l := range all {
		lastOfChain := true
		for _, m := range all[i+1:] {
			lastOfChain = lastOfChain && m.ch != l.ch
		}
		unconditional := len(l.rules) == 1 && len(l.rules[0].Conds) == 0
		if lastOfChain && unconditional {
			kind := l.rules[0].Actions[len(l.rules[0].Actions)-1].(*policy.Verdict).Kind
			if kind == policy.Reject {
				kind = policy.Drop // nothing reaches the chain policy behind a reject
			}
			if l.ch.Decl != nil && l.ch.Decl.Policy != nil && l.ch.Policy.Kind != kind {
				d := c.errorf(codePolicy, l.p, "this policy contradicts the %s chain's policy %s", l.ch.Name, l.ch.Decl.Policy.Name)
				d.Related = append(d.Related, diag.Related{Message: "chain policy set here", Range: l.ch.Decl.Policy.Span()})
				c.failedIn("filter", l.ch.Name)
				c.fail(l.p)
				continue
			}
			l.ch.Policy = &policy.Verdict{At: policy.At{Node: l.p}, Kind: kind}
			if l.plain {
				continue
			}
		}
		l.ch.Rules = append(l.ch.Rules, l.rules...)
	}
}
