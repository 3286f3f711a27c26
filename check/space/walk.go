package space

import (
	"slices"

	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// Facts is what the analysis found about one rule, over every context in
// which it runs: each address family the rule exists in, times each path of
// jumps by which packets reach its chain from a base chain.
type Facts struct {
	Rule  *policy.Rule
	Chain *policy.Chain // the chain holding Rule
	// Verdict is the rule's terminal action as compared by the analysis
	// ("accept", "reject with tcp-reset", "goto web", "dnat to 10.0.0.1:80"),
	// "" for a rule with only non-terminal actions.
	Verdict string
	// Contexts counts the contexts in which some packet reached the rule's
	// chain; DeadIn those in which no packet reaching the rule matched it.
	Contexts, DeadIn int
	// ByEntry counts the dead contexts in which the packets entering the
	// chain (through the jump that reached it) already exclude the rule.
	ByEntry int
	// Covers lists, for the first context in which the rule was dead, the
	// earlier rules that decided its packets, each once, in rule order; a
	// jump rule appears when the chain's entry conditions alone exclude it.
	Covers []Cover
	// MinCovers is a subset of Covers that alone covers the rule's
	// packets, found by dropping covers while the rest still cover them.
	MinCovers []Cover
	// SameVerdict reports that in every dead context every packet of the
	// rule was decided with the rule's own verdict.
	SameVerdict bool
	// SameCover reports that in every dead context the earlier rules with
	// the rule's own verdict cover all its packets by themselves, though
	// rules with another verdict may take some of them first: the rule
	// only repeats them, and moving it up would override those rules.
	// SameVerdict implies it.
	SameCover bool
	// SameCovers lists, for the first dead context, a small set of earlier
	// rules with the rule's verdict that together cover it (when
	// SameCover holds there).
	SameCovers []Cover
	// PolicyIn counts the contexts in which the rule is live, has the
	// chain's policy as its verdict, and no later rule treats any of its
	// packets differently: removing it changes nothing there.
	PolicyIn int
	// Correlated is the first earlier rule found that overlaps this one
	// crosswise with another verdict, or nil.
	Correlated *Correlation
	// Unmodeled says why the rule "may not match" ("" when exact); such a
	// rule never covers another.
	Unmodeled string
	// Incomplete is set when some context of the rule could not be walked
	// (a jump loop, or the limits on depth and contexts); no finding about
	// it is then reliable.
	Incomplete bool
}

// Dead reports that no packet can ever match the rule.
func (f *Facts) Dead() bool { return f.Contexts > 0 && f.DeadIn == f.Contexts && !f.Incomplete }

// PolicyRedundant reports that the rule is live but removing it changes no
// verdict, because the chain's policy (or the return at the end of a user
// chain) treats its packets the same way.
func (f *Facts) PolicyRedundant() bool {
	return f.Contexts > 0 && f.PolicyIn == f.Contexts && !f.Incomplete
}

// Cover is an earlier rule that decided some packets of a dead rule.
type Cover struct {
	Rule    *policy.Rule
	Chain   *policy.Chain // the chain holding Rule
	Verdict string
}

// Correlation is an order-sensitive overlap with an earlier rule.
type Correlation struct {
	With        *policy.Rule
	WithVerdict string
	// Example is a packet of the overlap that the earlier rule decides,
	// given by the fields either rule restricts, like a rule's conditions:
	// "tcp saddr 198.51.100.66 dport 23".
	Example string
}

// Result holds the Facts of every rule that some packet can reach.
type Result struct {
	facts map[*policy.Rule]*Facts
	order []*Facts
}

// Facts returns the facts of r, or nil when no context reaches it.
func (r *Result) Facts(rule *policy.Rule) *Facts { return r.facts[rule] }

// All returns the facts in program order (tables, chains, rules).
func (r *Result) All() []*Facts { return r.order }

// Limits on the walk; beyond them rules are marked Incomplete.
const (
	maxDepth         = 32
	maxChainContexts = 1024
	subtractBudget   = 1 << 15
)

// Analyze walks every base chain of p, in both address families, from all
// packets of its hook, following jumps and gotos.
func Analyze(p *policy.Program) *Result {
	res := &Result{facts: map[*policy.Rule]*Facts{}}
	for _, v6 := range []bool{false, true} {
		w := &walker{s: NewSpace(v6), res: res, chains: map[*policy.Chain]*chainInfo{},
			onStack: map[*policy.Chain]bool{}, walks: map[*policy.Chain]int{}}
		for _, t := range p.Tables {
			for _, c := range t.Chains {
				if c.IsBase() {
					w.walk(&frame{ci: w.info(c), scope: Region{w.s.Full()}}, false, 0)
				}
			}
		}
	}
	for _, t := range p.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				if f := res.facts[r]; f != nil {
					res.order = append(res.order, f)
				}
			}
		}
	}
	return res
}

type walker struct {
	s       *Space
	res     *Result
	chains  map[*policy.Chain]*chainInfo
	onStack map[*policy.Chain]bool
	walks   map[*policy.Chain]int
}

type chainInfo struct {
	ch     *policy.Chain
	rules  []*ruleInfo // nil where the rule does not exist in this family
	idx    *index
	policy string
	// firstOut is the position of the first return or goto, -1 if none.
	firstOut int
}

func (w *walker) info(c *policy.Chain) *chainInfo {
	if ci := w.chains[c]; ci != nil {
		return ci
	}
	ci := &chainInfo{ch: c, rules: make([]*ruleInfo, len(c.Rules)), policy: "return", firstOut: -1}
	w.chains[c] = ci
	if c.Policy != nil {
		ci.policy = c.Policy.Kind.String()
	}
	for i, r := range c.Rules {
		if ri, ok, _ := lowerRule(w.s, r); ok {
			ri.pos, ri.chain = i, c
			ci.rules[i] = ri
			if ci.firstOut < 0 && (ri.verdict == "return" || ri.kind == actGoto) {
				ci.firstOut = i
			}
		}
	}
	// A jump is indexed by its region cut to what its target can do with
	// the packets, so that queries meet only the jumps that matter. (A goto
	// takes all its packets out of the chain: it keeps its whole region.)
	for _, ri := range ci.rules {
		if ri == nil || ri.kind != actJump {
			continue
		}
		bb := w.reach(ri.target, map[*policy.Chain]bool{c: true})
		ri.indexed = ri.loose.IntersectCube(&bb)
	}
	ci.idx = newIndex(w.s, ci.rules)
	return ci
}

// maxHullIntervals bounds the per-dimension sets of a reach cube.
const maxHullIntervals = 64

// reach returns a cube holding every packet on which chain c (with the
// chains it calls) can do anything but return unchanged: the per-dimension
// union of the regions of its rules, leaving out plain returns. It depends
// only on the policy, not on the context.
func (w *walker) reach(c *policy.Chain, seen map[*policy.Chain]bool) Cube {
	if seen[c] {
		return w.s.Full()
	}
	seen[c] = true
	defer delete(seen, c)
	var proj [NDim][]iv
	add := func(cb *Cube) {
		for d := range NDim {
			proj[d] = append(proj[d], cb[d]...)
		}
	}
	for _, r := range c.Rules {
		ri, ok, _ := lowerRule(w.s, r)
		if !ok || ri.verdict == "return" && !ri.effects {
			continue
		}
		for k := range ri.loose {
			if ri.target == nil {
				add(&ri.loose[k])
				continue
			}
			bb := w.reach(ri.target, seen)
			if x, ok := ri.loose[k].Intersect(&bb); ok {
				add(&x)
			}
		}
	}
	var out Cube
	for d := range NDim {
		set := sem.Normalize(proj[d])
		if len(set) > maxHullIntervals {
			set = sem.Span(set[0].Lo, set[len(set)-1].Hi)
		}
		if set.Empty() {
			set = ivs{} // nothing reaches: an empty (not nil) set
		}
		out[d] = set
	}
	return out
}

func (w *walker) facts(ri *ruleInfo) *Facts {
	f := w.res.facts[ri.r]
	if f == nil {
		f = &Facts{Rule: ri.r, Chain: ri.chain, Verdict: ri.verdict, SameVerdict: true, SameCover: true, Unmodeled: ri.unmodeled}
		w.res.facts[ri.r] = f
	}
	if f.Unmodeled == "" {
		f.Unmodeled = ri.unmodeled
	}
	return f
}

// piece is a set of packets decided by a rule.
type piece struct {
	c       *Cube
	by      *ruleInfo
	verdict string
}

// markIncomplete flags every rule reachable from c.
func (w *walker) markIncomplete(c *policy.Chain, seen map[*policy.Chain]bool) {
	if seen[c] {
		return
	}
	seen[c] = true
	for _, ri := range w.info(c).rules {
		if ri == nil {
			continue
		}
		w.facts(ri).Incomplete = true
		if ri.target != nil {
			w.markIncomplete(ri.target, seen)
		}
	}
}

// frame is one chain being walked in one context. Its scope is the
// intersection of the regions of the jumps on the way from the base chain:
// the packets that can enter it are the scope minus what the callers
// decided before their jumps, which is never materialised (it fragments
// badly); instead each rule's own region is intersected with the scope and
// the callers' earlier deciders that meet it are subtracted, locally.
type frame struct {
	parent *frame
	ci     *chainInfo
	at     int // position of the calling rule in parent
	via    *ruleInfo
	scope  Region
	cov    [][]piece // per position: what the rule takes out of the chain
}

// walk evaluates fr's chain. dirty says an earlier action may have
// rewritten the marks (all regions are in the coordinates of the packet as
// it entered the base chain). It returns the packets the chain decides for
// good (not by return), possibly overlapping packets its callers decided
// earlier, and whether it may rewrite marks.
func (w *walker) walk(fr *frame, dirty bool, depth int) ([]piece, bool) {
	ci := fr.ci
	w.walks[ci.ch]++
	w.onStack[ci.ch] = true
	defer delete(w.onStack, ci.ch)
	n := len(ci.rules)
	fr.cov = make([][]piece, n)
	qs := make([]Region, n)
	hits := make([]Region, n)
	hitDone := make([]bool, n)
	hitExact := make([]bool, n)
	// hit returns the packets that reach rule i and match it, computed on
	// first use; exact is false when the subtraction ran out of budget and
	// the result is an over-approximation.
	hit := func(i int) (Region, bool) {
		if !hitDone[i] {
			hitDone[i] = true
			ps := pieces(fr, i, w.deciders(fr, i, qs[i], nil))
			budget := subtractBudget
			var h Region
			for k := range qs[i] {
				h = append(h, w.s.SubtractAll(qs[i][k], ps, &budget)...)
			}
			hits[i], hitExact[i] = h, budget > 0
		}
		return hits[i], hitExact[i]
	}
	regions := make([]Region, n)
	live := make([]bool, n)
	exactAt := make([]bool, n)
	var decided []piece
	var groups [][]int
	for i, ri := range ci.rules {
		if ri == nil {
			continue
		}
		f := w.facts(ri)
		f.Contexts++
		region, exact := ri.region, ri.exact
		if dirty && ri.usesMark {
			region, exact = ri.loose, false
		}
		regions[i], exactAt[i] = region, exact
		q := fr.scope.Intersect(region)
		if q.Empty() {
			f.DeadIn++
			f.ByEntry++
			if f.DeadIn == 1 && fr.via != nil {
				f.Covers = []Cover{{fr.via.r, fr.via.chain, fr.via.verdict}}
			}
			f.SameVerdict, f.SameCover = false, false
			continue
		}
		qs[i] = q
		// A jump is judged first on the packets its target may act on: a
		// broad jump (a whole /16) meets many earlier rules that its
		// target does not care about. Only when none of those is left is
		// the whole jump region asked, to tell "no effect" from "dead".
		upTo := i // the rules of fr that can decide packets of q lie before upTo
		switch {
		case w.pointLive(fr, i, q):
			live[i] = true
		case w.contained(fr, i, q, &upTo):
			// Dead: one earlier rule decides every packet.
		case ri.kind == actJump:
			qr := q.Intersect(ri.indexed)
			groups = w.deciders(fr, i, qr, groups)
			if !w.anyLive(qr, pieces(fr, i, groups)) {
				groups = w.deciders(fr, i, q, groups)
				live[i] = w.anyLive(q, pieces(fr, i, groups))
			} else {
				live[i] = true
			}
		default:
			groups = w.deciders(fr, i, q, groups)
			live[i] = w.anyLive(q, pieces(fr, i, groups))
		}
		if !live[i] {
			groups = w.deciders(fr, upTo, q, groups)
			f.DeadIn++
			w.deadTags(f, ri, q, fr, i, groups)
			continue
		}
		if exact && (ri.kind == actVerdict || ri.kind == actGoto) && f.Correlated == nil {
			own := w.candidates(ci, q, nil, 0, i, func(j int) bool { return fr.cov[j] != nil })
			w.correlate(f, ri, ci, own, hit, exactAt)
		}
		switch ri.kind {
		case actVerdict:
			if exact {
				fr.cov[i] = tag(region, ri)
				if ri.verdict != "return" {
					decided = append(decided, w.decisive(fr, i, fr.cov[i])...)
				}
			}
		case actJump, actGoto:
			if ri.setsMark {
				dirty = true
			}
			if ri.kind == actGoto && exact {
				fr.cov[i] = tag(region, ri)
			}
			sub, subDirty, ok := w.call(fr, i, ri, region, dirty, depth)
			dirty = dirty || subDirty
			if !ok || !exact {
				break
			}
			var in []piece
			for _, p := range sub {
				if x := Region([]Cube{*p.c}).Intersect(region); !x.Empty() {
					for k := range x {
						in = append(in, piece{&x[k], p.by, p.verdict})
					}
				}
			}
			if ri.kind == actJump {
				fr.cov[i] = in
			}
			decided = append(decided, w.decisive(fr, i, in)...)
		case actNone:
			if ri.setsMark {
				dirty = true
			}
		}
	}
	w.policyRedundant(fr, qs, live, regions, exactAt)
	return decided, dirty
}

// pointLive tries a few packets of q (its lowest and highest corners) and
// reports whether one of them escapes every earlier decider. Each try is a
// stabbing query: it meets only the rules that hold that packet, so a live
// rule that overlaps many earlier ones (a broad return, say) costs
// O(log n) instead of a walk over all of them. False means "don't know".
func (w *walker) pointLive(fr *frame, i int, q Region) bool {
	for k := range q {
		for _, hi := range []bool{false, true} {
			pt := corner(&q[k], hi)
			if !w.covered(fr, i, &pt) {
				return true
			}
		}
	}
	return false
}

// corner returns the one-packet cube at c's lowest corner, or with hi its
// highest.
func corner(c *Cube, hi bool) Cube {
	var pt Cube
	for d := range NDim {
		v := c[d].Min()
		if hi {
			v = c[d][len(c[d])-1].Hi
		}
		pt[d] = sem.Single(v)
	}
	return pt
}

// covered reports whether a decider before position i of fr (or before the
// calls leading to fr) holds the one-packet cube pt.
func (w *walker) covered(fr *frame, i int, pt *Cube) bool {
	limit := i
	for f := fr; f != nil; f = f.parent {
		found := false
		lim := limit
		f.ci.idx.query(w.s, pt, 0, lim, func(j int) bool { return f.cov[j] != nil }, func(j int, _ *Cube) {
			if found {
				return
			}
			for _, p := range f.cov[j] {
				if p.c.Intersects(pt) {
					found = true
					return
				}
			}
		})
		if found {
			return true
		}
		limit = f.at
	}
	return false
}

// contained reports whether each cube of q lies inside the coverage of one
// rule of fr before position i, and sets upTo past the last of those rules:
// the rules after it meet none of q's packets. The candidates are those
// holding q's lowest corner (a stabbing query), so this is cheap; rules
// covered by a union are left to the exact subtraction. It is what keeps a
// rule repeated many times (a blocklist drop in every section) from being
// compared with every rule between the copies.
func (w *walker) contained(fr *frame, i int, q Region, upTo *int) bool {
	last := -1
	for k := range q {
		lo := corner(&q[k], false)
		best := -1
		fr.ci.idx.query(w.s, &lo, 0, i, func(j int) bool { return fr.cov[j] != nil }, func(j int, _ *Cube) {
			if best >= 0 && best < j {
				return
			}
			for _, p := range fr.cov[j] {
				if p.c.Contains(&q[k]) {
					best = j
					return
				}
			}
		})
		if best < 0 {
			return false
		}
		last = max(last, best)
	}
	*upTo = last + 1
	return true
}

// anyLive reports whether some packet of q escapes the cubes ps.
func (w *walker) anyLive(q Region, ps []*Cube) bool {
	budget := subtractBudget
	for k := range q {
		if w.s.Witness(&q[k], ps) || w.s.AnyLeft(q[k], ps, &budget) {
			return true
		}
	}
	return false
}

// deciders fills groups with, for each frame from the base chain down to
// fr, the sorted positions of the rules before the call (before i in fr)
// whose coverage meets q, of rules with the same region only the first.
func (w *walker) deciders(fr *frame, i int, q Region, groups [][]int) [][]int {
	var chain []*frame
	for f := fr; f != nil; f = f.parent {
		chain = append(chain, f)
	}
	groups = groups[:0]
	for k := len(chain) - 1; k >= 0; k-- {
		f := chain[k]
		limit := i
		if k > 0 {
			limit = chain[k-1].at
		}
		groups = append(groups, w.candidates(f.ci, q, nil, 0, limit, func(j int) bool { return f.cov[j] != nil }))
	}
	return groups
}

// pieces lists the coverage of the deciders, outermost chain first.
func pieces(fr *frame, i int, groups [][]int) []*Cube {
	var frames []*frame
	for f := fr; f != nil; f = f.parent {
		frames = append(frames, f)
	}
	var ps []*Cube
	for g, js := range groups {
		f := frames[len(frames)-1-g]
		for _, j := range js {
			for _, p := range f.cov[j] {
				ps = append(ps, p.c)
			}
		}
	}
	return ps
}

// decisive removes from ps the packets that an earlier rule of fr's chain
// sends out of it without a decision (return, goto, or a return that may
// not match): those never reach rule i.
func (w *walker) decisive(fr *frame, i int, ps []piece) []piece {
	if fr.ci.firstOut < 0 || fr.ci.firstOut >= i {
		return ps
	}
	var out []piece
	for _, p := range ps {
		q := Region{*p.c}
		cands := w.candidates(fr.ci, q, nil, 0, i, func(j int) bool {
			rj := fr.ci.rules[j]
			return rj.verdict == "return" || rj.kind == actGoto
		})
		if len(cands) == 0 {
			out = append(out, p)
			continue
		}
		var cs []*Cube
		for _, j := range cands {
			for k := range fr.ci.rules[j].loose {
				cs = append(cs, &fr.ci.rules[j].loose[k])
			}
		}
		for _, c := range w.s.SubtractAll(*p.c, cs, nil) {
			out = append(out, piece{&c, p.by, p.verdict})
		}
	}
	return out
}

func tag(r Region, ri *ruleInfo) []piece {
	out := make([]piece, len(r))
	for k := range r {
		out[k] = piece{&r[k], ri, ri.verdict}
	}
	return out
}

// call walks the target of a jump or goto rule at position i of fr for
// the packets that reach it; ok is false when it could not be walked.
func (w *walker) call(fr *frame, i int, ri *ruleInfo, region Region, dirty bool, depth int) ([]piece, bool, bool) {
	t := ri.target
	if t == nil {
		return nil, true, false
	}
	if w.onStack[t] || depth >= maxDepth || w.walks[t] >= maxChainContexts {
		w.markIncomplete(t, map[*policy.Chain]bool{})
		return nil, true, false
	}
	sub := &frame{parent: fr, ci: w.info(t), at: i, via: ri, scope: fr.scope.Intersect(region)}
	dec, subDirty := w.walk(sub, dirty, depth+1)
	return dec, subDirty, true
}

// candidates returns, sorted and without duplicates, the positions in
// [lo, hi) of the rules of ci whose region meets q and that keep passes, of
// rules with the same region only the first (see index.query).
func (w *walker) candidates(ci *chainInfo, q Region, out []int, lo, hi int, keep func(int) bool) []int {
	for k := range q {
		ci.idx.query(w.s, &q[k], lo, hi, keep, func(j int, _ *Cube) { out = append(out, j) })
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// deadTags records which earlier rules decided the packets of a dead rule,
// taking them in the order packets meet them (the callers' rules before
// their jumps first) so that each packet is credited to the rule that
// decides it first.
func (w *walker) deadTags(f *Facts, ri *ruleInfo, q Region, fr *frame, i int, groups [][]int) {
	var frames []*frame
	for f := fr; f != nil; f = f.parent {
		frames = append(frames, f)
	}
	rem := slices.Clone(q)
	var covers []Cover
	var took [][]*Cube // per cover, the pieces that decided packets of q
	same := true
	for g, js := range groups {
		fg := frames[len(frames)-1-g]
		for _, j := range js {
			for _, p := range fg.cov[j] {
				if len(rem) == 0 {
					break
				}
				var next Region
				hit := false
				for k := range rem {
					if !rem[k].Intersects(p.c) {
						next = append(next, rem[k])
						continue
					}
					hit = true
					next = append(next, rem[k].Minus(p.c)...)
				}
				rem = next
				if hit {
					if p.verdict != ri.verdict || ri.kind == actNone {
						same = false
					}
					k := slices.IndexFunc(covers, func(c Cover) bool { return c.Rule == p.by.r })
					if k < 0 {
						k = len(covers)
						covers = append(covers, Cover{p.by.r, p.by.chain, p.verdict})
						took = append(took, nil)
					}
					took[k] = append(took[k], p.c)
				}
			}
		}
	}
	if !same {
		f.SameVerdict = false
	}
	first := f.Covers == nil
	if first {
		f.Covers = covers
		f.MinCovers = w.minimize(q, covers, took)
	}
	switch {
	case f.SameCover && same && ri.kind != actNone:
		// Every piece that decided packets of q has the rule's verdict:
		// they cover q by themselves, no subtraction needed.
		if first {
			f.SameCovers = f.MinCovers
		}
	case f.SameCover:
		sc, scTook, ok := w.sameCover(ri, q, frames, groups)
		f.SameCover = ok
		if ok && first {
			f.SameCovers = w.minimize(q, sc, scTook)
		}
	}
}

// sameCover reports whether the pieces of the deciders with ri's verdict
// cover q by themselves, and lists their rules with the pieces of each.
func (w *walker) sameCover(ri *ruleInfo, q Region, frames []*frame, groups [][]int) ([]Cover, [][]*Cube, bool) {
	if ri.kind == actNone || ri.verdict == "" {
		return nil, nil, false
	}
	var covers []Cover
	var took [][]*Cube
	var all []*Cube
	for g, js := range groups {
		fg := frames[len(frames)-1-g]
		for _, j := range js {
			for _, p := range fg.cov[j] {
				if p.verdict != ri.verdict || !slices.ContainsFunc(q, func(c Cube) bool { return c.Intersects(p.c) }) {
					continue
				}
				all = append(all, p.c)
				k := slices.IndexFunc(covers, func(c Cover) bool { return c.Rule == p.by.r })
				if k < 0 {
					k = len(covers)
					covers = append(covers, Cover{p.by.r, p.by.chain, p.verdict})
					took = append(took, nil)
				}
				took[k] = append(took[k], p.c)
			}
		}
	}
	budget := subtractBudget
	for k := range q {
		if w.s.AnyLeft(q[k], all, &budget) || budget <= 0 {
			return nil, nil, false
		}
	}
	return covers, took, true
}

// maxMinimize bounds the covers that minimize tries to drop one by one.
const maxMinimize = 32

// minimize drops covers, earliest first, while the rest still cover q, so
// that the notes of a finding name a small set of rules that hide it
// rather than every rule that takes a corner of it (loopback, conntrack).
func (w *walker) minimize(q Region, covers []Cover, took [][]*Cube) []Cover {
	if len(covers) <= 1 || len(covers) > maxMinimize {
		return covers
	}
	keep := make([]bool, len(covers))
	for k := range keep {
		keep[k] = true
	}
	coveredBy := func() bool {
		var cs []*Cube
		for k, ok := range keep {
			if ok {
				cs = append(cs, took[k]...)
			}
		}
		budget := subtractBudget
		for k := range q {
			if w.s.AnyLeft(q[k], cs, &budget) {
				return false
			}
		}
		return true
	}
	for k := range covers {
		keep[k] = false
		if !coveredBy() {
			keep[k] = true
		}
	}
	var out []Cover
	for k, ok := range keep {
		if ok {
			out = append(out, covers[k])
		}
	}
	return out
}

// correlate looks for an earlier terminal rule with another verdict that
// crosses this one: neither contains the other, and some packet of the
// overlap reaches the earlier rule (so swapping the two would change its
// verdict). The containment is judged as Al-Shaer and Hamed define
// correlation, field by field, where a field one rule leaves open is wider
// than the other's ("saddr 198.51.100.0/24 tcp dport 22 accept" and a later
// "saddr 198.51.100.66 proto tcp drop" cross: the first is wider in
// addresses, the second in ports), with two limits that keep the ordinary
// guards quiet: a field outside the address/port 5-tuple counts only when
// both rules restrict it ("ct state invalid drop" before "tcp dport 443
// accept" is a guard, not a crossing), and the rules must share a
// restricted field other than the protocol: an address or port both
// restrict, or another field both restrict differently (a blocklist
// "saddr 192.0.2.1 drop" before "tcp dport 22 accept" shares none).
func (w *walker) correlate(f *Facts, ri *ruleInfo, ci *chainInfo, cands []int, hit func(int) (Region, bool), exactAt []bool) {
	if len(ri.region) != 1 {
		return
	}
	b := &ri.region[0]
	for _, j := range cands {
		rj := ci.rules[j]
		if !exactAt[j] || rj.kind != actVerdict && rj.kind != actGoto || rj.verdict == ri.verdict ||
			rj.verdict == "return" || len(rj.region) != 1 {
			continue
		}
		a := &rj.region[0]
		if !w.crosses(a, b) {
			continue
		}
		hj, ok := hit(j)
		if !ok {
			continue // not known exactly: no example to give
		}
		for _, h := range hj.IntersectCube(b) {
			var shown [NDim]bool
			for d := range NDim {
				shown[d] = !w.s.IsFull(a, Dim(d)) || !w.s.IsFull(b, Dim(d))
			}
			f.Correlated = &Correlation{With: rj.r, WithVerdict: rj.verdict, Example: w.s.Sample(&h).Fields(shown)}
			return
		}
	}
}

// tuple reports whether d is a field of the address/port 5-tuple.
func tuple(d Dim) bool { return d <= DPort }

// crosses reports whether cubes a and b cross in the sense of correlate.
func (w *walker) crosses(a, b *Cube) bool {
	aOut, bOut, shared := false, false, false
	for d := range NDim {
		aFull, bFull := w.s.IsFull(a, Dim(d)), w.s.IsFull(b, Dim(d))
		if aFull && bFull || (aFull || bFull) && !tuple(Dim(d)) {
			continue
		}
		aSub, bSub := a[d].Subset(b[d]), b[d].Subset(a[d])
		aOut = aOut || !aSub
		bOut = bOut || !bSub
		if !aFull && !bFull && Dim(d) != Proto && (tuple(Dim(d)) || !aSub || !bSub) {
			shared = true
		}
	}
	return aOut && bOut && shared
}

// policyRedundant finds the live rules whose verdict is the chain's policy
// and whose packets, were the rule removed, would meet no later rule that
// treats them differently (another verdict, a jump, any side effect, or a
// rule that may not match). It follows the packets down the later rules
// that meet them, removing those taken by same-verdict rules.
func (w *walker) policyRedundant(fr *frame, qs []Region, live []bool, regions []Region, exactAt []bool) {
	ci := fr.ci
	var cands []int
	differs := func(j int) bool {
		rj := ci.rules[j]
		return rj.kind != actVerdict || rj.verdict != ci.policy || rj.effects || !exactAt[j]
	}
	for i, ri := range ci.rules {
		if ri == nil || ri.kind != actVerdict || ri.verdict != ci.policy || ri.effects || !exactAt[i] || !live[i] {
			continue
		}
		// Cheap first: if no later rule that meets the rule's packets at
		// all treats them differently, the rule is redundant.
		cands = w.candidates(ci, qs[i], cands[:0], i+1, len(ci.rules), func(j int) bool { return regions[j] != nil })
		if !slices.ContainsFunc(cands, differs) {
			w.facts(ri).PolicyIn++
			continue
		}
		// Otherwise follow the rule's packets (those no earlier rule
		// decides) down the later rules: those with the same verdict take
		// theirs; the first that treats some differently decides.
		ps := pieces(fr, i, w.deciders(fr, i, qs[i], nil))
		depends := false
		for _, j := range cands {
			if !differs(j) {
				for k := range regions[j] {
					ps = append(ps, &regions[j][k])
				}
				continue
			}
			budget := subtractBudget
			for _, c := range qs[i].Intersect(regions[j]) {
				if w.s.Witness(&c, ps) || w.s.AnyLeft(c, ps, &budget) {
					depends = true
					break
				}
			}
			if depends {
				break
			}
		}
		if !depends {
			w.facts(ri).PolicyIn++
		}
	}
}
