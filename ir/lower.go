package ir

import (
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"slices"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

func init() {
	diag.Register(diag.Doc{
		Code:     "FW2000",
		Title:    "Policy cannot be lowered",
		Severity: diag.Error,
		Doc: `The checked policy holds something the lowering to netfilter terms
cannot place: a jump to a chain of another table, or a reject type that has
no netfilter equivalent. The checker normally reports these first; seeing
this code means a check is missing, so please report it along with the
policy.`,
	})
}

// Lower turns a checked program into a Ruleset, splitting rules per family.
// It never panics on a malformed program: what it cannot place is reported
// as FW2000 and left out.
//
// Rule positions name files relative to the directory of the program's
// root file (its first file), so the comments the backends make of them
// do not depend on the directory fwc ran in or how the path was typed: a
// policy applied as /etc/fwc/host.fw and as host.fw loads the same rules,
// and a plan compares equal. Diagnostic ranges keep the name as loaded.
func Lower(p *policy.Program) (*Ruleset, diag.Diagnostics) {
	l := &lowerer{
		rs:       &Ruleset{},
		sets:     map[*policy.Set]*Set{},
		chains:   map[*policy.Chain]*Chain{},
		meters:   map[meterKey]*Set{},
		reported: map[string]bool{},
	}
	if p == nil {
		return l.rs, nil
	}
	if len(p.Files) > 0 && p.Files[0] != nil && p.Files[0].Filename != "" {
		l.base = filepath.Dir(p.Files[0].Filename)
		l.names = map[string]string{}
	}
	for _, s := range p.Sets {
		l.set(s)
	}
	for _, t := range p.Tables {
		it := &Table{Name: t.Name}
		for _, c := range t.Chains {
			ic := &Chain{Table: it, Name: c.Name, Hook: c.Hook, Priority: c.Priority, Policy: policy.Accept}
			if c.IsBase() {
				ic.Type = chainType(t.Name, c.Hook)
				if c.Policy != nil {
					ic.Policy = c.Policy.Kind
				}
			}
			l.chains[c] = ic
			it.Chains = append(it.Chains, ic)
		}
		l.rs.Tables = append(l.rs.Tables, it)
	}
	for _, t := range p.Tables {
		for _, c := range t.Chains {
			ic := l.chains[c]
			for _, r := range c.Rules {
				ic.Rules = append(ic.Rules, l.rule(ic, r)...)
			}
		}
	}
	l.rs.Sets = append(l.rs.Sets, l.dynamic...)
	l.rs.Routing = WantRouting(p.Routes)
	return l.rs, l.diags
}

func chainType(table string, hook policy.Hook) ChainType {
	switch {
	case table == "nat":
		return TypeNAT
	case table == "mangle" && hook == policy.Output:
		return TypeRoute
	}
	return TypeFilter
}

type meterKey struct {
	name string
	fam  Family
}

type lowerer struct {
	rs        *Ruleset
	sets      map[*policy.Set]*Set
	chains    map[*policy.Chain]*Chain
	meters    map[meterKey]*Set
	dynamic   []*Set
	connlimit int
	diags     diag.Diagnostics
	cur       ast.Node // source of the rule being lowered
	reported  map[string]bool
	// base is the root file's directory; names caches commentName.
	base  string
	names map[string]string
}

// commentName returns file relative to l.base, in slash form, or file
// itself when it cannot be made so.
func (l *lowerer) commentName(file string) string {
	if l.base == "" {
		return file
	}
	if n, ok := l.names[file]; ok {
		return n
	}
	n := file
	if rel, err := filepath.Rel(l.base, file); err == nil {
		n = filepath.ToSlash(rel)
	}
	l.names[file] = n
	return n
}

func (l *lowerer) set(s *policy.Set) *Set {
	if s == nil {
		return nil
	}
	if is, ok := l.sets[s]; ok {
		return is
	}
	fam := Family(s.Family)
	if fam == 0 {
		fam = Both
	}
	is := &Set{Name: s.Name, Type: s.Type, Family: fam, Interval: s.IsInterval(),
		Timeout: s.Timeout, Size: s.Size, Elements: s.Elements, Keep: s.Dynamic}
	l.sets[s] = is
	l.rs.Sets = append(l.rs.Sets, is)
	return is
}

// errorf reports at n, or at the rule being lowered when n is nil, once
// even though a rule is lowered per family.
func (l *lowerer) errorf(n ast.Node, format string, args ...any) {
	if n == nil {
		n = l.cur
	}
	var r diag.Range
	if n != nil {
		r = n.Span()
	}
	msg := fmt.Sprintf(format, args...)
	k := r.String() + "\x00" + msg
	if l.reported[k] {
		return
	}
	l.reported[k] = true
	l.diags.Errorf("FW2000", r, "%s", msg)
}

// rule lowers r for each family it applies to, into one Both rule when
// nothing in it depends on the family.
func (l *lowerer) rule(c *Chain, r *policy.Rule) []*Rule {
	fams := Family(r.Family)
	if fams == 0 {
		fams = Both
	}
	l.cur = r.Src
	var pos []Pos
	if r.Src != nil {
		sp := r.Src.Span()
		pos = []Pos{{File: l.commentName(sp.Filename), Line: sp.Start.Line, Range: sp}}
	}
	var out []*Rule
	specific := false
	for _, f := range Families {
		if fams&f == 0 {
			continue
		}
		ir := &Rule{Family: f, Pos: pos, Matches: make([]policy.Cond, 0, len(r.Conds))}
		ok := true
		for _, cond := range r.Conds {
			m, holds, spec := l.cond(cond, f)
			specific = specific || spec
			if !holds {
				ok = false
			} else if m != nil {
				ir.Matches = append(ir.Matches, m)
			}
		}
		for _, act := range r.Actions {
			a, holds, spec := l.action(c, act, f)
			specific = specific || spec
			if !holds {
				ok = false
			} else if a != nil {
				ir.Actions = append(ir.Actions, a)
			}
		}
		if len(ir.Matches) == 0 {
			ir.Matches = nil
		}
		if ok {
			ir.Matches, ok = intersectAddrs(ir.Matches)
		}
		if ok {
			out = append(out, ir)
		}
	}
	if fams == Both && !specific && len(out) == 2 {
		out[0].Family = Both
		out = out[:1]
	}
	return out
}

func addrFamily(it policy.AddrItem) Family {
	if it.Is4() {
		return IPv4
	}
	return IPv6
}

// cond lowers one condition for family f. holds is false when the
// condition can never hold for f (the rule is not emitted for f); m is nil
// when it always holds for f. specific reports that the result differs
// between families. A condition nothing here names does not depend on the
// family and is the IR's match as it is; a set it names is declared by
// Lower from p.Sets, where the checker puts every set a rule can name.
func (l *lowerer) cond(c policy.Cond, f Family) (m policy.Cond, holds, specific bool) {
	switch c := c.(type) {
	case *policy.AddrCond:
		if c.Set != nil {
			s := l.set(c.Set)
			if s.Family&f == 0 {
				return nil, c.Neg, true
			}
			return c, true, s.Family != Both
		}
		var items []policy.AddrItem
		for _, it := range c.Items {
			if addrFamily(it) == f {
				items = append(items, it)
			}
		}
		if len(items) == 0 {
			return nil, c.Neg, true
		}
		// Always a copy: intersectAddrs and the iptables backend's
		// generated ipsets keep state per address match of a lowered rule.
		nc := *c
		nc.Items = items
		return &nc, true, true
	case *policy.ProtoCond:
		var ps []policy.Proto
		for _, p := range c.Protos {
			if (p == policy.ProtoICMP && f == IPv6) || (p == policy.ProtoICMPv6 && f == IPv4) {
				continue
			}
			ps = append(ps, p)
		}
		if len(ps) == 0 {
			return nil, c.Neg, true
		}
		if len(ps) == len(c.Protos) {
			return c, true, false
		}
		nc := *c
		nc.Protos = ps
		return &nc, true, true
	case *policy.ICMPCond:
		want := IPv4
		if c.V6 {
			want = IPv6
		}
		return c, f == want, true
	case *policy.MeterCond:
		return &Meter{MeterCond: *c, Set: l.meterSet(c, f)}, true, true
	case *policy.ConnlimitCond:
		return &Connlimit{ConnlimitCond: *c, Set: l.connlimitSet(f)}, true, true
	case *policy.FieldCond:
		// A field some families hold elsewhere (dscp) needs a rule per family.
		return c, true, c.Field.PerFamily
	case *policy.ConcatCond:
		s := l.set(c.Set)
		if s == nil {
			l.errorf(c.Node, "lookup without a set")
			return nil, false, false
		}
		if s.Family&f == 0 {
			return nil, c.Neg, true
		}
		return c, true, s.Family != Both
	case nil:
		l.errorf(nil, "a nil condition")
		return nil, false, false
	}
	return c, true, false
}

func addrType(f Family) policy.SetType {
	if f == IPv4 {
		return policy.IPv4Addr
	}
	return policy.IPv6Addr
}

func (l *lowerer) meterSet(c *policy.MeterCond, f Family) *Set {
	k := meterKey{c.Name, f}
	if s, ok := l.meters[k]; ok {
		return s
	}
	name := "meter_" + c.Name
	if f == IPv6 {
		name = "meter6_" + c.Name
	}
	// An idle bucket refills completely within burst/rate; forgetting it
	// after that long (and at least one rate unit) changes nothing.
	burst := max(float64(c.Burst), 1)
	refill := time.Duration(math.Ceil(burst/float64(max(c.Rate.Count, 1)))) * c.Rate.Unit
	s := &Set{Name: name, Type: []policy.SetType{addrType(f)}, Family: f, Dynamic: true,
		Timeout: max(refill, c.Rate.Unit, time.Second)}
	l.meters[k] = s
	l.dynamic = append(l.dynamic, s)
	return s
}

func (l *lowerer) connlimitSet(f Family) *Set {
	l.connlimit++
	name := "connlimit_" + itoa(l.connlimit)
	s := &Set{Name: name, Type: []policy.SetType{addrType(f)}, Family: f, Dynamic: true}
	l.dynamic = append(l.dynamic, s)
	return s
}

func itoa(n int) string {
	return string(appendInt(nil, n))
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// action lowers one action for family f, as cond does conditions: an
// action nothing here names is the IR's action as it is.
func (l *lowerer) action(c *Chain, a policy.Action, f Family) (act policy.Action, holds, specific bool) {
	switch a := a.(type) {
	case *policy.Verdict:
		k, ok := ParseReject(a.With)
		if !ok {
			l.errorf(a.Node, "unknown reject type %q", a.With)
		}
		return a, true, k.FamilySpecific()
	case *policy.Jump:
		t := l.chains[a.Target]
		if t == nil || t.Table != c.Table {
			l.errorf(a.Node, "jump to a chain outside table %s", c.Table.Name)
			return nil, false, false
		}
		return &Jump{Goto: a.Goto, Target: t}, true, false
	case *policy.NAT:
		n := *a
		if n.AddrLo.IsValid() && !n.AddrHi.IsValid() {
			n.AddrHi = n.AddrLo
		}
		if n.PortLo != 0 && n.PortHi == 0 {
			n.PortHi = n.PortLo
		}
		holds := true
		if n.AddrLo.IsValid() {
			holds = (n.AddrLo.Is4() && f == IPv4) || (!n.AddrLo.Is4() && f == IPv6)
		}
		return &n, holds, a.Kind == policy.SNAT || a.Kind == policy.DNAT
	case *policy.Balance:
		var eps []netip.AddrPort
		for _, e := range a.Endpoints {
			if e.Addr().Unmap().Is4() == (f == IPv4) {
				eps = append(eps, e)
			}
		}
		b := *a
		b.Endpoints = eps
		return &b, len(eps) > 0, true
	case *policy.SetTOS, *policy.SetTTL:
		// The same byte, in a header field of each family's own.
		return a, true, true
	case nil:
		l.errorf(nil, "a nil action")
		return nil, false, false
	}
	return a, true, false
}

// Clone returns a copy of rs whose chains and rule slices may be changed
// without touching rs; matches, actions and sets are shared.
func (rs *Ruleset) Clone() *Ruleset {
	// Routing is values only (slices of structs): sharing it is safe.
	out := &Ruleset{Sets: slices.Clone(rs.Sets), Routing: rs.Routing}
	m := map[*Chain]*Chain{}
	for _, t := range rs.Tables {
		nt := &Table{Name: t.Name}
		for _, c := range t.Chains {
			nc := *c
			nc.Table = nt
			nc.Rules = slices.Clone(c.Rules)
			m[c] = &nc
			nt.Chains = append(nt.Chains, &nc)
		}
		out.Tables = append(out.Tables, nt)
	}
	for _, t := range out.Tables {
		for _, c := range t.Chains {
			for i, r := range c.Rules {
				if !slices.ContainsFunc(r.Actions, func(a policy.Action) bool { _, ok := a.(*Jump); return ok }) {
					continue
				}
				nr := *r
				nr.Actions = slices.Clone(r.Actions)
				for j, a := range nr.Actions {
					if jp, ok := a.(*Jump); ok {
						nr.Actions[j] = &Jump{Goto: jp.Goto, Target: m[jp.Target]}
					}
				}
				c.Rules[i] = &nr
			}
		}
	}
	return out
}

// intersectAddrs folds the positive inline address matches of each
// direction into one, holding the addresses in all of them: a zone's
// networks and the rule's own saddr, say. Neither backend needs two
// matches on one field, and iptables refuses a second -s. ok is false when
// the intersection is empty: the rule can never match.
func intersectAddrs(ms []policy.Cond) (out []policy.Cond, ok bool) {
	// Most rules have at most one address match per direction: nothing
	// to intersect.
	var n [2]int
	for _, m := range ms {
		if a, isAddr := m.(*policy.AddrCond); isAddr && !a.Neg && a.Set == nil {
			if a.Dir == policy.Src {
				n[0]++
			} else {
				n[1]++
			}
		}
	}
	if n[0] < 2 && n[1] < 2 {
		return ms, true
	}
	first := map[policy.Dir]*policy.AddrCond{}
	for _, m := range ms {
		a, isAddr := m.(*policy.AddrCond)
		if !isAddr || a.Neg || a.Set != nil {
			out = append(out, m)
			continue
		}
		f := first[a.Dir]
		if f == nil {
			na := *a
			first[a.Dir] = &na
			out = append(out, &na)
			continue
		}
		f.Items = intersectItems(f.Items, a.Items)
		if len(f.Items) == 0 {
			return ms, false
		}
	}
	return out, true
}

// intersectItems returns the addresses in both a and b, keeping an item's
// own form (prefix or range) when it lies wholly inside the other list's
// item.
func intersectItems(a, b []policy.AddrItem) []policy.AddrItem {
	var out []policy.AddrItem
	for _, x := range a {
		xlo, xhi := Bounds(x)
		for _, y := range b {
			ylo, yhi := Bounds(y)
			if xlo.BitLen() != ylo.BitLen() {
				continue
			}
			lo, hi := xlo, xhi
			if ylo.Compare(lo) > 0 {
				lo = ylo
			}
			if yhi.Compare(hi) < 0 {
				hi = yhi
			}
			switch {
			case lo.Compare(hi) > 0:
				continue
			case lo == xlo && hi == xhi:
				out = append(out, x)
			case lo == ylo && hi == yhi:
				out = append(out, y)
			default:
				out = append(out, policy.AddrItem{Lo: lo, Hi: hi})
			}
		}
	}
	return out
}
