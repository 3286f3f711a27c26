package space

import (
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// This file is the symbolic walk of a set of packets through a whole
// ruleset: what the kernel does to every packet of a region, on one path
// across the host. Analyze asks of each rule which earlier rules decide its
// packets; Flow asks of a region which verdict each of its packets gets,
// hook after hook, table after table, as package sim does for one packet.
// The assert pass and apply's lock-out proof read it.
//
// The walk carries flows: cubes of packets in the coordinates the rules
// see, each with what decided it. A rule splits a flow into the part its
// region holds (which runs its actions) and the rest (which goes on). Marks
// set by a rule, connmark save and restore and notrack change the cube's
// mark and ct dimensions; jumps, gotos and returns are followed. What the
// walk cannot follow exactly makes the flow "maybe" (with the reason): a
// condition sem does not model (the rule may or may not match: both
// parts go on), a mark rewrite of a mark that is not known exactly, a ct
// condition before connection tracking, a nat rewrite of the destination
// (the walk keeps the original coordinates), the limits on the walk.

// Net is a ruleset as Flow walks it: its base chains, in any order (Flow
// orders them by hook and priority; chains of equal priority keep this
// order, which is the kernel's registration order for fwc's tables).
// NetFromProgram builds it from a checked policy; apply builds it from the
// lowered IR, so that both walk what they have.
type Net struct {
	Base []*NetChain
}

// NetChain is one chain. Drop is the base chain's policy; a user chain
// has none.
type NetChain struct {
	Table, Name string
	Hook        policy.Hook // "" for a user chain
	Priority    int
	NAT         bool // a nat chain: it sees only a connection's first packet
	Drop        bool
	Rules       []*NetRule
}

// NetRule is one rule: Rule's conditions and family, and its actions as
// Steps (jumps resolved to their chain).
type NetRule struct {
	Rule  *policy.Rule
	Steps []NetStep
	// Pos is where the rule comes from, "file:line", for messages.
	Pos string
}

// NetStep is one action; Target is set for a jump or goto.
type NetStep struct {
	Action policy.Action
	Target *NetChain
	Goto   bool
}

// NetFromProgram returns the chains of p as Flow walks them. Rule
// positions are relative to the root file's directory, as in the rule
// comments of the emitted rulesets.
func NetFromProgram(p *policy.Program) *Net {
	base := ""
	if len(p.Files) > 0 && p.Files[0] != nil {
		base = filepath.Dir(p.Files[0].Range.Filename)
	}
	chains := map[*policy.Chain]*NetChain{}
	var conv func(c *policy.Chain) *NetChain
	conv = func(c *policy.Chain) *NetChain {
		if nc := chains[c]; nc != nil {
			return nc
		}
		nc := &NetChain{Table: c.Table.Name, Name: c.Name, Hook: c.Hook, Priority: c.Priority,
			NAT:  c.Table.Name == "nat" && c.IsBase(),
			Drop: c.Policy != nil && c.Policy.Kind == policy.Drop}
		chains[c] = nc
		for _, r := range c.Rules {
			nr := &NetRule{Rule: r, Pos: rulePos(base, r)}
			for _, a := range r.Actions {
				st := NetStep{Action: a}
				if j, ok := a.(*policy.Jump); ok {
					st.Target, st.Goto = conv(j.Target), j.Goto
				}
				nr.Steps = append(nr.Steps, st)
			}
			nc.Rules = append(nc.Rules, nr)
		}
		return nc
	}
	n := &Net{}
	for _, t := range p.Tables {
		for _, c := range t.Chains {
			if c.IsBase() {
				n.Base = append(n.Base, conv(c))
			}
		}
	}
	return n
}

func rulePos(base string, r *policy.Rule) string {
	if r.Src == nil {
		return "(generated rule)"
	}
	rg := r.Src.Span()
	name := rg.Filename
	if rel, err := filepath.Rel(base, name); base != "" && err == nil {
		name = filepath.ToSlash(rel)
	}
	return name + ":" + strconv.Itoa(rg.Start.Line)
}

// Outcome is what the ruleset does to the packets of Entry.
type Outcome struct {
	// Cube is the packets as the deciding rule saw them (marks set,
	// notrack done); Entry the same packets as they entered.
	Cube, Entry Cube
	Accept      bool
	// Rule is the rule that decided (the drop or reject, or for an
	// accepted packet the last rule that accepted it), nil when a chain's
	// policy did; Pos is its position, and Why says it in words: "the
	// rule at host.fw:12", "the policy drop of chain filter input".
	Rule *NetRule
	Why  string
	// Maybe, when not "", says why the packets may not take this way (a
	// rate limit, a mark the walk does not know exactly, ...): the
	// outcome is possible, not certain.
	Maybe string
	nat   uint8
}

// Translated reports whether a nat rule of kind k (a balance counts as
// dnat) translated the packets.
func (o *Outcome) Translated(k policy.NATKind) bool { return o.nat&(1<<k) != 0 }

// FlowResult is every outcome of a region; together their cubes cover it
// (a maybe outcome may overlap others).
type FlowResult struct {
	Outcomes []Outcome
	// Incomplete says why the walk stopped early ("" when it did not):
	// then the outcomes are not to be trusted (the flows left where it
	// stopped end there as if their chain had).
	Incomplete string
}

// Limits of Flow: beyond them the result is Incomplete. Variables so that
// a test can reach them with a small policy.
var (
	maxFlows   = 1 << 14
	flowBudget = 1 << 18
)

type flow struct {
	c Cube
	// over are the dimensions an action rewrote (a mark set, notrack),
	// and saved their values as the packet entered: the packet a reader
	// is shown is the one that arrives, not the one a later chain sees.
	over  sem.Dims
	saved Cube
	maybe string
	by    *NetRule // the last rule that accepted, for messages
	why   string   // what accepted it last, in words
	nat   uint8    // the kinds of nat rule that translated it, 1<<policy.NATKind
	// later says why what the next chains decide is uncertain (a nat
	// rewrite they see and the walk does not follow); it becomes maybe
	// when the flow enters one.
	later string
}

type ended struct {
	flow
	kind endKind
	why  string
	rule *NetRule
}

type endKind int

const (
	endAccept endKind = iota
	endDrop
	endReturn
)

type flowWalker struct {
	s       *Space
	fam     policy.Family
	lowered map[*policy.Rule]*ruleInfo
	absent  map[*policy.Rule]bool
	budget  int
	stop    string
}

// Flow walks the packets of start, in the family of s, on path across the
// host, through n: the hooks of the path in kernel order (sem.Hooks), on
// each the base chains by priority. State set by one chain is seen by the
// later ones (marks, notrack); nat chains see only ct state new packets
// (sem.NATSees); chains before connection tracking cannot decide ct
// conditions. The coordinates of start are the packet as it enters the
// first chain: its ct state is the one connection tracking will give it.
func Flow(n *Net, s *Space, path sem.Path, start Region) *FlowResult {
	hooks := sem.Hooks(path)
	type base struct {
		c    *NetChain
		hook int
	}
	var chains []base
	for _, c := range n.Base {
		if h := slices.Index(hooks, c.Hook); h >= 0 {
			chains = append(chains, base{c, h})
		}
	}
	sort.SliceStable(chains, func(i, j int) bool {
		if chains[i].hook != chains[j].hook {
			return chains[i].hook < chains[j].hook
		}
		return chains[i].c.Priority < chains[j].c.Priority
	})
	w := &flowWalker{s: s, fam: policy.IPv4, lowered: map[*policy.Rule]*ruleInfo{},
		absent: map[*policy.Rule]bool{}, budget: flowBudget}
	if s.V6 {
		w.fam = policy.IPv6
	}
	var live []flow
	for _, c := range start {
		live = append(live, flow{c: c})
	}
	var done []ended // dropped ones
	for _, b := range chains {
		c := b.c
		before := sem.BeforeConntrack(c.Hook, c.Priority)
		var next []flow
		for _, f := range live {
			if w.stop != "" {
				break
			}
			if f.later != "" {
				f.maybe, f.later = orWhy(f.maybe, f.later), ""
			}
			walk := []flow{f}
			if c.NAT {
				// Only a connection's first packet goes through nat.
				var skip []flow
				walk, skip = splitDim(f, CtState, sem.Single(sem.U64(3)))
				next = append(next, skip...)
			}
			for _, x := range walk {
				for _, e := range w.chain(c, x, 0, before) {
					switch {
					case e.kind == endReturn && c.Drop:
						e.kind, e.why, e.rule = endDrop, "the policy drop of chain "+c.Table+" "+c.Name, nil
					case e.kind == endReturn:
						// The chain's policy accepts: an earlier rule that
						// accepted explicitly says more.
						if e.flow.by == nil {
							e.flow.why = "the policy accept of chain " + c.Table + " " + c.Name
						}
						next = append(next, e.flow)
						continue
					}
					if e.kind == endDrop {
						done = append(done, e)
						continue
					}
					e.flow.by, e.flow.why = e.rule, e.why
					next = append(next, e.flow)
				}
			}
		}
		live = next
		if w.stop != "" {
			break
		}
	}
	res := &FlowResult{Incomplete: w.stop}
	for _, f := range live {
		why := f.why
		if why == "" {
			why = "no chain drops it"
		}
		// A rewritten destination may also be routed another way, through
		// chains this path does not have.
		f.maybe = orWhy(f.maybe, f.later)
		res.Outcomes = append(res.Outcomes, Outcome{Cube: f.c, Entry: f.entry(), Accept: true, Rule: f.by, Why: why, Maybe: f.maybe, nat: f.nat})
	}
	for _, e := range done {
		res.Outcomes = append(res.Outcomes, Outcome{Cube: e.c, Entry: e.entry(), Rule: e.rule, Why: e.why, Maybe: e.maybe, nat: e.nat})
	}
	return res
}

// splitDim splits f into the part whose dimension d lies in set and the
// rest.
// set rewrites dimension d of f to v, keeping its entry value.
func (f *flow) set(d Dim, v ivs) {
	if !f.over.Has(d) {
		f.saved[d] = f.c[d]
		f.over = f.over.With(d)
	}
	f.c[d] = v
}

// entry is the packets of f as they entered the first chain.
func (f *flow) entry() Cube {
	c := f.c
	for d := range NDim {
		if f.over.Has(Dim(d)) {
			c[d] = f.saved[d]
		}
	}
	return c
}

func splitDim(f flow, d Dim, set ivs) (in, out []flow) {
	a, b := f.c[d].Intersect(set), f.c[d].Minus(set)
	if !a.Empty() {
		x := f
		x.c[d] = a
		in = append(in, x)
	}
	if !b.Empty() {
		x := f
		x.c[d] = b
		out = append(out, x)
	}
	return in, out
}

// lower returns the rule's region in the walker's family, nil when the
// rule does not exist in it or matches nothing.
func (w *flowWalker) lower(r *policy.Rule) *ruleInfo {
	if ri, ok := w.lowered[r]; ok || w.absent[r] {
		return ri
	}
	ri, ok, _ := lowerRule(w.s, r)
	if !ok {
		w.absent[r] = true
		return nil
	}
	w.lowered[r] = ri
	return ri
}

// ctDims are the dimensions only connection tracking gives a packet.
var ctDims = [...]Dim{CtState, CtStatus, CtMark}

func (w *flowWalker) spend(n int) bool {
	w.budget -= n
	if w.budget < 0 && w.stop == "" {
		w.stop = "the ruleset splits the packets into too many classes to follow"
	}
	return w.stop == ""
}

// chain walks f through c from its first rule.
func (w *flowWalker) chain(c *NetChain, f flow, depth int, beforeCt bool) []ended {
	return w.rules(c, 0, []flow{f}, depth, beforeCt)
}

// rules walks the flows through c's rules from i on; what falls off the
// end returns.
func (w *flowWalker) rules(c *NetChain, i int, pending []flow, depth int, beforeCt bool) []ended {
	var out []ended
	if depth > maxDepth {
		for _, f := range pending {
			f.maybe = orWhy(f.maybe, "jumps nested too deep to follow")
			out = append(out, ended{flow: f, kind: endReturn}, ended{flow: f, kind: endDrop, why: "jumps nested too deep to follow"})
		}
		return out
	}
	for ; i < len(c.Rules) && len(pending) > 0 && w.stop == ""; i++ {
		nr := c.Rules[i]
		ri := w.lower(nr.Rule)
		if ri == nil {
			continue
		}
		// An inexact rule's region is an over-approximation: it may or
		// may not match the packets in it.
		region, why := ri.region, ri.unmodeled
		if beforeCt && restrictsCt(w.s, region) {
			// The packet has no connection yet: what a ct match says
			// here is not decided by the state the cube holds.
			region = relaxCt(w.s, region)
			why = orWhy(why, "a ct match before connection tracking")
		}
		cs := sem.CubePtrs(region)
		var next []flow
		for _, f := range pending {
			in := region.IntersectCube(&f.c)
			if in.Empty() {
				next = append(next, f)
				continue
			}
			// Only a rule that splits a flow costs: the budget bounds
			// the splitting, not the length of the ruleset.
			w.spend(len(cs))
			var rest Region
			if why == "" {
				budget := subtractBudget
				rest = w.s.SubtractAll(f.c, cs, &budget)
				if budget <= 0 {
					w.stop = "the ruleset splits the packets into too many classes to follow"
				}
			} else {
				// May or may not match: the whole flow also goes on, and
				// the part the rule holds is uncertain both ways.
				rest = w.s.SubtractAll(f.c, cs, nil)
				for _, x := range in {
					g := f
					g.c, g.maybe = x, orWhy(f.maybe, why)
					next = append(next, g)
				}
			}
			for _, x := range rest {
				g := f
				g.c = x
				next = append(next, g)
			}
			var hit []flow
			for _, x := range in {
				g := f
				g.c = x
				if why != "" {
					g.maybe = orWhy(g.maybe, why)
				}
				hit = append(hit, g)
			}
			for _, e := range w.actions(c, nr, nr.Steps, i, hit, depth, beforeCt) {
				if e.kind == endReturn && e.rule == continueMark {
					next = append(next, e.flow)
					continue
				}
				out = append(out, e)
			}
		}
		pending = next
		if len(pending) > maxFlows && w.stop == "" {
			w.stop = "the ruleset splits the packets into too many classes to follow"
		}
	}
	for _, f := range pending {
		out = append(out, ended{flow: f, kind: endReturn})
	}
	return out
}

// continueMark tags the flows that ran a rule's actions without a verdict
// and go on with the chain's next rule.
var continueMark = &NetRule{}

func orWhy(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func restrictsCt(s *Space, r Region) bool {
	for i := range r {
		for _, d := range ctDims {
			if !s.IsFull(&r[i], d) {
				return true
			}
		}
	}
	return false
}

func relaxCt(s *Space, r Region) Region {
	out := make(Region, len(r))
	full := s.Full()
	for i := range r {
		out[i] = r[i]
		for _, d := range ctDims {
			out[i][d] = full[d]
		}
	}
	return out
}

// actions runs steps on the flows a rule matched: ended flows, and those
// to go on with the chain (kind endReturn, rule continueMark).
func (w *flowWalker) actions(c *NetChain, nr *NetRule, steps []NetStep, i int, fs []flow, depth int, beforeCt bool) []ended {
	var out []ended
	for _, f := range fs {
		out = append(out, w.steps(c, nr, steps, i, f, depth, beforeCt)...)
	}
	return out
}

func (w *flowWalker) steps(c *NetChain, nr *NetRule, steps []NetStep, i int, f flow, depth int, beforeCt bool) []ended {
	for k, st := range steps {
		switch a := st.Action.(type) {
		case *policy.Verdict:
			switch a.Kind {
			case policy.Accept:
				return []ended{{flow: f, kind: endAccept, rule: nr, why: "the rule at " + nr.Pos}}
			case policy.Return:
				return []ended{{flow: f, kind: endReturn}}
			}
			return []ended{{flow: f, kind: endDrop, rule: nr, why: "the rule at " + nr.Pos}}
		case *policy.NAT, *policy.Balance:
			kind := policy.DNAT // a balance
			if n, ok := a.(*policy.NAT); ok {
				kind = n.Kind
			}
			f.nat |= 1 << kind
			if kind == policy.DNAT || kind == policy.Redirect {
				// The later chains see the new destination (and the
				// routing decision may send the packet another way).
				f.later = orWhy(f.later, "the destination is rewritten by the nat rule at "+nr.Pos+", which the proof does not follow")
			}
			return []ended{{flow: f, kind: endAccept, rule: nr, why: "the nat rule at " + nr.Pos}}
		}
		if st.Target != nil {
			var out []ended
			for _, e := range w.rules(st.Target, 0, []flow{f}, depth+1, beforeCt) {
				if e.kind != endReturn || st.Goto {
					out = append(out, e)
					continue
				}
				out = append(out, w.steps(c, nr, steps[k+1:], i, e.flow, depth, beforeCt)...)
			}
			return out
		}
		var fs []flow
		switch a := st.Action.(type) {
		case *policy.Notrack:
			if beforeCt {
				full := w.s.Full()
				f.set(CtState, sem.Single(sem.U64(4)))
				f.set(CtStatus, full[CtStatus])
				f.set(CtMark, full[CtMark])
			}
			fs = []flow{f}
		case *policy.SetMark:
			d := Mark
			if a.Ct {
				d = CtMark
			}
			fs = w.markOp(f, d, -1, a.Value, a.Mask, nr)
		case *policy.Connmark:
			if a.Restore {
				fs = w.markOp(f, Mark, int(CtMark), 0, a.Mask, nr)
			} else {
				fs = w.markOp(f, CtMark, int(Mark), 0, a.Mask, nr)
			}
		default:
			if st.Action.Terminal() {
				// An action this walk does not know ends the chain one
				// way or another: both, uncertain.
				f.maybe = orWhy(f.maybe, "the rule at "+nr.Pos+" ends the chain with an action the proof does not know")
				return []ended{{flow: f, kind: endAccept, rule: nr, why: "the rule at " + nr.Pos},
					{flow: f, kind: endDrop, rule: nr, why: "the rule at " + nr.Pos}}
			}
			fs = []flow{f}
		}
		if len(fs) != 1 {
			var out []ended
			for _, g := range fs {
				out = append(out, w.steps(c, nr, steps[k+1:], i, g, depth, beforeCt)...)
			}
			return out
		}
		f = fs[0]
	}
	return []ended{{flow: f, kind: endReturn, rule: continueMark}}
}

// markOp sets dimension d (Mark or CtMark) to (d &^ mask) | (value &
// mask), or with src >= 0 to (d &^ mask) | (src & mask). An untracked
// packet has no connection mark to set or copy: that part is unchanged.
func (w *flowWalker) markOp(f flow, d Dim, src int, value, mask uint32, nr *NetRule) []flow {
	var out []flow
	untracked := sem.Single(sem.U64(4))
	ctTouched := d == CtMark || src == int(CtMark)
	if ctTouched {
		var tr, un []flow
		un, tr = splitDim(f, CtState, untracked)
		out = append(out, un...)
		if len(tr) == 0 {
			return out
		}
		f = tr[0]
	}
	set := f.c[d]
	if src >= 0 {
		from := f.c[Dim(src)]
		if len(from) == 1 && from[0].Lo == from[0].Hi && (mask == math.MaxUint32 || len(set) == 1 && set[0].Lo == set[0].Hi) {
			value = markOf(from[0].Lo)
		} else {
			full := w.s.Full()
			f.set(d, full[d])
			f.maybe = orWhy(f.maybe, "the rule at "+nr.Pos+" copies a mark the proof does not know exactly")
			return append(out, f)
		}
	}
	switch {
	case mask == math.MaxUint32:
		f.set(d, sem.Single(markKey(value)))
	case len(set) == 1 && set[0].Lo == set[0].Hi:
		f.set(d, sem.Single(markKey(markOf(set[0].Lo)&^mask|value&mask)))
	default:
		full := w.s.Full()
		f.set(d, full[d])
		f.maybe = orWhy(f.maybe, "the rule at "+nr.Pos+" sets some bits of a mark the proof does not know exactly")
	}
	return append(out, f)
}

func markKey(v uint32) u128 { return sem.MarkKey(v) }
func markOf(k u128) uint32  { return sem.MarkOf(k) }
