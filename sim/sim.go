package sim

import (
	"math"
	"slices"
	"sort"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// Verdict is how a way through the ruleset ends.
type Verdict int

const (
	Accept Verdict = iota
	Drop           // dropped or rejected
)

func (v Verdict) String() string { return [...]string{"accept", "drop"}[v] }

// Fate is what the ruleset does to a packet over every way its walk can
// take.
type Fate int

const (
	Accepted  Fate = iota // every way accepts it
	Dropped               // every way drops or rejects it
	Undecided             // it depends on what a concrete packet cannot tell (limits, time, an unknown mark, ...)
)

func (f Fate) String() string { return [...]string{"accepted", "dropped", "undecided"}[f] }

// StepKind says what a Step records.
type StepKind int

const (
	EnterChain  StepKind = iota // a base chain starts (Hook, Table, Chain, Priority)
	SkipChain                   // a nat base chain the packet does not traverse (not a connection's first packet)
	MatchRule                   // a rule matched (Match Yes), or was followed as matching (Match Unknown)
	JumpTo                      // a jump or goto enters Chain
	ReturnFrom                  // a user chain ended, back to the caller
	SetMark                     // the packet's Mark or CtMark changed (Packet holds the new values)
	Untrack                     // a notrack made the packet untracked
	NAT                         // a nat rule decided the packet (the rewrite is not applied, see the package doc)
	ChainPolicy                 // the base chain's policy decided (Verdict)
	Final                       // the walk ended (Verdict)
)

// Step is one event of a walk, in the order the kernel would do it.
type Step struct {
	Kind     StepKind
	Hook     policy.Hook
	Table    string
	Chain    string
	Priority int
	// Rule is the rule that matched, for MatchRule and the steps its
	// actions cause; its Pos are the source positions.
	Rule *ir.Rule
	// Match is Yes when the rule's conditions hold for the packet, Unknown
	// when some cannot be decided and the walk followed the rule matching
	// (another Way follows it not matching).
	Match sem.Tri
	// Verdict for ChainPolicy and Final.
	Verdict Verdict
	// Mark and CtMark after a SetMark step.
	Mark, CtMark uint32
}

// Way is one way a walk can go: when a condition is Unknown the walk
// forks, one Way per answer.
type Way struct {
	Verdict Verdict
	// By is the rule that gave the verdict, nil when a chain policy or the
	// end of the hooks did.
	By *ir.Rule
	// Why names what dropped the packet: the rule's source position or
	// "the policy drop of chain TABLE CHAIN"; "" when accepted.
	Why string
	// Packet is the packet's state at the end (marks, ct state).
	Packet sem.Packet
	Steps  []Step
}

// Result is the walk of one packet.
type Result struct {
	Ways []Way
}

// Fate sums the ways up; why is the first drop's Why.
func (r *Result) Fate() (fate Fate, why string) {
	accept, drop := false, false
	for _, w := range r.Ways {
		if w.Verdict == Drop {
			if !drop {
				why = w.Why
			}
			drop = true
		} else {
			accept = true
		}
	}
	switch {
	case accept && !drop:
		return Accepted, ""
	case !accept:
		return Dropped, why
	}
	return Undecided, why
}

// Options bound the walk.
type Options struct {
	// Forks is the number of Unknown matches followed both ways before
	// the walk gives up (both verdicts, so Undecided); 0 means 4096.
	Forks int
	// NoSteps leaves Way.Steps empty (a lock-out check needs only fates).
	NoSteps bool
}

const maxDepth = 32

// Run walks the concrete packet p, on path path, through rs as the kernel
// would: the hooks of the path in order (sem.Hooks), on each the base
// chains of every table by priority (tables of one priority in rs's
// order), user chains by jump, goto and return. State set by one chain is
// seen by the later ones: a notrack before connection tracking makes the
// packet untracked, packet and connection marks set or restored are known
// from then on. nat chains see only a connection's first packet
// (sem.NATSees). Every condition is decided by sem.Holds on the packet's
// point; an Unknown answer forks the walk.
func Run(rs *ir.Ruleset, path sem.Path, p sem.Packet, opt Options) *Result {
	hooks := sem.Hooks(path)
	type base struct {
		c    *ir.Chain
		hook int
	}
	var chains []base
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			if h := slices.Index(hooks, c.Hook); h >= 0 && c.IsBase() {
				chains = append(chains, base{c, h})
			}
		}
	}
	sort.SliceStable(chains, func(i, j int) bool {
		if chains[i].hook != chains[j].hook {
			return chains[i].hook < chains[j].hook
		}
		return chains[i].c.Priority < chains[j].c.Priority
	})
	e := &walker{forks: opt.Forks, steps: !opt.NoSteps, fam: ir.IPv4}
	if e.forks == 0 {
		e.forks = 4096
	}
	if p.Family() == policy.IPv6 {
		e.fam = ir.IPv6
	}
	ways := []way{{kind: endAccept, p: p}}
	for _, b := range chains {
		var next []way
		for _, x := range ways {
			if x.kind == endDrop {
				next = addWay(next, x)
				continue
			}
			c := b.c
			x.steps = e.step(x.steps, Step{Kind: EnterChain, Hook: c.Hook, Table: c.Table.Name, Chain: c.Name, Priority: c.Priority})
			if c.Type == ir.TypeNAT {
				if x.p.Unknown.Has(sem.CtState) || !sem.NATSees(x.p.CtState) {
					x.steps = e.step(x.steps, Step{Kind: SkipChain, Hook: c.Hook, Table: c.Table.Name, Chain: c.Name})
					next = addWay(next, x)
					continue
				}
			}
			before := sem.BeforeConntrack(c.Hook, c.Priority)
			for _, y := range e.rules(c, 0, 0, before, x) {
				if y.kind == endReturn {
					if c.Policy == policy.Drop {
						y.kind, y.why = endDrop, "the policy drop of chain "+c.Table.Name+" "+c.Name
						y.steps = e.step(y.steps, Step{Kind: ChainPolicy, Hook: c.Hook, Table: c.Table.Name, Chain: c.Name, Verdict: Drop})
					} else {
						y.kind = endAccept
						y.steps = e.step(y.steps, Step{Kind: ChainPolicy, Hook: c.Hook, Table: c.Table.Name, Chain: c.Name, Verdict: Accept})
					}
				}
				next = addWay(next, y)
			}
		}
		ways = next
	}
	res := &Result{}
	for _, x := range ways {
		v := Accept
		if x.kind == endDrop {
			v = Drop
		}
		steps := e.step(x.steps, Step{Kind: Final, Verdict: v})
		res.Ways = append(res.Ways, Way{Verdict: v, By: x.by, Why: x.why, Packet: x.p, Steps: steps})
	}
	return res
}

type endKind int

const (
	endAccept endKind = iota
	endDrop
	endReturn // fell off a user chain, or returned
)

// way is a walk in progress: how it ended so far and the packet's state.
type way struct {
	kind  endKind
	why   string
	by    *ir.Rule
	p     sem.Packet
	steps []Step
}

// addWay adds x unless a way of the same kind and packet state is there
// (the first one is kept), so that forks that lead to the same place do
// not multiply.
func addWay(ways []way, x way) []way {
	for _, y := range ways {
		if y.kind == x.kind && y.p == x.p {
			return ways
		}
	}
	return append(ways, x)
}

type walker struct {
	forks int // Unknown matches left to follow both ways
	steps bool
	fam   ir.Family
}

func (e *walker) step(s []Step, st Step) []Step {
	if !e.steps {
		return s
	}
	// Ways share prefixes: copy so that forks do not write each other's.
	return append(s[:len(s):len(s)], st)
}

// giveUp is the result when the walk is too deep or forks too often:
// both verdicts, so the fate is Undecided.
func giveUp(x way, why string) []way {
	a, d := x, x
	a.kind = endAccept
	d.kind, d.why = endDrop, why
	return []way{a, d}
}

// matches decides r for the packet: every condition through sem.
func (e *walker) matches(r *ir.Rule, pt sem.Point) sem.Tri {
	if !r.In(e.fam) {
		return sem.No
	}
	t := sem.Yes
	for _, m := range r.Matches {
		t = sem.And(t, sem.Holds(cond(m), pt))
		if t == sem.No {
			return sem.No
		}
	}
	return t
}

// point is the packet's point as a chain sees it: before connection
// tracking the packet has no connection yet, so its ct state, status and
// mark are not known to the walk.
func point(p sem.Packet, beforeCt bool) sem.Point {
	if beforeCt {
		p.Unknown = p.Unknown.With(sem.CtState).With(sem.CtStatus).With(sem.CtMark)
	}
	return p.Point()
}

// rules walks c from rule i on.
func (e *walker) rules(c *ir.Chain, i, depth int, beforeCt bool, x way) []way {
	if depth > maxDepth {
		return giveUp(x, "jumps nested too deep to follow")
	}
	for ; i < len(c.Rules); i++ {
		r := c.Rules[i]
		m := e.matches(r, point(x.p, beforeCt))
		if m == sem.No {
			continue
		}
		y := x
		y.steps = e.step(y.steps, Step{Kind: MatchRule, Hook: c.Hook, Table: c.Table.Name, Chain: c.Name, Rule: r, Match: m})
		if m == sem.Unknown {
			if e.forks <= 0 {
				return giveUp(x, "too many undecided matches")
			}
			e.forks--
			out := e.actions(c, r, r.Actions, i, depth, beforeCt, y)
			for _, z := range e.rules(c, i+1, depth, beforeCt, x) {
				out = addWay(out, z)
			}
			return out
		}
		return e.actions(c, r, r.Actions, i, depth, beforeCt, y)
	}
	x.kind = endReturn
	return []way{x}
}

// actions runs a matching rule's actions, then the rest of the chain if
// none of them ended it.
func (e *walker) actions(c *ir.Chain, r *ir.Rule, acts []policy.Action, i, depth int, beforeCt bool, x way) []way {
	p := &x.p
	for k, a := range acts {
		switch a := a.(type) {
		case *policy.Verdict:
			x.by = r
			switch a.Kind {
			case policy.Accept:
				x.kind = endAccept
			case policy.Return:
				x.kind = endReturn
				x.by = nil
			default:
				x.kind, x.why = endDrop, "the rule at "+posString(r)
			}
			return []way{x}
		case *ir.Jump:
			x.steps = e.step(x.steps, Step{Kind: JumpTo, Table: a.Target.Table.Name, Chain: a.Target.Name, Rule: r})
			var out []way
			for _, y := range e.rules(a.Target, 0, depth+1, beforeCt, x) {
				if y.kind != endReturn || a.Goto {
					// A goto's fall-through returns from this chain too.
					out = addWay(out, y)
					continue
				}
				// Came back: the rest of this rule's actions and of this
				// chain, in the state the sub-chain left.
				y.steps = e.step(y.steps, Step{Kind: ReturnFrom, Table: c.Table.Name, Chain: c.Name})
				for _, z := range e.actions(c, r, acts[k+1:], i, depth, beforeCt, y) {
					out = addWay(out, z)
				}
			}
			return out
		case *policy.NAT, *policy.Balance:
			x.steps = e.step(x.steps, Step{Kind: NAT, Rule: r})
			x.kind, x.by = endAccept, r
			return []way{x}
		case *policy.Notrack:
			if beforeCt {
				p.CtState = policy.CtUntracked
				p.CtStatus, p.CtMark = 0, 0
				p.Unknown = p.Unknown.Without(sem.CtState).With(sem.CtMark)
				x.steps = e.step(x.steps, Step{Kind: Untrack, Rule: r})
			}
		case *policy.SetMark:
			if a.Ct {
				if p.CtState != policy.CtUntracked {
					p.CtMark, p.Unknown = setBits(p.CtMark, p.Unknown, sem.CtMark, a.Value, a.Mask)
				}
			} else {
				p.Mark, p.Unknown = setBits(p.Mark, p.Unknown, sem.Mark, a.Value, a.Mask)
			}
			x.steps = e.step(x.steps, Step{Kind: SetMark, Rule: r, Mark: p.Mark, CtMark: p.CtMark})
		case *policy.Connmark:
			switch {
			case p.CtState == policy.CtUntracked:
			case a.Restore:
				p.Mark, p.Unknown = copyBits(p.Mark, p.CtMark, p.Unknown, sem.Mark, sem.CtMark, a.Mask)
			default:
				p.CtMark, p.Unknown = copyBits(p.CtMark, p.Mark, p.Unknown, sem.CtMark, sem.Mark, a.Mask)
			}
			x.steps = e.step(x.steps, Step{Kind: SetMark, Rule: r, Mark: p.Mark, CtMark: p.CtMark})
		}
	}
	return e.rules(c, i+1, depth, beforeCt, x)
}

// setBits is mark = (mark &^ mask) | value: known afterwards when it was
// before or when the mask covers every bit.
func setBits(mark uint32, unknown sem.Dims, d sem.Dim, value, mask uint32) (uint32, sem.Dims) {
	mark = mark&^mask | value&mask
	if mask == math.MaxUint32 {
		unknown = unknown.Without(d)
	}
	if unknown.Has(d) {
		mark = 0
	}
	return mark, unknown
}

// copyBits copies the mask's bits of src (dimension s) into dst (d).
func copyBits(dst, src uint32, unknown sem.Dims, d, s sem.Dim, mask uint32) (uint32, sem.Dims) {
	if unknown.Has(s) {
		return 0, unknown.With(d)
	}
	return setBits(dst, unknown, d, src, mask)
}

func posString(r *ir.Rule) string {
	if c := r.Comment(80); c != "" {
		return c
	}
	return "(generated rule)"
}
