package space

import (
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// Verdict kinds of a rule for this analysis.
type actKind int

const (
	actNone    actKind = iota // only non-terminal actions: never decides
	actVerdict                // accept, drop, reject, return, nat...
	actJump
	actGoto
)

// ruleInfo is a rule lowered into one Space.
type ruleInfo struct {
	r     *policy.Rule
	pos   int // index in its chain
	chain *policy.Chain
	// region holds every packet the rule can match; when exact is false it
	// is an over-approximation (conditions the analysis cannot model are
	// left out), and the rule never counts as deciding a packet.
	region Region
	exact  bool
	// loose is region with mark conditions left out, used after an earlier
	// rule may have rewritten the marks.
	loose    Region
	usesMark bool
	// indexed is what the chain index holds: loose, cut for a jump or goto
	// to the packets its target may act on.
	indexed   Region
	kind      actKind
	verdict   string // "accept", "drop", "reject", "return", "goto x", "dnat 10.0.0.1:80", ...
	target    *policy.Chain
	effects   bool // a non-terminal action runs (log, counter, mark...)
	setsMark  bool
	unmodeled string // what made it inexact, for messages
}

// Conflict says why a rule matches no packet of a family although it
// exists in that family: its conditions on one field allow no common value
// (saddr 10.0.0.0/8 saddr 192.168.0.0/16, iif eth0 iif != eth*).
type Conflict struct {
	// Field is the packet field ("saddr", "dport", "iif", ...).
	Field string
	// Cond is the condition after which no value of Field was left.
	Cond policy.Cond
	// Other is the rule's last condition on Field before Cond; there is
	// always one (a single condition that matches nothing, such as a
	// lookup in an empty set, is not a Conflict: a set may be filled at
	// run time).
	Other policy.Cond
}

// Contradiction returns why r can match no packet, or nil: r exists in at
// least one family and in every family it exists in, two or more of its
// conditions contradict each other. The IPv4 conflict is returned when
// there is one. A rule absent from both families (conditions of different
// families) is the front end's error, not a Contradiction.
func Contradiction(r *policy.Rule) *Conflict {
	if !sharesField(r) {
		return nil // cheap and common: no two conditions on one field
	}
	var first *Conflict
	for _, v6 := range []bool{false, true} {
		_, ok, conf := lowerRule(sem.SpaceOf(v6), r)
		switch {
		case ok || conf == nil:
			return nil // matches packets, or its emptiness is not two conditions'
		case conf == absent:
			continue
		case first == nil:
			first = conf
		}
	}
	return first
}

// sharesField reports whether two conditions of r may restrict the same
// field, the only way its conditions can contradict each other (zone rules
// add conditions of their own, so they count too).
func sharesField(r *policy.Rule) bool {
	var seen [NDim]bool
	mark := func(d Dim) bool {
		if seen[d] {
			return true
		}
		seen[d] = true
		return false
	}
	pick := func(dir policy.Dir, src, dst Dim) Dim {
		if dir == policy.Dst {
			return dst
		}
		return src
	}
	for _, cond := range r.Conds {
		var hit bool
		switch k := cond.(type) {
		case *policy.AddrCond:
			hit = mark(pick(k.Dir, SAddr, DAddr))
		case *policy.PortCond:
			hit = mark(pick(k.Dir, SPort, DPort))
		case *policy.IfaceCond:
			hit = mark(pick(k.Dir, IIf, OIf))
		case *policy.ProtoCond:
			hit = mark(Proto)
		case *policy.ICMPCond:
			hit = mark(ICMP) || mark(Proto)
		case *policy.TCPFlagsCond:
			hit = mark(TCPFlags) || mark(Proto)
		case *policy.CtStateCond:
			hit = mark(CtState)
		case *policy.CtStatusCond:
			hit = mark(CtStatus) || mark(CtState) // only a tracked packet has a status
		case *policy.MarkCond:
			hit = mark(Mark)
			if k.Ct {
				hit = mark(CtMark) || mark(CtState) // only a tracked packet has a ct mark
			}
		}
		if hit {
			return true
		}
	}
	return false
}

// absent is lowerRule's conf for a rule that does not exist in the family.
var absent = &Conflict{}

// lowerRule builds the ruleInfo of r in s; ok is false when the rule does
// not exist in this family or its conditions contradict each other, and
// then conf is absent for a rule of the other family, the conditions that
// contradict, or nil when the emptiness is not traced to two conditions.
func lowerRule(s *Space, r *policy.Rule) (ri *ruleInfo, ok bool, conf *Conflict) {
	fam := policy.IPv4
	if s.V6 {
		fam = policy.IPv6
	}
	if r.Family != 0 && r.Family&fam == 0 {
		return nil, false, absent
	}
	ri = &ruleInfo{r: r, exact: true}
	actions(ri)
	c := s.Full()
	loose := s.Full()
	var concat []Region
	var by [NDim]policy.Cond // the last condition that restricted each field so far
	var cur policy.Cond
	restrict := func(d Dim, set ivs) {
		was := c[d].Empty()
		c[d] = c[d].Intersect(set)
		if d != Mark && d != CtMark {
			loose[d] = loose[d].Intersect(set)
		}
		if !was && c[d].Empty() && conf == nil && by[d] != nil && by[d] != cur && !emptySet(cur) {
			conf = &Conflict{Field: d.String(), Cond: cur, Other: by[d]}
		}
		by[d] = cur
	}
	inexact := func(why string) {
		ri.exact = false
		if ri.unmodeled == "" {
			ri.unmodeled = why
		}
	}
	for _, cond := range r.Conds {
		cur = cond
		e := s.Lower(cond)
		ri.usesMark = ri.usesMark || e.UsesMark
		switch {
		case e.Absent:
			return nil, false, absent
		case e.Unmodeled != "":
			inexact(e.Unmodeled)
			continue
		}
		for _, x := range e.Restrict[:e.N] {
			restrict(x.Dim, x.Set)
		}
		if e.IsConcat {
			concat = append(concat, e.Concat)
		}
	}
	for d := range NDim {
		if c[d].Empty() {
			return nil, false, conf
		}
	}
	ri.region = Region{c}
	ri.loose = Region{loose}
	for _, reg := range concat {
		ri.region = ri.region.Intersect(reg)
		ri.loose = ri.loose.Intersect(reg) // marks inside concatenations stay; rare
	}
	if ri.region.Empty() {
		return nil, false, nil // a concatenation: not traced to two conditions
	}
	if !ri.usesMark {
		ri.loose = ri.region
	}
	ri.indexed = ri.loose
	return ri, true, nil
}

// emptySet reports whether c looks up a named set without elements: it
// matches nothing now, but may be filled at run time.
func emptySet(c policy.Cond) bool {
	var set *policy.Set
	switch k := c.(type) {
	case *policy.AddrCond:
		set = k.Set
	case *policy.PortCond:
		set = k.Set
	case *policy.IfaceCond:
		set = k.Set
	}
	return set != nil && len(set.Elements) == 0
}

// actions classifies what the rule does.
func actions(ri *ruleInfo) {
	for _, a := range ri.r.Actions {
		switch a := a.(type) {
		case *policy.Verdict:
			ri.kind = actVerdict
			ri.verdict = a.Kind.String()
			if a.Kind == policy.Reject && a.With != "" {
				ri.verdict += " with " + a.With
			}
		case *policy.Jump:
			ri.kind, ri.target = actJump, a.Target
			ri.verdict = "jump " + a.Target.Name
			if a.Goto {
				ri.kind = actGoto
				ri.verdict = "goto " + a.Target.Name
			}
		case *policy.NAT:
			ri.kind = actVerdict
			ri.verdict = a.String()
		case *policy.Balance:
			ri.kind = actVerdict
			ri.verdict = "balance " + a.Name
		case *policy.SetMark, *policy.Connmark:
			ri.effects, ri.setsMark = true, true
		default:
			ri.effects = true
		}
		if ri.kind != actNone {
			return
		}
	}
}
