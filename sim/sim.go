package sim

import (
	"math"
	"net/netip"
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
	Drop           // dropped or rejected (Way.Reject tells which)
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
	NAT                         // a nat rule decided the packet and rewrote it (Before, Packet)
	ChainPolicy                 // the base chain's policy decided (Verdict)
	Route                       // the routing decision (Path, Table, IPRule, IPRoute; Packet.OutIface)
	Final                       // the walk ended (Verdict)
)

var stepNames = [...]string{"enter", "skip", "match", "jump", "return", "mark", "notrack", "nat", "policy", "route", "final"}

func (k StepKind) String() string { return stepNames[k] }

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
	// Verdict for ChainPolicy and Final; Reject when a Final Drop was a
	// reject.
	Verdict Verdict
	Reject  bool
	// Mark and CtMark after a SetMark step.
	Mark, CtMark uint32
	// Packet is the packet after a SetMark, NAT or Route step, and at the
	// Final step; Before is the packet before a NAT rewrite.
	Packet, Before sem.Packet
	// Path, for a Route step, is where the routing decision sends the
	// packet. RouteTable is the routing table the decision used (254, the
	// main table, when no policy route took it; 255, local, for a packet
	// to the host), IPRule the policy's ip rule that chose it (nil for
	// main and local), IPRoute the route of that table (nil when the
	// main table decided: the host's routes are not the policy's).
	Path       sem.Path
	RouteTable int
	IPRule     *ir.IPRule
	IPRoute    *ir.IPRoute
}

// Routing tables the kernel always has (rt_names).
const (
	TableMain  = 254
	TableLocal = 255
)

// Way is one way a walk can go: when a condition is Unknown the walk
// forks, one Way per answer.
type Way struct {
	Verdict Verdict
	// Reject is set when a Drop was a reject: the sender is told (a tcp
	// reset or an icmp error).
	Reject bool
	// By is the rule that gave the verdict, nil when a chain policy or the
	// end of the hooks did.
	By *ir.Rule
	// Why names what dropped the packet: the rule's source position or
	// "the policy drop of chain TABLE CHAIN"; "" when accepted.
	Why string
	// Path is where the packet went after the routing decision: to a
	// local socket (ToSelf), out of the host (Forwarded, FromSelf; the
	// interface is Packet.OutIface, "" with sem.OIf in Packet.Unknown when
	// not known).
	Path sem.Path
	// Packet is the packet's state at the end (addresses after NAT,
	// marks, ct state).
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

// Options bound the walk and say what it knows of the host.
type Options struct {
	// Forks is the number of Unknown matches followed both ways before
	// the walk gives up (both verdicts, so Undecided); 0 means 4096.
	Forks int
	// NoSteps leaves Way.Steps empty (a lock-out check needs only fates).
	NoSteps bool
	// Routing is the policy routing the routing decision follows (ip
	// rules by fwmark, and the routes of their tables); nil means the
	// ruleset's own (rs.Routing).
	Routing *ir.Routing
	// Local reports whether an address is one of the host's own. It is
	// asked about a destination a dnat wrote: the packet is then
	// delivered to the host, else forwarded. Nil: no such address is
	// local.
	Local func(netip.Addr) bool
	// Route is the host's main routing table: the interface a packet to
	// an address leaves by, "" when not known. It is asked when no policy
	// route decides and the packet's own OutIface does not apply (none
	// was given, or a dnat changed the destination). Nil: not known.
	Route func(netip.Addr) string
}

const maxDepth = 32

// Run walks the concrete packet p, which starts on path path, through rs
// as the kernel would. A packet that arrives (ToSelf, Forwarded) crosses
// prerouting, then the routing decision, then input (to the host) or
// forward and postrouting; a packet the host sends (FromSelf) is routed,
// crosses output, is routed again when output changed its mark or
// destination, then crosses postrouting. On each hook the base chains of
// every table run by priority (tables of one priority in rs's order), user
// chains by jump, goto and return.
//
// State set by one chain is seen by the later ones: a notrack before
// connection tracking makes the packet untracked, marks set or restored
// are known from then on, and a nat rule rewrites the packet: dnat and
// redirect (prerouting, output) change the destination before the routing
// decision, so a redirected packet goes to the host and a packet dnat
// sends to an address that is not Local is forwarded; snat and masquerade
// (postrouting) change the source. nat chains see only a connection's
// first packet (sem.NATSees). The routing decision takes the first ip rule
// of the policy's routing whose fwmark the packet's mark matches and
// whose table has a route to the destination (the longest prefix); with
// none, the main table: the OutIface p came with (when sem.OIf is not in
// p.Unknown: "" then stands only for the packet's own destination, a name
// also for one a dnat wrote), else Options.Route.
//
// Every condition is decided by sem.Holds on the packet's point; an
// Unknown answer forks the walk, and so does a balance (one way per
// endpoint).
func Run(rs *ir.Ruleset, path sem.Path, p sem.Packet, opt Options) *Result {
	e := &walker{forks: opt.Forks, steps: !opt.NoSteps, fam: ir.IPv4, opt: opt, hooks: map[policy.Hook][]*ir.Chain{}}
	if e.forks == 0 {
		e.forks = 4096
	}
	if p.Family() == policy.IPv6 {
		e.fam = ir.IPv6
	}
	e.routing = opt.Routing
	if e.routing == nil {
		e.routing = &rs.Routing
	}
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			if c.IsBase() {
				e.hooks[c.Hook] = append(e.hooks[c.Hook], c)
			}
		}
	}
	for _, cs := range e.hooks {
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].Priority < cs[j].Priority })
	}
	start := way{kind: endAccept, p: p, path: path, dst: p.Dst}
	e.origDst = p.Dst
	e.givenOut, e.givenKnown = p.OutIface, !p.Unknown.Has(sem.OIf)
	if path != sem.FromSelf {
		// Before the routing decision a packet has no output interface:
		// the one it came with is the main table's answer, for later.
		start.p.OutIface, start.p.Unknown = "", start.p.Unknown.Without(sem.OIf)
	}
	ways := []way{start}
	if path == sem.FromSelf {
		ways = e.each(ways, func(x way) []way { return []way{e.route(x, false)} })
		ways = e.hook(policy.Output, ways)
		ways = e.each(ways, func(x way) []way {
			// ip_route_me_harder: output changed what routing looks at.
			if x.p.Mark != start.p.Mark || x.p.Unknown.Has(sem.Mark) != start.p.Unknown.Has(sem.Mark) || x.dnat {
				return []way{e.route(x, false)}
			}
			return []way{x}
		})
		ways = e.hook(policy.Postrouting, ways)
	} else {
		ways = e.hook(policy.Prerouting, ways)
		ways = e.each(ways, func(x way) []way { return []way{e.route(x, true)} })
		ways = e.hook(policy.Input, ways)
		ways = e.hook(policy.Forward, ways)
		ways = e.hook(policy.Postrouting, ways)
	}
	res := &Result{}
	for _, x := range ways {
		v := Accept
		if x.kind == endDrop {
			v = Drop
		}
		steps := e.step(x.steps, Step{Kind: Final, Verdict: v, Reject: x.reject, Packet: x.p, Path: x.path})
		res.Ways = append(res.Ways, Way{Verdict: v, Reject: x.reject, By: x.by, Why: x.why, Path: x.path, Packet: x.p, Steps: steps})
	}
	return res
}

// crosses reports whether a packet on path crosses hook h (after the
// routing decision set the path).
func crosses(path sem.Path, h policy.Hook) bool {
	return slices.Contains(sem.Hooks(path), h)
}

// each replaces every live way by what f makes of it.
func (e *walker) each(ways []way, f func(way) []way) []way {
	var out []way
	for _, x := range ways {
		if x.kind == endDrop {
			out = addWay(out, x)
			continue
		}
		for _, y := range f(x) {
			out = addWay(out, y)
		}
	}
	return out
}

// hook runs the base chains of h, by priority, for every live way that
// crosses it.
func (e *walker) hook(h policy.Hook, ways []way) []way {
	for _, c := range e.hooks[h] {
		ways = e.each(ways, func(x way) []way {
			if !crosses(x.path, h) {
				return []way{x}
			}
			return e.chain(c, x)
		})
	}
	return ways
}

// chain walks one base chain.
func (e *walker) chain(c *ir.Chain, x way) []way {
	x.steps = e.step(x.steps, Step{Kind: EnterChain, Hook: c.Hook, Table: c.Table.Name, Chain: c.Name, Priority: c.Priority})
	if c.Type == ir.TypeNAT {
		if x.p.Unknown.Has(sem.CtState) || !sem.NATSees(x.p.CtState) {
			x.steps = e.step(x.steps, Step{Kind: SkipChain, Hook: c.Hook, Table: c.Table.Name, Chain: c.Name})
			return []way{x}
		}
	}
	before := sem.BeforeConntrack(c.Hook, c.Priority)
	var out []way
	for _, y := range e.rules(c, c.Hook, 0, 0, before, x) {
		if y.kind == endReturn {
			if c.Policy == policy.Drop {
				y.kind, y.why, y.by = endDrop, "the policy drop of chain "+c.Table.Name+" "+c.Name, nil
				y.steps = e.step(y.steps, Step{Kind: ChainPolicy, Hook: c.Hook, Table: c.Table.Name, Chain: c.Name, Verdict: Drop})
			} else {
				y.kind = endAccept
				y.steps = e.step(y.steps, Step{Kind: ChainPolicy, Hook: c.Hook, Table: c.Table.Name, Chain: c.Name, Verdict: Accept})
			}
		}
		out = addWay(out, y)
	}
	return out
}

// route is the routing decision. For a packet that arrived (in), it
// decides between the host and forwarding: a redirect sends it to the
// host, a dnat to Options.Local's addresses or away, else the path it
// came with stands. A packet that leaves gets its output interface: the
// policy's routes by mark first, then the main table.
func (e *walker) route(x way, in bool) way {
	p := &x.p
	st := Step{Kind: Route, Hook: "", RouteTable: TableMain}
	if in {
		switch {
		case x.redirect:
			x.path = sem.ToSelf
		case x.dnat && p.Dst != x.dst:
			x.path = sem.Forwarded
			if !p.Unknown.Has(sem.DAddr) && e.opt.Local != nil && e.opt.Local(p.Dst) {
				x.path = sem.ToSelf
			}
		}
	}
	if x.path == sem.ToSelf {
		p.OutIface = ""
		p.Unknown = p.Unknown.Without(sem.OIf)
		st.RouteTable = TableLocal
	} else {
		rule, rt, known := e.policyRoute(p)
		switch {
		case !known:
			// The mark or the destination is not known: so is the way out.
			p.OutIface, p.Unknown = "", p.Unknown.With(sem.OIf)
		case rt != nil:
			st.RouteTable, st.IPRule, st.IPRoute = rule.Table, rule, rt
			dev := rt.Dev
			if dev == "" && e.opt.Route != nil && rt.Via.IsValid() {
				dev = e.opt.Route(rt.Via)
			}
			e.setOut(p, dev)
		default:
			switch {
			case e.givenKnown && (e.givenOut != "" || p.Dst == e.origDst):
				// The interface the packet came with is the main
				// table's answer (for the destination a dnat gave
				// it too: the caller says where the packet leaves).
				p.OutIface, p.Unknown = e.givenOut, p.Unknown.Without(sem.OIf)
			case e.opt.Route != nil && !p.Unknown.Has(sem.DAddr):
				e.setOut(p, e.opt.Route(p.Dst))
			default:
				e.setOut(p, "")
			}
		}
	}
	x.dst = p.Dst
	x.dnat, x.redirect = false, false
	st.Path, st.Packet = x.path, x.p
	x.steps = e.step(x.steps, st)
	return x
}

func (e *walker) setOut(p *sem.Packet, dev string) {
	if dev == "" {
		p.OutIface, p.Unknown = "", p.Unknown.With(sem.OIf)
		return
	}
	p.OutIface, p.Unknown = dev, p.Unknown.Without(sem.OIf)
}

// policyRoute finds the first ip rule (by priority) of the packet's family
// whose fwmark matches and whose table routes the destination, and that
// route (the longest prefix). known is false when an ip rule's answer
// depends on a mark or destination the walk does not know.
func (e *walker) policyRoute(p *sem.Packet) (rule *ir.IPRule, rt *ir.IPRoute, known bool) {
	af := ir.AFInet
	if e.fam == ir.IPv6 {
		af = ir.AFInet6
	}
	var rules []*ir.IPRule
	for i := range e.routing.Rules {
		if r := &e.routing.Rules[i]; r.Family == af {
			rules = append(rules, r)
		}
	}
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Priority < rules[j].Priority })
	for _, r := range rules {
		if p.Unknown.Has(sem.Mark) && r.Mask != 0 {
			return nil, nil, false
		}
		if (p.Mark^r.Mark)&r.Mask != 0 {
			continue
		}
		if p.Unknown.Has(sem.DAddr) {
			return nil, nil, false
		}
		var best *ir.IPRoute
		for i := range e.routing.Routes {
			x := &e.routing.Routes[i]
			if x.Family == af && x.Table == r.Table && x.Dst.Contains(p.Dst.Unmap()) && (best == nil || x.Dst.Bits() > best.Dst.Bits()) {
				best = x
			}
		}
		if best != nil {
			return r, best, true
		}
		// A table without a route for the destination: the kernel goes
		// on with the next rule.
	}
	return nil, nil, true
}

type endKind int

const (
	endAccept endKind = iota
	endDrop
	endReturn // fell off a user chain, or returned
)

// way is a walk in progress: how it ended so far and the packet's state.
type way struct {
	kind   endKind
	why    string
	by     *ir.Rule
	reject bool
	p      sem.Packet
	path   sem.Path
	// dst is the destination the last routing decision saw (the packet's
	// own before the first one); dnat and redirect record a nat rule's
	// rewrite since, for the next decision.
	dst      netip.Addr
	dnat     bool
	redirect bool
	steps    []Step
}

// addWay adds x unless a way of the same kind, path and packet state is
// there (the first one is kept), so that forks that lead to the same place
// do not multiply.
func addWay(ways []way, x way) []way {
	for _, y := range ways {
		if y.kind == x.kind && y.p == x.p && y.path == x.path && y.reject == x.reject &&
			y.dnat == x.dnat && y.redirect == x.redirect && y.dst == x.dst {
			return ways
		}
	}
	return append(ways, x)
}

type walker struct {
	forks   int // Unknown matches left to follow both ways
	steps   bool
	fam     ir.Family
	opt     Options
	routing *ir.Routing
	hooks   map[policy.Hook][]*ir.Chain // base chains by priority
	// givenOut is the output interface the packet came with, when
	// givenKnown: the main table's answer for origDst, its destination
	// then.
	givenOut   string
	givenKnown bool
	origDst    netip.Addr
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
func (e *walker) matches(r *ir.Rule, pt *sem.Probe) sem.Tri {
	if !r.In(e.fam) {
		return sem.No
	}
	t := sem.Yes
	for _, m := range r.Matches {
		t = sem.And(t, pt.Holds(ir.PolicyCond(m)))
		if t == sem.No {
			return sem.No
		}
	}
	for _, a := range r.Actions {
		// A verdict map's key is a condition too: with no entry for
		// the packet, the rule does not match.
		if vm, ok := a.(*ir.VerdictMap); ok {
			any := sem.No
			for _, en := range vm.Entries {
				switch pt.Holds(ir.PolicyCond(en.Match)) {
				case sem.Yes:
					any = sem.Yes
				case sem.Unknown:
					if any == sem.No {
						any = sem.Unknown
					}
				}
			}
			t = sem.And(t, any)
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

// rules walks c, reached on hook h, from rule i on.
func (e *walker) rules(c *ir.Chain, h policy.Hook, i, depth int, beforeCt bool, x way) []way {
	if depth > maxDepth {
		return giveUp(x, "jumps nested too deep to follow")
	}
	// x does not change in this loop: one probe serves every rule.
	pt := point(x.p, beforeCt).Probe()
	for ; i < len(c.Rules); i++ {
		r := c.Rules[i]
		m := e.matches(r, pt)
		if m == sem.No {
			continue
		}
		y := x
		y.steps = e.step(y.steps, Step{Kind: MatchRule, Hook: h, Table: c.Table.Name, Chain: c.Name, Rule: r, Match: m})
		if m == sem.Unknown {
			if e.forks <= 0 {
				return giveUp(x, "too many undecided matches")
			}
			e.forks--
			out := e.actions(c, h, r, r.Actions, i, depth, beforeCt, y)
			for _, z := range e.rules(c, h, i+1, depth, beforeCt, x) {
				out = addWay(out, z)
			}
			return out
		}
		return e.actions(c, h, r, r.Actions, i, depth, beforeCt, y)
	}
	x.kind = endReturn
	return []way{x}
}

// verdict ends x with a verdict action of rule r.
func verdict(x way, r *ir.Rule, a policy.Action) way {
	x.by = r
	switch a := a.(type) {
	case *ir.Jump:
		panic("sim: verdict of a jump")
	case *policy.Verdict:
		switch a.Kind {
		case policy.Accept:
			x.kind = endAccept
		case policy.Return:
			x.kind = endReturn
			x.by = nil
		default:
			x.kind, x.why = endDrop, "the rule at "+posString(r)
			x.reject = a.Kind == policy.Reject
		}
	}
	return x
}

// actions runs a matching rule's actions, then the rest of the chain if
// none of them ended it.
func (e *walker) actions(c *ir.Chain, h policy.Hook, r *ir.Rule, acts []policy.Action, i, depth int, beforeCt bool, x way) []way {
	p := &x.p
	for k, a := range acts {
		switch a := a.(type) {
		case *policy.Verdict:
			return []way{verdict(x, r, a)}
		case *ir.Jump:
			return e.jump(c, h, r, a, acts[k+1:], i, depth, beforeCt, x)
		case *ir.VerdictMap:
			// matches let the rule through only when an entry may hold:
			// the first entry that holds decides; an undecided one forks.
			var out []way
			pt := point(x.p, beforeCt)
			for _, en := range a.Entries {
				t := sem.Holds(ir.PolicyCond(en.Match), pt)
				if t == sem.No {
					continue
				}
				var ys []way
				if j, ok := en.Verdict.(*ir.Jump); ok {
					ys = e.jump(c, h, r, j, acts[k+1:], i, depth, beforeCt, x)
				} else {
					ys = []way{verdict(x, r, en.Verdict)}
				}
				for _, y := range ys {
					out = addWay(out, y)
				}
				if t == sem.Yes {
					return out
				}
				if e.forks <= 0 {
					return giveUp(x, "too many undecided matches")
				}
				e.forks--
			}
			// No entry holds for sure: the rule does not match.
			for _, z := range e.rules(c, h, i+1, depth, beforeCt, x) {
				out = addWay(out, z)
			}
			return out
		case *policy.NAT:
			before := x.p
			e.nat(&x, h, a)
			x.steps = e.step(x.steps, Step{Kind: NAT, Hook: h, Rule: r, Before: before, Packet: x.p})
			x.kind, x.by = endAccept, r
			return []way{x}
		case *policy.Balance:
			// The kernel picks an endpoint at random: one way each.
			var out []way
			for n, ep := range a.Endpoints {
				if n > 0 {
					if e.forks <= 0 {
						return giveUp(x, "too many undecided matches")
					}
					e.forks--
				}
				y := x
				before := y.p
				e.nat(&y, h, &policy.NAT{Kind: policy.DNAT, AddrLo: ep.Addr(), AddrHi: ep.Addr(), PortLo: ep.Port(), PortHi: ep.Port()})
				y.steps = e.step(y.steps, Step{Kind: NAT, Hook: h, Rule: r, Before: before, Packet: y.p})
				y.kind, y.by = endAccept, r
				out = addWay(out, y)
			}
			return out
		case *policy.Notrack:
			if beforeCt {
				p.CtState = policy.CtUntracked
				p.CtStatus, p.CtMark = 0, 0
				p.Unknown = p.Unknown.Without(sem.CtState).With(sem.CtMark)
				x.steps = e.step(x.steps, Step{Kind: Untrack, Hook: h, Rule: r})
			}
		case *policy.SetMark:
			if a.Ct {
				if p.CtState != policy.CtUntracked {
					p.CtMark, p.Unknown = setBits(p.CtMark, p.Unknown, sem.CtMark, a.Value, a.Mask)
				}
			} else {
				p.Mark, p.Unknown = setBits(p.Mark, p.Unknown, sem.Mark, a.Value, a.Mask)
			}
			x.steps = e.step(x.steps, Step{Kind: SetMark, Hook: h, Rule: r, Mark: p.Mark, CtMark: p.CtMark, Packet: *p})
		case *policy.Connmark:
			switch {
			case p.CtState == policy.CtUntracked:
			case a.Restore:
				p.Mark, p.Unknown = copyBits(p.Mark, p.CtMark, p.Unknown, sem.Mark, sem.CtMark, a.Mask)
			default:
				p.CtMark, p.Unknown = copyBits(p.CtMark, p.Mark, p.Unknown, sem.CtMark, sem.Mark, a.Mask)
			}
			x.steps = e.step(x.steps, Step{Kind: SetMark, Hook: h, Rule: r, Mark: p.Mark, CtMark: p.CtMark, Packet: *p})
		}
	}
	return e.rules(c, h, i+1, depth, beforeCt, x)
}

// jump enters a's target; a way that comes back runs the rest of the
// rule's actions (rest) and of the chain.
func (e *walker) jump(c *ir.Chain, h policy.Hook, r *ir.Rule, a *ir.Jump, rest []policy.Action, i, depth int, beforeCt bool, x way) []way {
	x.steps = e.step(x.steps, Step{Kind: JumpTo, Hook: h, Table: a.Target.Table.Name, Chain: a.Target.Name, Rule: r})
	var out []way
	for _, y := range e.rules(a.Target, h, 0, depth+1, beforeCt, x) {
		if y.kind != endReturn || a.Goto {
			// A goto's fall-through returns from this chain too.
			out = addWay(out, y)
			continue
		}
		// Came back: the rest of this rule's actions and of this chain,
		// in the state the sub-chain left.
		y.steps = e.step(y.steps, Step{Kind: ReturnFrom, Hook: h, Table: c.Table.Name, Chain: c.Name})
		for _, z := range e.actions(c, h, r, rest, i, depth, beforeCt, y) {
			out = addWay(out, z)
		}
	}
	return out
}

// nat applies a nat rule's rewrite on hook h to x. What the kernel picks
// from a range (an address of several, a port of several, the address of
// the output interface for masquerade, of the input interface for a
// redirect in prerouting) becomes Unknown.
func (e *walker) nat(x *way, h policy.Hook, a *policy.NAT) {
	p := &x.p
	// The binding is made now: the connection's status says so to every
	// later chain (ct status dnat, snat).
	if a.Kind == policy.DNAT || a.Kind == policy.Redirect {
		p.CtStatus |= policy.StatusDNAT
	} else {
		p.CtStatus |= policy.StatusSNAT
	}
	switch a.Kind {
	case policy.DNAT:
		if a.AddrLo.IsValid() {
			setAddr(&p.Dst, &p.Unknown, sem.DAddr, a.AddrLo, a.AddrHi)
		}
		setPort(&p.DstPort, &p.Unknown, sem.DPort, p.Proto, a.PortLo, a.PortHi)
		x.dnat = true
	case policy.Redirect:
		if h == policy.Output {
			lo := netip.MustParseAddr("127.0.0.1")
			if e.fam == ir.IPv6 {
				lo = netip.IPv6Loopback()
			}
			p.Dst, p.Unknown = lo, p.Unknown.Without(sem.DAddr)
		} else {
			// The primary address of the input interface.
			p.Unknown = p.Unknown.With(sem.DAddr)
		}
		setPort(&p.DstPort, &p.Unknown, sem.DPort, p.Proto, a.PortLo, a.PortHi)
		x.redirect = true
	case policy.SNAT:
		if a.AddrLo.IsValid() {
			setAddr(&p.Src, &p.Unknown, sem.SAddr, a.AddrLo, a.AddrHi)
		}
		setPort(&p.SrcPort, &p.Unknown, sem.SPort, p.Proto, a.PortLo, a.PortHi)
	case policy.Masquerade:
		// The address of the output interface.
		p.Unknown = p.Unknown.With(sem.SAddr)
		setPort(&p.SrcPort, &p.Unknown, sem.SPort, p.Proto, a.PortLo, a.PortHi)
	}
}

// setAddr writes lo..hi into an address: known when it is one address.
func setAddr(dst *netip.Addr, unknown *sem.Dims, d sem.Dim, lo, hi netip.Addr) {
	if !hi.IsValid() {
		hi = lo
	}
	*dst = lo
	if lo == hi {
		*unknown = unknown.Without(d)
	} else {
		*unknown = unknown.With(d)
	}
}

// setPort writes lo..hi into a port of a protocol with ports (0: none
// given, the port stays).
func setPort(dst *uint16, unknown *sem.Dims, d sem.Dim, proto policy.Proto, lo, hi uint16) {
	if lo == 0 || !proto.HasPorts() {
		return
	}
	if hi == 0 {
		hi = lo
	}
	*dst = lo
	if lo == hi {
		*unknown = unknown.Without(d)
	} else {
		*unknown = unknown.With(d)
	}
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
