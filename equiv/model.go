package equiv

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// kind is what a rule does, for the evaluation.
type kind int

const (
	kNone    kind = iota // only actions that change no packet's fate (log, counter): skipped
	kEffect              // a non-terminal action that changes the packet or its fate later (mark, notrack)
	kVerdict             // accept, drop, reject, return, nat, balance
	kJump
	kGoto
)

// opaque is a condition sem does not model (a rate limit, time, a dynamic
// set, a mark after an unknown rewrite): the evaluation cannot tell whether
// it holds, so it follows both answers and records which it took.
type opaque struct {
	key  string // equal for conditions that hold for the same packets
	text string // for a reader
}

// rule is one policy rule lowered into one family.
type rule struct {
	r     *policy.Rule
	chain *policy.Chain
	// region holds the packets the modelled conditions allow (in the
	// coordinates of the packet as it entered the hook; mark conditions
	// included).
	region sem.Region
	ops    []opaque
	// usesMark: a condition reads the packet or connection mark; when a
	// piece's mark has been rewritten the region's mark dimensions are
	// read against the new value (see eval).
	usesMark bool
	kind     kind
	verdict  string      // for kVerdict: "accept", "drop", "dnat to 10.0.0.1", ...
	final    bool        // the verdict ends the hook for the packet (drop, reject)
	nat      string      // for a NAT or balance verdict: its effect, recorded in the outcome
	effects  []effect    // for kEffect
	target   *chainModel // for kJump and kGoto
	key      uint64      // identity of what the rule does to which packets (see ruleKey)
}

// effect is one non-terminal action that matters to a packet's fate.
type effect struct {
	text string
	mark *policy.SetMark  // mark or ct mark set
	conn *policy.Connmark // mark copied between packet and connection
}

// chainModel is one chain lowered into one family.
type chainModel struct {
	ch     *policy.Chain
	rules  []*rule // nil where the rule does not exist in the family
	idx    *space.Index
	policy string // "accept", "drop", or "return" for a user chain
	key    uint64 // identity of the chain's content, independent of its name
}

// hookModel is what one family's packets meet on one hook: the base chains
// in the order the kernel runs them.
type hookModel struct {
	hook   policy.Hook
	v6     bool
	s      *sem.Space
	chains []*chainModel
	domain sem.Cube // the packets that can exist on the hook
}

// Hooks in kernel order.
var hooks = []policy.Hook{policy.Prerouting, policy.Input, policy.Forward, policy.Output, policy.Postrouting}

type builder struct {
	s      *sem.Space
	v6     bool
	chains map[*policy.Chain]*chainModel
	seed   maphash.Seed
}

// models lowers p into one hookModel per family and hook that has chains.
func models(p *policy.Program, seed maphash.Seed) map[hookID]*hookModel {
	out := map[hookID]*hookModel{}
	for _, v6 := range []bool{false, true} {
		b := &builder{s: sem.SpaceOf(v6), v6: v6, chains: map[*policy.Chain]*chainModel{}, seed: seed}
		for _, h := range hooks {
			var base []*policy.Chain
			for _, t := range p.Tables {
				for _, c := range t.Chains {
					if c.Hook == h {
						base = append(base, c)
					}
				}
			}
			// Tables come in a fixed order (raw, mangle, nat, filter,
			// security); chains of equal priority run in that order.
			slices.SortStableFunc(base, func(a, b *policy.Chain) int { return a.Priority - b.Priority })
			hm := &hookModel{hook: h, v6: v6, s: b.s, domain: domain(b.s, h)}
			for _, c := range base {
				hm.chains = append(hm.chains, b.chain(c, map[*policy.Chain]bool{}))
			}
			out[hookID{v6, h}] = hm
		}
	}
	return out
}

// hookID names a family's hook.
type hookID struct {
	v6   bool
	hook policy.Hook
}

// domain is the cube of the packets that can meet hook h: a packet
// received has an input interface and, before routing, no output one; a
// packet the host sends has no input interface. Differences outside it
// concern no real packet.
func domain(s *sem.Space, h policy.Hook) sem.Cube {
	c := s.Full()
	none := sem.Single(sem.U128{})
	some := c[sem.IIf].Minus(none)
	switch h {
	case policy.Prerouting, policy.Input:
		c[sem.IIf], c[sem.OIf] = some, none
	case policy.Forward:
		c[sem.IIf], c[sem.OIf] = some, some
	case policy.Output:
		c[sem.IIf], c[sem.OIf] = none, some
	case policy.Postrouting:
		c[sem.OIf] = some
	}
	return c
}

func (b *builder) chain(c *policy.Chain, onStack map[*policy.Chain]bool) *chainModel {
	if cm := b.chains[c]; cm != nil {
		return cm
	}
	cm := &chainModel{ch: c, rules: make([]*rule, len(c.Rules)), policy: "return"}
	b.chains[c] = cm
	if c.Policy != nil {
		cm.policy = c.Policy.Kind.String()
	}
	onStack[c] = true
	defer delete(onStack, c)
	var h maphash.Hash
	h.SetSeed(b.seed)
	h.WriteString(cm.policy)
	regions := make([]sem.Region, len(c.Rules))
	decides := make([]bool, len(c.Rules))
	for i, r := range c.Rules {
		ru := b.rule(r, c, onStack)
		if ru == nil || ru.kind == kNone {
			continue
		}
		cm.rules[i] = ru
		regions[i] = ru.region
		decides[i] = ru.kind == kVerdict && len(ru.ops) == 0 && !ru.usesMark
		var kb [8]byte
		binary.LittleEndian.PutUint64(kb[:], ru.key)
		h.Write(kb[:])
	}
	cm.key = h.Sum64()
	cm.idx = space.NewIndex(b.s, regions, decides)
	return cm
}

// rule lowers r, or returns nil when it does not exist in the family or
// matches no packet of it.
func (b *builder) rule(r *policy.Rule, c *policy.Chain, onStack map[*policy.Chain]bool) *rule {
	fam := policy.IPv4
	if b.v6 {
		fam = policy.IPv6
	}
	if r.Family != 0 && r.Family&fam == 0 {
		return nil
	}
	ru := &rule{r: r, chain: c}
	cube := b.s.Full()
	var concat []sem.Region
	for _, cond := range r.Conds {
		e := b.s.Lower(cond)
		ru.usesMark = ru.usesMark || e.UsesMark
		switch {
		case e.Absent:
			return nil
		case e.Unmodeled != "":
			ru.ops = append(ru.ops, opaqueOf(cond))
			continue
		}
		for _, x := range e.Restrict[:e.N] {
			cube[x.Dim] = cube[x.Dim].Intersect(x.Set)
			if cube[x.Dim].Empty() {
				return nil
			}
		}
		if e.IsConcat {
			concat = append(concat, e.Concat)
		}
	}
	reg := sem.Region{cube}
	for _, x := range concat {
		reg = reg.Intersect(x)
	}
	if reg.Empty() {
		return nil
	}
	ru.region = reg
	for _, a := range r.Actions {
		switch a := a.(type) {
		case *policy.Verdict:
			ru.kind, ru.verdict = kVerdict, a.Kind.String()
			if a.Kind == policy.Reject && a.With != "" {
				ru.verdict += " with " + a.With
			}
			ru.final = a.Kind == policy.Drop || a.Kind == policy.Reject
		case *policy.Jump:
			ru.kind = kJump
			if a.Goto {
				ru.kind = kGoto
			}
			if onStack[a.Target] {
				// A loop the checker lets through cannot be evaluated;
				// the rule is then taken as opaque: both answers.
				ru.ops = append(ru.ops, opaque{key: "loop " + a.Target.Name, text: "jump loop to " + a.Target.Name})
				ru.kind = kNone
				break
			}
			ru.target = b.chain(a.Target, onStack)
		case *policy.NAT:
			ru.kind, ru.verdict, ru.nat = kVerdict, "accept", a.String()
		case *policy.Balance:
			eps := make([]string, len(a.Endpoints))
			for i, e := range a.Endpoints {
				eps[i] = e.String()
			}
			ru.kind, ru.verdict, ru.nat = kVerdict, "accept", "dnat to one of "+strings.Join(eps, ", ")
		case *policy.SetMark:
			what := "mark"
			if a.Ct {
				what = "ct mark"
			}
			t := fmt.Sprintf("%s set 0x%x", what, a.Value)
			if a.Mask != 0xffffffff {
				t += fmt.Sprintf("/0x%x", a.Mask)
			}
			ru.effects = append(ru.effects, effect{text: t, mark: a})
		case *policy.Connmark:
			t := "ct mark save"
			if a.Restore {
				t = "ct mark restore"
			}
			if a.Mask != 0xffffffff {
				t += fmt.Sprintf(" mask 0x%x", a.Mask)
			}
			ru.effects = append(ru.effects, effect{text: t, conn: a})
		case *policy.Notrack:
			ru.effects = append(ru.effects, effect{text: "notrack"})
		case *policy.SetTOS:
			ru.effects = append(ru.effects, effect{text: fmt.Sprintf("tos set 0x%x", a.Value)})
		case *policy.SetTTL:
			ru.effects = append(ru.effects, effect{text: fmt.Sprintf("ttl set %d", a.Value)})
		}
		// Log, counter and trace change no packet's fate: a rule of only
		// those is skipped.
		if a.Terminal() {
			break
		}
	}
	if ru.kind == kNone && len(ru.effects) > 0 {
		ru.kind = kEffect
	}
	ru.key = b.ruleKey(ru)
	return ru
}

// ruleKey identifies what the rule does to which packets, whatever its
// source position and the names of the chains it calls, so that two
// policies' rule lists can be aligned (see align).
func (b *builder) ruleKey(ru *rule) uint64 {
	var h maphash.Hash
	h.SetSeed(b.seed)
	var buf [8]byte
	u := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	for k := range ru.region {
		for d := range sem.NDim {
			for _, v := range ru.region[k][d] {
				u(v.Lo.Hi)
				u(v.Lo.Lo)
				u(v.Hi.Hi)
				u(v.Hi.Lo)
			}
			h.WriteByte(0xff)
		}
		h.WriteByte(0xfe)
	}
	for _, o := range ru.ops {
		h.WriteString(o.key)
		h.WriteByte(0)
	}
	u(uint64(ru.kind))
	h.WriteString(ru.verdict)
	h.WriteByte(0)
	h.WriteString(ru.nat)
	h.WriteByte(0)
	for _, e := range ru.effects {
		h.WriteString(e.text)
		h.WriteByte(0)
	}
	if ru.target != nil {
		u(ru.target.key)
	}
	return h.Sum64()
}

// opaqueOf names a condition sem does not model. Two conditions with the
// same key hold for the same packets (the same limit, the same time
// window); the key says nothing about how they relate otherwise.
func opaqueOf(c policy.Cond) opaque {
	var t string
	switch k := c.(type) {
	case *policy.LimitCond:
		t = fmt.Sprintf("limit rate %s%d/%s burst %d", over(k.Over), k.Rate.Count, k.Rate.Unit, burst(k.Burst))
	case *policy.MeterCond:
		t = fmt.Sprintf("meter %s per %v mask %d %s%d/%s burst %d", k.Name, k.Per, k.MaskLen, over(k.Over), k.Rate.Count, k.Rate.Unit, burst(k.Burst))
	case *policy.ConnlimitCond:
		t = fmt.Sprintf("connlimit %s%d mask %d", over(k.Over), k.Count, k.MaskLen)
	case *policy.TimeCond:
		t = "time " + timeText(k)
	case *policy.ProbCond:
		t = fmt.Sprintf("probability %g", k.P)
	case *policy.StringCond:
		t = fmt.Sprintf("string %s%q algo %s", neg(k.Neg), k.Text, k.Algo)
	case *policy.FieldCond:
		var vals []string
		for _, v := range k.Values {
			vals = append(vals, fmt.Sprintf("%d-%d", v.Lo, v.Hi))
		}
		vals = append(vals, k.Strings...)
		t = fmt.Sprintf("%s %s%s", k.Key(), neg(k.Neg), strings.Join(vals, ","))
	default:
		t = setText(c)
	}
	return opaque{key: t, text: t}
}

// burst is a token bucket's burst: 0 stands for the backends' default, 5
// (policy.LimitCond), so "limit 5/second" and "limit 5/second burst 5" are
// the same condition.
func burst(b uint32) uint32 {
	if b == 0 {
		return 5
	}
	return b
}

func timeText(k *policy.TimeCond) string {
	var parts []string
	if k.Neg {
		parts = append(parts, "!=")
	}
	if k.HasHour {
		parts = append(parts, fmt.Sprintf("hour %v-%v", k.HourFrom, k.HourTo))
	}
	if k.Days != 0 {
		parts = append(parts, fmt.Sprintf("days 0x%x", k.Days))
	}
	if k.HasDate {
		parts = append(parts, fmt.Sprintf("date %s-%s", k.DateFrom.Format("2006-01-02T15:04"), k.DateTo.Format("2006-01-02T15:04")))
	}
	return strings.Join(parts, " ")
}

// setText names a lookup in a set whose elements can change at run time.
func setText(c policy.Cond) string {
	var set *policy.Set
	var what string
	negd := false
	switch k := c.(type) {
	case *policy.AddrCond:
		set, what, negd = k.Set, "saddr", k.Neg
		if k.Dir == policy.Dst {
			what = "daddr"
		}
	case *policy.PortCond:
		set, what, negd = k.Set, "sport", k.Neg
		if k.Dir == policy.Dst {
			what = "dport"
		}
	case *policy.IfaceCond:
		set, what, negd = k.Set, "iif", k.Neg
		if k.Dir == policy.Dst {
			what = "oif"
		}
	case *policy.MarkCond:
		set, what, negd = k.Set, "mark", k.Neg
		if k.Ct {
			what = "ct mark"
		}
	case *policy.ConcatCond:
		set, what, negd = k.Set, "concatenation", k.Neg
	}
	if set == nil {
		return fmt.Sprintf("%T", c)
	}
	return fmt.Sprintf("%s %s@%s", what, neg(negd), set.Name)
}

func over(o bool) string {
	if o {
		return "over "
	}
	return ""
}

func neg(n bool) string {
	if n {
		return "!= "
	}
	return ""
}
