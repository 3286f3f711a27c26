package equiv

import (
	"maps"
	"math/bits"
	"net/netip"
	"slices"
	"strings"

	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// Outcome is what a hook does with a class of packets.
type Outcome struct {
	// Verdict is the hook's final verdict: "accept", "drop", "reject",
	// "reject with tcp-reset".
	Verdict string
	// Effects are, in order, the changes made to the packet that outlive
	// the hook: NAT ("dnat to 10.0.0.1:80"), marks ("mark set 0x1").
	Effects []string
	// Guards are the conditions fwc cannot model that the outcome depends
	// on, each "if C (file:line)" or "unless C (file:line)" ("if limit
	// rate 1/1s burst 0 (host.fw:12)").
	Guards []string
	// assumed holds, for each condition of Guards by its key, whether it
	// was taken to hold: two outcomes are compared only when no condition
	// was taken both ways (no packet meets both otherwise).
	assumed map[string]bool
	// Rules are the rules responsible, in the order the packet meets them:
	// those with effects, the verdicts of earlier chains, and the rule
	// that decided; empty when a chain's policy decided (Policy).
	Rules []*policy.Rule
	// Policy is the chain whose policy decided, or nil.
	Policy *policy.Chain
}

// key identifies the outcome for comparison: neither the rules nor the
// guards count (see assumed).
func (o *Outcome) key() string {
	return o.Verdict + "\x00" + strings.Join(o.Effects, "\x01")
}

// consistent reports whether some packet can meet both outcomes' guards:
// none is assumed to hold in one and not in the other. Conditions fwc does
// not model are taken as independent of each other and of the packet's
// fields, each identified by its text.
func consistent(a, b *Outcome) bool {
	for k, v := range a.assumed {
		if w, ok := b.assumed[k]; ok && w != v {
			return false
		}
	}
	return true
}

// markVal is what the evaluation knows of a packet's mark at some point of
// its walk.
type markVal struct {
	state markState
	v     uint32 // when known
}

type markState int

const (
	markEntry   markState = iota // as the packet entered the hook: the piece's coordinate
	markKnown                    // rewritten to v
	markUnknown                  // rewritten to something that depends on what is not modelled
)

// state is what the walk carries for one piece, shared and copied on
// write.
type state struct {
	mark, ctmark markVal
	effects      []string
	guards       []string
	assumed      map[string]bool
	rules        []*policy.Rule
}

func (st *state) with(f func(*state)) *state {
	n := *st
	n.effects = slices.Clip(n.effects)
	n.guards = slices.Clip(n.guards)
	n.rules = slices.Clip(n.rules)
	n.assumed = maps.Clone(n.assumed)
	f(&n)
	return &n
}

// result is how a piece leaves a chain.
type result struct {
	end     bool   // fell off the end or returned
	verdict string // otherwise
	final   bool   // the verdict ends the hook
	by      *rule
}

type evaluator struct {
	s *sem.Space
}

// hook evaluates hm on the packets of q and calls emit with disjoint
// pieces of q and their outcomes.
func (e *evaluator) hook(hm *hookModel, q sem.Cube, emit func(sem.Cube, Outcome)) {
	e.seq(hm, 0, q, &state{}, emit)
}

// seq runs the base chains of hm from the ci-th on.
func (e *evaluator) seq(hm *hookModel, ci int, q sem.Cube, st *state, emit func(sem.Cube, Outcome)) {
	if ci == len(hm.chains) {
		o := Outcome{Verdict: "accept", Effects: st.effects, Guards: st.guards, Rules: st.rules, assumed: st.assumed}
		emit(q, o)
		return
	}
	cm := hm.chains[ci]
	if cm.ch.Table != nil && cm.ch.Table.Name == "nat" {
		// Only a connection's first packet goes through the nat chains
		// (sem.NATSees); the others pass the hook's nat chains by.
		newOnly := sem.Single(ctNew)
		if rest := q[sem.CtState].Minus(newOnly); !rest.Empty() {
			skip := q
			skip[sem.CtState] = rest
			e.seq(hm, ci+1, skip, st, emit)
		}
		in := q[sem.CtState].Intersect(newOnly)
		if in.Empty() {
			return
		}
		q[sem.CtState] = in
	}
	e.chain(cm, 0, q, st, func(q sem.Cube, st *state, res result) {
		verdict := res.verdict
		if res.end {
			verdict = cm.policy
		}
		if verdict == "accept" {
			if !res.end {
				st = st.with(func(n *state) { n.rules = append(n.rules, res.by.r) })
			}
			e.seq(hm, ci+1, q, st, emit)
			return
		}
		o := Outcome{Verdict: verdict, Effects: st.effects, Guards: st.guards, Rules: st.rules, assumed: st.assumed}
		if res.end {
			o.Policy = cm.ch
		} else {
			o.Rules = append(slices.Clip(o.Rules), res.by.r)
		}
		emit(q, o)
	})
}

// chain evaluates cm from rule position from on the packets of q.
func (e *evaluator) chain(cm *chainModel, from int, q sem.Cube, st *state, out func(sem.Cube, *state, result)) {
	qq := q
	if st.mark.state != markEntry {
		qq[sem.Mark] = e.s.Full()[sem.Mark]
	}
	if st.ctmark.state != markEntry {
		qq[sem.CtMark] = e.s.Full()[sem.CtMark]
	}
	var cands []int
	cm.idx.Query(&qq, from, len(cm.rules), func(j int) { cands = append(cands, j) })
	slices.Sort(cands)
	cands = slices.Compact(cands)
	rem := sem.Region{q}
	for _, j := range cands {
		if len(rem) == 0 {
			return
		}
		ru := cm.rules[j]
		reg, ops := e.effective(ru, st)
		if reg == nil {
			continue
		}
		var next, inside sem.Region
		for k := range rem {
			r := &rem[k]
			met := false
			for c := range reg {
				// Intersects allocates nothing: most pieces of a
				// fragmented remainder miss most rules.
				if !r.Intersects(&reg[c]) {
					continue
				}
				if x, ok := r.Intersect(&reg[c]); ok {
					inside = append(inside, x)
					met = true
				}
			}
			if !met {
				next = append(next, *r)
				continue
			}
			next = append(next, e.s.SubtractAll(*r, sem.CubePtrs(reg), nil)...)
		}
		rem = next
		for _, x := range inside {
			e.match(cm, j, ru, ops, x, st, out)
		}
	}
	for _, r := range rem {
		out(r, st, result{end: true})
	}
}

// effective returns ru's region for a piece in state st: a mark condition
// read against a rewritten mark holds for the whole piece or for none of
// it, or, when the new mark is not known, becomes an opaque condition.
func (e *evaluator) effective(ru *rule, st *state) (sem.Region, []opaque) {
	if !ru.usesMark || st.mark.state == markEntry && st.ctmark.state == markEntry {
		return ru.region, ru.ops
	}
	ops := ru.ops
	var out sem.Region
	full := e.s.Full()
	for _, c := range ru.region {
		ok := true
		for _, m := range []struct {
			d  sem.Dim
			mv markVal
		}{{sem.Mark, st.mark}, {sem.CtMark, st.ctmark}} {
			switch {
			case m.mv.state == markEntry || e.s.IsFull(&c, m.d):
			case m.mv.state == markKnown:
				if !c[m.d].Has(sem.U64(uint64(bits.Reverse32(m.mv.v)))) {
					ok = false
				}
				c[m.d] = full[m.d]
			default:
				t := m.d.String() + " as tested by rule " + ruleAt(ru.r)
				ops = append(slices.Clip(ops), opaque{key: t, text: t})
				c[m.d] = full[m.d]
			}
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, ops
}

// match handles the packets x of q that rule j's modelled conditions
// match; with opaque conditions, both answers are followed.
func (e *evaluator) match(cm *chainModel, j int, ru *rule, ops []opaque, x sem.Cube, st *state, out func(sem.Cube, *state, result)) {
	if len(ops) > 0 {
		texts := make([]string, len(ops))
		for i, o := range ops {
			texts[i] = o.key
		}
		key := strings.Join(texts, " and ")
		c := key + " (" + ruleAt(ru.r) + ")"
		if v, ok := st.assumed[key]; ok {
			// The same condition was met before: its answer is known.
			if !v {
				e.chain(cm, j+1, x, st, out)
				return
			}
		} else {
			e.chain(cm, j+1, x, st.with(func(n *state) {
				n.guards = append(n.guards, "unless "+c)
				n.assumed = setAssumed(n.assumed, key, false)
			}), out)
			st = st.with(func(n *state) {
				n.guards = append(n.guards, "if "+c)
				n.assumed = setAssumed(n.assumed, key, true)
			})
		}
	}
	switch ru.kind {
	case kVerdict:
		if ru.nat != "" {
			st = st.with(func(n *state) { n.effects = append(n.effects, ru.nat) })
		}
		if ru.verdict == "return" {
			out(x, st, result{end: true, by: ru})
			return
		}
		out(x, st, result{verdict: ru.verdict, final: ru.final, by: ru})
	case kEffect:
		st = st.with(func(n *state) {
			n.rules = append(n.rules, ru.r)
			for _, ef := range ru.effects {
				n.effects = append(n.effects, ef.text)
				apply(n, ef)
			}
		})
		e.chain(cm, j+1, x, st, out)
	case kJump:
		e.chain(ru.target, 0, x, st, func(q sem.Cube, st *state, res result) {
			if res.end {
				e.chain(cm, j+1, q, st, out)
				return
			}
			out(q, st, res)
		})
	case kGoto:
		e.chain(ru.target, 0, x, st, out)
	default:
		e.chain(cm, j+1, x, st, out)
	}
}

// apply updates what is known of the marks after an effect.
func apply(n *state, ef effect) {
	switch {
	case ef.mark != nil:
		m := &n.mark
		if ef.mark.Ct {
			m = &n.ctmark
		}
		switch {
		case ef.mark.Mask == 0xffffffff:
			*m = markVal{markKnown, ef.mark.Value}
		case m.state == markKnown:
			m.v = m.v&^ef.mark.Mask | ef.mark.Value&ef.mark.Mask
		default:
			*m = markVal{state: markUnknown}
		}
	case ef.conn != nil:
		from, to := n.mark, &n.ctmark
		if ef.conn.Restore {
			from, to = n.ctmark, &n.mark
		}
		if from.state == markKnown && ef.conn.Mask == 0xffffffff {
			*to = from
		} else {
			*to = markVal{state: markUnknown}
		}
	}
}

func setAssumed(m map[string]bool, k string, v bool) map[string]bool {
	if m == nil {
		m = map[string]bool{}
	}
	m[k] = v
	return m
}

// ctNew is the ct state coordinate of a connection's first packet.
var ctNew = func() sem.U128 {
	p := sem.Packet{Src: netip.IPv4Unspecified(), Dst: netip.IPv4Unspecified(), CtState: policy.CtNew}
	return p.Point().F[sem.CtState]
}()
